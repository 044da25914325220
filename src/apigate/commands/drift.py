"""``apigate drift``: how the configured (live or embedded mock) services differ from their pinned contracts.

Each service's own published document is fetched (``<base>/openapi.json``; a live Keycloak's OpenID discovery
document) and compared with the pinned contract (pinned = OLD, live = NEW). A service that publishes none
(Basejump, usually) is reported as such. Exit codes: 0 no drift at or above ``--fail-on``; 1 drift; 2 a service
cannot be reached, or configuration/document errors.

Known drift (a FastAPI-generated document declares things the server does not do) is accepted by ``[[accept]]``
entries with a ``rule`` (``--accept FILE``, or apigate.toml's): accepted findings are listed as known and do not
fail; entries that match nothing are listed as fixed; an expired entry fails (:mod:`apigate.accept`).
"""

from __future__ import annotations

import argparse

HELP = "compare what the live services publish (OpenAPI / OIDC discovery) with the pinned contracts"


def configure(parser: argparse.ArgumentParser) -> None:
    from apigate.commands.contract import add_verdict_arguments
    from apigate.commands.diff import add_output_arguments

    parser.add_argument("--api", choices=("codemie", "basejump", "keycloak", "all"), default="all",
                        help="which service to check (default: all)")
    add_output_arguments(parser)
    add_verdict_arguments(parser, strict=False)


def run(args: argparse.Namespace) -> int:
    import contextlib
    import sys
    from collections.abc import Iterator

    from apigate.accept import DriftSettlement, load_accept
    from apigate.commands.diff import fails
    from apigate.config import Target, load_target
    from apigate.diff import group_findings, render
    from apigate.diff.drift import APIS, DriftReport, check_drift
    from apigate.errors import ConfigError
    from apigate.redact import dumps_redacted, redact

    apis = APIS if args.api == "all" else (args.api,)
    target = load_target()
    accept = load_accept(args.accept)

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

    reports: list[tuple[DriftReport, DriftSettlement]] = []

    def emit_json() -> None:
        payload = {"apis": [
            {"api": r.api, "pinned": r.pinned, "live": r.live, "note": r.note,
             "summary": {s: sum(1 for f in settled.findings if f.severity == s)
                         for s in ("breaking", "warning", "compatible")},
             "changes": [c.to_dict() for c in group_findings(settled.findings)],  # grouped by cause, as apigate diff
             "findings": [f.to_dict() for f in settled.findings],
             "known": [{**f.to_dict(), "accepted": e.known_note()} for f, e in settled.known],
             "expired": [{**f.to_dict(), "accepted": e.expired_note()} for f, e in settled.expired],
             "accept_entries": [{"entry": e.describe(), "severity": severity.value, "note": note}
                                for e, severity, note in settled.entries]}
            for r, settled in reports
        ]}
        sys.stdout.write(dumps_redacted(payload, indent=2, ensure_ascii=False) + "\n")

    def accepted_lines(settled: DriftSettlement) -> list[str]:
        lines = [f"known (accepted): {f.severity} {f.rule} {f.location}: {e.known_note()}" for f, e in settled.known]
        lines += [f"EXPIRED acceptance: {f.severity} {f.rule} {f.location}: {e.expired_note()}"
                  for f, e in settled.expired]
        lines += [f"{severity.value.upper()} accept entry {e.describe()}: {note}" for e, severity, note in settled.entries]
        return lines

    try:
        with resolved(target) as current:
            for api in apis:
                report = check_drift(api, current)
                settled = accept.settle_drift(api, report.findings)
                reports.append((report, settled))
                if args.format == "json":
                    continue
                heading = f"{api}: {report.live} vs pinned {report.pinned}"
                sys.stdout.write(redact(f"## {heading}\n\n" if args.format == "markdown" else f"== {heading}\n"))
                if report.note:
                    sys.stdout.write(redact(report.note) + "\n\n")
                else:
                    sys.stdout.write(render(settled.findings, args.format, old=report.pinned, new=report.live) + "\n")
                lines = accepted_lines(settled)
                if lines:
                    bullet = "- " if args.format == "markdown" else ""
                    sys.stdout.write(redact("".join(f"{bullet}{line}\n" for line in lines)) + "\n")
                sys.stdout.flush()
    finally:
        if args.format == "json":
            emit_json()
    failed = any(fails(list(settled.findings), args.fail_on) or settled.fails for _, settled in reports)
    return 1 if failed else 0
