"""``apigate gate``: judge a run's summary against thresholds and (optionally) a baseline; exit 0 pass, 1 fail."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "judge a summary.json: contract results, latency limits, failure rates and regressions against a baseline"


def configure(parser: argparse.ArgumentParser) -> None:
    from apigate.commands.contract import add_verdict_arguments
    from apigate.history import DEFAULT_DB

    parser.add_argument("summary", type=Path, nargs="?", metavar="SUMMARY",
                        help="summary.json of the run to judge (or its report folder)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--baseline", type=Path, metavar="SUMMARY", help="compare with this run's summary.json")
    source.add_argument("--history", action="store_true",
                        help="compare with the median of the last N passing runs in the history database")
    parser.add_argument("--history-db", type=Path, default=DEFAULT_DB, metavar="PATH",
                        help=f"history database (default {DEFAULT_DB})")
    parser.add_argument("--last", type=int, default=5, metavar="N",
                        help="how many passing runs make the --history baseline (default 5)")
    parser.add_argument("--thresholds", type=Path, metavar="FILE",
                        help="thresholds TOML overriding the defaults (see --print-thresholds)")
    parser.add_argument("--record", action="store_true",
                        help="append this run and its verdict to the history database")
    parser.add_argument("--label", default=None, help="label of the recorded run (default: the summary's folder name)")
    parser.add_argument("--print-thresholds", action="store_true",
                        help="print the default thresholds file (documented) and exit")
    parser.add_argument("--all", action="store_true", help="list skipped checks too")
    add_verdict_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from apigate.accept import load_accept
    from apigate.errors import DocumentError, UsageError
    from apigate.gate import default_thresholds_text, evaluate, load_thresholds, render_table
    from apigate.history import baseline_from_history, record_run
    from apigate.report.text import contract_sections
    from apigate.summary import load_summary

    if args.print_thresholds:
        sys.stdout.write(default_thresholds_text())
        return 0
    if args.summary is None:
        raise UsageError("the SUMMARY argument is required")
    if args.last < 1:
        raise UsageError("--last must be at least 1")
    thresholds = load_thresholds(args.thresholds)
    accept = load_accept(args.accept)
    summary = load_summary(args.summary)
    if accept:  # settle the contract findings with this list instead of the one the run used (if any)
        summary = accept.settle_summary(summary)
    if not summary.metrics and summary.contract is None:
        # nothing to judge: passing it would turn a broken or wrong file into a green CI job
        raise DocumentError(f"{summary.source}: no metrics and no contract results to judge")
    notes: list[str] = []
    baseline = None
    if args.baseline is not None:
        baseline = load_summary(args.baseline)
    elif args.history:
        baseline = baseline_from_history(args.history_db, args.last)
        if baseline is None:
            notes.append(f"no passing runs in {args.history_db}: no baseline, regressions not checked")
    result = evaluate(summary, thresholds, baseline, notes=notes, strict=args.strict)
    sys.stdout.write(contract_sections(summary) + render_table(result, show_skipped=args.all))
    if args.record:
        folder = args.summary if args.summary.is_dir() else args.summary.parent
        label = args.label if args.label is not None else folder.resolve().name
        run_id = record_run(args.history_db, summary, label=label, passed=result.passed)
        print(f"recorded as run #{run_id} in {args.history_db}")
    return result.exit_code
