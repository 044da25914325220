"""The ``apigate`` command line: one sub-command per job, each in :mod:`apigate.commands`.

Exit codes (every command): 0 success; 1 the API broke its contract or its latency budget (or ``diff`` found
breaking changes); 2 usage, configuration, input or connection error; 130 interrupted.
Errors are printed as one line on stderr, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from apigate._version import __version__
from apigate.errors import ApigateError
from apigate.redact import redact

__all__ = ["COMMANDS", "main"]

# sub-command -> module in apigate.commands; each module defines HELP, configure(parser) and run(args) -> int.
# Command modules import their heavy dependencies inside run() so that `apigate --help` stays fast.
COMMANDS: dict[str, str] = {
    "mock": "apigate.commands.mock",
    "contract": "apigate.commands.contract",
    "load": "apigate.commands.load",
    "run": "apigate.commands.run",
    "gate": "apigate.commands.gate",
    "history": "apigate.commands.history",
    "diff": "apigate.commands.diff",
    "drift": "apigate.commands.drift",
}


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, the options of that sub-command alone are set up (configuring the
    others imports what they need, e.g. the contract runner, which ``apigate diff`` should not pay for)."""
    parser = _Parser(prog="apigate", description="Contract tests and load benchmarks for CodeMie and Basejump.")
    parser.add_argument("--version", action="version", version=f"apigate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        if only is None or name == only:
            module.configure(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args.run(args)
    except ApigateError as exc:
        print(f"apigate {args.command}: error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"apigate {args.command}: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
