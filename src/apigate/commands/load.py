"""``apigate load``: run the Locust scenarios headless and write summary.json, samples and Locust's reports."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

HELP = "run the Locust load scenarios headless (embedded mock unless a live target is set); writes summary.json"


def configure(parser: argparse.ArgumentParser) -> None:
    from apigate.loadrun.options import SCENARIOS, SHAPES
    from apigate.mocks.settings import MockSettings

    parser.add_argument("--scenario", choices=SCENARIOS, default="all",
                        help="tokens, chat, stream or all (default: all)")
    parser.add_argument("-u", "--users", type=int, default=10, help="concurrent users (peak for shapes; default 10)")
    parser.add_argument("-r", "--spawn-rate", type=float, default=None,
                        help="users started per second (default: all at once)")
    parser.add_argument("-t", "--duration", default="30s", help="run time, e.g. 30s, 2m, 1m30s (default 30s)")
    parser.add_argument("--workers", type=int, default=0,
                        help="run a local Locust master with N worker processes (default 0: one process)")
    parser.add_argument("--shape", choices=SHAPES, default="steady", help="load shape (default steady)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default reports/<UTC timestamp>-load)")
    parser.add_argument("--max-failure-rate", type=float, default=0.01, metavar="R",
                        help="fail (exit 1) when more than this fraction of requests failed (default 0.01)")
    parser.add_argument("--progress-interval", type=float, default=5.0, metavar="S",
                        help="seconds between progress lines (default 5)")
    MockSettings.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from apigate.loadrun import LoadOptions, parse_duration, run_load
    from apigate.mocks.settings import MockSettings
    from apigate.outdir import make_out_dir

    options = LoadOptions(
        scenario=args.scenario,
        users=args.users,
        spawn_rate=args.spawn_rate if args.spawn_rate is not None else float(args.users),
        duration_s=parse_duration(args.duration),
        workers=args.workers,
        shape=args.shape,
        max_failure_rate=args.max_failure_rate,
        mock=MockSettings.from_args(args),
        progress_interval_s=args.progress_interval,
    )
    out = make_out_dir(args.out or Path("reports") / (dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-load"))
    result = run_load(options, out)
    _print_summary(result.summary)
    print(f"summary: {result.summary_path}")
    if result.message:
        print(f"apigate load: {result.message}", flush=True)
    return result.exit_code


def _print_summary(summary: dict[str, object]) -> None:
    metrics = summary.get("metrics") or {}
    requests = summary.get("requests") or {}
    failures = summary.get("failures") or []
    assert isinstance(metrics, dict) and isinstance(requests, dict) and isinstance(failures, list)
    if metrics:
        print(f"{'metric':30s} {'count':>8s} {'p50':>9s} {'p90':>9s} {'p95':>9s} {'p99':>9s} {'max':>9s}")
        for name, m in metrics.items():
            if m.get("count"):
                print(f"{name:30s} {m['count']:8d} {m['p50']:9.2f} {m['p90']:9.2f} {m['p95']:9.2f} "
                      f"{m['p99']:9.2f} {m['max']:9.2f}  {m['unit']}")
    for name, r in requests.items():
        print(f"{name:30s} {r['count']:8d} requests  {r['failures']} failed  {r['rps']:.1f}/s")
    for f in failures[:10]:
        print(f"failure: {f['name']}: {f['reason']} x{f['count']}")
