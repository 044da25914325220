"""``apigate drift``: how the configured (live or embedded mock) services differ from their pinned contracts.

Each service's own published document is fetched (``<base>/openapi.json``; a live Keycloak's OpenID discovery
document) and compared with the pinned contract (pinned = OLD, live = NEW). A service that publishes none
(Basejump, usually) is reported as such. Exit codes: 0 no drift at or above ``--fail-on``; 1 drift; 2 a service
cannot be reached, or configuration/document errors.
"""

from __future__ import annotations

import argparse

HELP = "compare what the live services publish (OpenAPI / OIDC discovery) with the pinned contracts"


def configure(parser: argparse.ArgumentParser) -> None:
    from apigate.commands.diff import add_output_arguments

    parser.add_argument("--api", choices=("codemie", "basejump", "keycloak", "all"), default="all",
                        help="which service to check (default: all)")
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import contextlib
    import json
    import sys
    from collections.abc import Iterator

    from apigate.commands.diff import fails
    from apigate.config import Target, load_target
    from apigate.diff import group_findings, render
    from apigate.diff.drift import APIS, DriftReport, check_drift
    from apigate.errors import ConfigError
    from apigate.redact import redact

    apis = APIS if args.api == "all" else (args.api,)
    target = load_target()

    @contextlib.contextmanager
    def resolved(target: Target) -> Iterator[Target]:
        live = {"codemie": target.codemie.live, "keycloak": target.keycloak.live, "basejump": target.basejump.live}
        if all(live[api] for api in apis):
            yield target
            return
        try:
            from apigate.mocks import running_mock
        except ImportError:  # pragma: no cover - the mocks ship with apigate
            raise ConfigError("the embedded mock is not available; point APIGATE_*_URL at live services") from None
        with running_mock() as server:
            print(f"apigate drift: embedded mock at {server.origin}", file=sys.stderr, flush=True)
            yield load_target(server.origin)

    reports: list[DriftReport] = []

    def emit_json() -> None:
        payload = {"apis": [
            {"api": r.api, "pinned": r.pinned, "live": r.live, "note": r.note,
             "summary": {s: sum(1 for f in r.findings if f.severity == s) for s in ("breaking", "warning", "compatible")},
             "changes": [c.to_dict() for c in group_findings(r.findings)],  # grouped by cause, as apigate diff
             "findings": [f.to_dict() for f in r.findings]}
            for r in reports
        ]}
        sys.stdout.write(redact(json.dumps(payload, indent=2, ensure_ascii=False)) + "\n")

    try:
        with resolved(target) as current:
            for api in apis:
                report = check_drift(api, current)
                reports.append(report)
                if args.format == "json":
                    continue
                heading = f"{api}: {report.live} vs pinned {report.pinned}"
                sys.stdout.write(redact(f"## {heading}\n\n" if args.format == "markdown" else f"== {heading}\n"))
                if report.note:
                    sys.stdout.write(redact(report.note) + "\n\n")
                else:
                    sys.stdout.write(render(report.findings, args.format, old=report.pinned, new=report.live) + "\n")
                sys.stdout.flush()
    finally:
        if args.format == "json":
            emit_json()
    return 1 if any(fails(list(r.findings), args.fail_on) for r in reports) else 0
