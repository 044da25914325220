"""``apigate history``: the trend of recorded runs (one row per run) from the SQLite history database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "print the trend of recorded runs: p50/p95/p99 of one metric, or every metric's p95"


def configure(parser: argparse.ArgumentParser) -> None:
    from apigate.history import DEFAULT_DB

    parser.add_argument("--metric", metavar="NAME", help="show p50/p95/p99 of this metric (default: p95 of all)")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, metavar="PATH",
                        help=f"history database (default {DEFAULT_DB})")
    parser.add_argument("--last", type=int, default=20, metavar="N", help="show the last N runs (default 20)")


def run(args: argparse.Namespace) -> int:
    from apigate.errors import UsageError
    from apigate.history import read_runs
    from apigate.redact import redact
    from apigate.report.text import history_table

    if args.last < 1:
        raise UsageError("--last must be at least 1")
    runs = read_runs(args.db, last=args.last)
    if not runs:
        print(f"no runs recorded in {args.db}", file=sys.stderr)
        return 0
    if args.metric is not None and not any(args.metric in r.metrics for r in runs):
        known = sorted({m for r in runs for m in r.metrics})
        raise UsageError(f"no recorded run measured {args.metric!r} (recorded: {', '.join(known) or 'none'})")
    sys.stdout.write(redact(history_table(runs, metric=args.metric)))
    return 0
