"""``apigate run``: the main job — contract suite, load run, gate and report folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "the main job: contract suite + load run + gate; writes reports/<UTC timestamp>-<label>/"


def configure(parser: argparse.ArgumentParser) -> None:
    from apigate.commands.contract import add_verdict_arguments
    from apigate.mocks.settings import MockSettings

    parser.add_argument("--profile", choices=["smoke", "full"], default="smoke",
                        help="smoke: every scenario, short (default); full: longer, more users, more examples")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="report folder (default: reports/<UTC timestamp>-<label>/)")
    parser.add_argument("-u", "--users", type=int, default=None, metavar="N",
                        help="load-run users (default: the profile's: smoke 8, full 40)")
    parser.add_argument("-t", "--duration", default=None, metavar="DURATION",
                        help="load-run duration, e.g. 20s, 2m (default: the profile's: smoke 20s, full 2m)")
    parser.add_argument("--label", default=None, help="label of the run in the folder name and the history "
                        "(default: the profile)")
    parser.add_argument("--thresholds", type=Path, default=None, metavar="FILE",
                        help="gate thresholds (TOML; default: the packaged defaults, see apigate gate "
                        "--print-thresholds)")
    baseline = parser.add_mutually_exclusive_group()
    baseline.add_argument("--baseline", type=Path, default=None, metavar="SUMMARY",
                          help="compare with this earlier summary.json (or its folder)")
    baseline.add_argument("--history", type=int, default=0, metavar="N", dest="history_baseline",
                          help="compare with the median of the last N passing runs in the history")
    parser.add_argument("--history-db", type=Path, default=Path("reports/history.sqlite"), metavar="PATH",
                        help="run history (SQLite; default reports/history.sqlite)")
    parser.add_argument("--no-history", action="store_true", help="do not record this run in the history")
    add_verdict_arguments(parser)
    MockSettings.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from apigate.accept import load_accept
    from apigate.config import load_target
    from apigate.errors import UsageError
    from apigate.job import PROFILES, JobOptions, default_out_dir, run_job
    from apigate.loadrun import parse_duration
    from apigate.mocks.settings import MockSettings
    from apigate.outdir import make_out_dir

    if args.history_baseline < 0:
        raise UsageError("--history must be a positive number of runs")
    label = args.label or args.profile
    if not label.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"--label may hold letters, digits, '-' and '_' only, not {label!r}")
    profile = PROFILES[args.profile]
    if args.users is not None:
        if args.users < 1:
            raise UsageError("--users must be at least 1")
        profile = replace(profile, users=args.users, spawn_rate=float(args.users))
    if args.duration is not None:
        profile = replace(profile, duration_s=parse_duration(args.duration))
    target = load_target()  # ConfigError (exit 2) on a bad APIGATE_* value, before anything runs
    options = JobOptions(
        profile=profile,
        out_dir=make_out_dir(args.out if args.out is not None else default_out_dir(label)),
        mock=MockSettings.from_args(args),
        thresholds=args.thresholds,
        baseline=args.baseline,
        history_baseline=args.history_baseline,
        history_db=None if args.no_history else args.history_db,
        label=label,
        seed=args.seed,
        strict=args.strict,
        accept=load_accept(args.accept),  # ConfigError (exit 2) on a malformed file, before any work
    )

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    result = run_job(target, options, say)
    print(result.table, end="")  # ends with the gate's verdict line
    for error in result.errors:
        print(f"apigate run: error: {error}", file=sys.stderr)
    print(f"report: {result.out_dir}")
    return result.exit_code
