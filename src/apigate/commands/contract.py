"""``apigate contract``: the schemathesis-driven contract suite against the configured target (or the embedded mock)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "run the contract suite (schemathesis + apigate's own checks) and write JUnit XML"

_APIS = ("codemie", "keycloak", "basejump", "all")

def add_verdict_arguments(parser: argparse.ArgumentParser, *, strict: bool = True) -> None:
    """``--accept FILE`` (known failures) and ``--strict`` (warnings fail): shared by contract, run, gate, drift."""
    parser.add_argument("--accept", type=Path, default=None, metavar="FILE",
                        help="known failures to accept ([[accept]] tables; default: those of apigate.toml)")
    if strict:
        parser.add_argument("--strict", action="store_true",
                            help="warnings (assumed constraints, HTTP-layer answers) fail the run too")


def configure(parser: argparse.ArgumentParser) -> None:
    from apigate.contract.defaults import CONTRACT_MOCK, DEFAULT_MAX_EXAMPLES, DEFAULT_WORKERS
    from apigate.mocks.settings import MockSettings

    parser.add_argument("--api", choices=_APIS, default="all", help="which API to check (default: all)")
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES, metavar="N",
                        help=f"generated examples per operation and phase (default {DEFAULT_MAX_EXAMPLES})")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="report folder (default: reports/<UTC timestamp>-contract/)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, metavar="N",
                        help=f"concurrent schemathesis workers per API (default {DEFAULT_WORKERS})")
    parser.add_argument("--verbose", "-v", action="store_true", help="list the checks of passing operations too")
    add_verdict_arguments(parser)
    parser.add_argument("--list-breaks", action="store_true", help=argparse.SUPPRESS)
    # Knobs of the embedded mock (used only when it is started here, i.e. not every service is live);
    # --break NAME switches on one of the catalogued contract breaks (the self-test uses it).
    MockSettings.add_arguments(parser)
    parser.set_defaults(**CONTRACT_MOCK)  # the contract run's own mock timing (see apigate.contract.defaults)


def run(args: argparse.Namespace) -> int:
    from apigate.accept import load_accept
    from apigate.config import load_target
    from apigate.contract.report import render_text
    from apigate.contract.runner import ALL_APIS, default_out_dir, run_contract
    from apigate.errors import UsageError
    from apigate.mocks.settings import BREAKS, MockSettings
    from apigate.outdir import make_out_dir

    if args.list_breaks:
        for name, text in BREAKS.items():
            print(f"{name}: {text}")
        return 0
    if args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    apis = ALL_APIS if args.api == "all" else (args.api,)
    settings = MockSettings.from_args(args)
    target = load_target()  # raises ConfigError (exit 2) on a bad APIGATE_* value
    accept = load_accept(args.accept)  # ConfigError (exit 2) on a malformed file, before any work
    out_dir: Path = make_out_dir(args.out if args.out is not None else default_out_dir())

    def echo(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if accept:
        echo(f"apigate contract: {len(accept.entries)} accept entr{'ies' if len(accept.entries) != 1 else 'y'} "
             f"from {accept.source}")

    if target.needs_mock:
        from apigate.mocks import MockProcess

        # its own process: the mock and schemathesis each get a core (and no GIL between them)
        with MockProcess(settings) as server:
            target = load_target(server.origin)
            echo(f"apigate contract: embedded mock at {server.origin}")
            result = run_contract(target, apis, args.max_examples, out_dir, workers=args.workers,
                                  mock_settings=settings, progress=echo, seed=args.seed, strict=args.strict,
                                  accept=accept)
    else:
        if settings.breaks or settings.variant != "faithful":
            raise UsageError("--break and --variant apply to the embedded mock, but every service is live")
        result = run_contract(target, apis, args.max_examples, out_dir, workers=args.workers, progress=echo,
                              seed=args.seed, strict=args.strict, accept=accept)
    sys.stdout.write(render_text(result, verbose=args.verbose))
    print(f"reports: {out_dir}", file=sys.stderr)
    return result.exit_code
