"""``apigate load``: run the Locust scenarios headless and write summary.json, samples and Locust's reports.

Three ways to load: a closed loop of ``-u`` users (optionally shaped), the open model (``--rate``: requests arrive
at a fixed rate whatever the answers do) and a sweep of levels judged on SLOs (``--sweep``: the capacity).
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HELP = "run the Locust load scenarios headless (embedded mock unless a live target is set); writes summary.json"


def configure(parser: argparse.ArgumentParser) -> None:
    from apigate.loadrun.arrivals import ARRIVALS
    from apigate.loadrun.options import SCENARIOS, SHAPES, USER_CLASSES_ALL
    from apigate.mocks.settings import MockSettings

    parser.add_argument("--scenario", choices=SCENARIOS, default="all",
                        help="tokens, chat, stream or all (default: all)")
    parser.add_argument("--user-class", dest="classes", action="append", default=[], metavar="NAME",
                        choices=USER_CLASSES_ALL,
                        help="run only this Locust user class instead of the scenario's (repeatable), e.g. "
                             "CodemieChatUser")
    parser.add_argument("-u", "--users", type=int, default=None,
                        help="concurrent users (peak for shapes; default 10); with --rate: the pool of users that "
                             "send the arrivals, at most one request in flight each (default: 1 s of arrivals)")
    parser.add_argument("-r", "--spawn-rate", type=float, default=None,
                        help="users started per second (default: all at once)")
    parser.add_argument("-t", "--duration", default="30s",
                        help="run time, e.g. 30s, 2m, 1m30s (default 30s); with --sweep: each level's")
    parser.add_argument("--workers", type=int, default=0,
                        help="run a local Locust master with N worker processes (default 0: one process)")
    parser.add_argument("--shape", choices=SHAPES, default="steady", help="load shape (default steady)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default reports/<UTC timestamp>-load)")
    parser.add_argument("--max-failure-rate", type=float, default=0.01, metavar="R",
                        help="fail (exit 1) when more than this fraction of requests failed (default 0.01)")
    parser.add_argument("--progress-interval", type=float, default=5.0, metavar="S",
                        help="seconds between progress lines (default 5)")
    om = parser.add_argument_group("open model (arrival rate)")
    om.add_argument("--rate", type=float, default=None, metavar="R",
                    help="requests per second for the whole run, split evenly over the user classes and workers; "
                         "latency counts from each request's intended send time")
    om.add_argument("--arrivals", choices=ARRIVALS, default="constant",
                    help="evenly spaced (constant, default) or a Poisson process (poisson)")
    sw = parser.add_argument_group("sweep (capacity)")
    sw.add_argument("--sweep", metavar="LEVELS",
                    help="run levels one after the other and report the capacity: rate=50,100,200 (open model), "
                         "users=5,10,20 (closed), or rate=50..300/50 (from..to/step)")
    sw.add_argument("--slo", action="append", default=[], metavar="LIMIT",
                    help="an SLO each level must meet, e.g. 'codemie.chat.p95<=300' (repeatable; added to the "
                         "thresholds file's limits and failure rates)")
    sw.add_argument("--thresholds", type=Path, metavar="FILE",
                    help="thresholds TOML whose [limits] and [failure_rate] are the SLOs (default: the packaged ones)")
    sw.add_argument("--refine", type=int, default=2, metavar="N",
                    help="levels run by bisection between the last passing and the first failing level (default 2)")
    sw.add_argument("--max-time", default=None, metavar="DURATION",
                    help="the whole sweep's time budget: a level that would not end within it is not started")
    MockSettings.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from apigate.errors import UsageError
    from apigate.loadrun import LoadOptions, parse_duration, run_load
    from apigate.loadrun.options import USER_CLASSES, USER_CLASSES_ALL, open_model_pool
    from apigate.mocks.settings import MockSettings
    from apigate.outdir import make_out_dir

    classes = tuple(dict.fromkeys(args.classes))
    n_classes = len(classes or (USER_CLASSES_ALL if args.scenario == "all" else USER_CLASSES[args.scenario]))
    if args.users is not None:
        users = args.users
    elif args.rate is not None:
        users = open_model_pool(args.rate, n_classes, args.workers)
    else:
        users = 10
    options = LoadOptions(
        scenario=args.scenario,
        users=users,
        spawn_rate=args.spawn_rate if args.spawn_rate is not None else float(users),
        duration_s=parse_duration(args.duration),
        workers=args.workers,
        shape=args.shape,
        max_failure_rate=args.max_failure_rate,
        mock=MockSettings.from_args(args),
        progress_interval_s=args.progress_interval,
        rate=args.rate,
        arrivals=args.arrivals,
        classes=classes,
    )
    if args.sweep is None and (args.slo or args.thresholds or args.max_time):
        raise UsageError("--slo, --thresholds and --max-time belong to --sweep")
    sweep = _sweep_options(args, options) if args.sweep is not None else None
    out = make_out_dir(args.out or Path("reports") / (dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-load"))
    if sweep is not None:
        from apigate.loadrun.sweep import run_sweep

        result = run_sweep(sweep, out, progress=_stderr)
        print(sweep_table(result.summary))
    else:
        result = run_load(options, out)
        print(summary_text(result.summary), end="")
    _write_report(result.summary_path)
    print(f"summary: {result.summary_path} (report: {result.summary_path.parent / 'report.html'})")
    if result.message:
        print(f"apigate load: {result.message}", flush=True)
    return result.exit_code


def _write_report(summary_path: Path) -> None:
    """summary.md, junit.xml and report.html beside the summary: what was measured (``apigate gate`` judges it)."""
    from apigate.report import write_report
    from apigate.summary import load_summary

    write_report(summary_path.parent, load_summary(summary_path))


def _stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


def _sweep_options(args: argparse.Namespace, options: Any) -> Any:
    import dataclasses

    from apigate.errors import UsageError
    from apigate.gate import load_thresholds, parse_limit
    from apigate.loadrun import parse_duration
    from apigate.loadrun.sweep import SweepOptions, parse_levels

    if args.rate is not None:
        raise UsageError("--sweep rate=... sets the rates: leave out --rate")
    by, levels = parse_levels(args.sweep)
    thresholds = load_thresholds(args.thresholds)
    limits = {(lim.metric, lim.stat): lim for lim in thresholds.limits}
    for text in args.slo:
        lim = parse_limit(text)
        limits[(lim.metric, lim.stat)] = lim
    thresholds = dataclasses.replace(thresholds, limits=tuple(limits.values()))
    return SweepOptions(
        base=options, by=by, levels=levels, thresholds=thresholds, refine=args.refine,
        max_time_s=parse_duration(args.max_time) if args.max_time else None,
        pool=args.users if by == "rate" else None,
    )


# ---- terminal text ----------------------------------------------------------------------------------------------
def summary_text(summary: Mapping[str, Any]) -> str:
    """The terminal summary of one run: metrics, requests, failures, users, the open model, phases, load held."""
    lines = []
    metrics: Mapping[str, Any] = summary.get("metrics") or {}
    requests: Mapping[str, Any] = summary.get("requests") or {}
    failures: Sequence[Any] = summary.get("failures") or []
    if metrics:
        lines.append(f"{'metric':30s} {'count':>8s} {'p50':>9s} {'p90':>9s} {'p95':>9s} {'p99':>9s} {'max':>9s}")
        for name, m in metrics.items():
            if m.get("count"):
                lines.append(f"{name:30s} {m['count']:8d} {m['p50']:9.2f} {m['p90']:9.2f} {m['p95']:9.2f} "
                             f"{m['p99']:9.2f} {m['max']:9.2f}  {m['unit']}")
    for name, r in requests.items():
        lines.append(f"{name:30s} {r['count']:8d} requests  {r['failures']} failed  {r['rps']:.1f}/s")
    lines += [f"failure: {f['name']}: {f['reason']} x{f['count']}" for f in failures[:10]]
    om = summary.get("open_model")
    if om:
        lines.append(f"open model: {om['rate']:g} requests/s ({om['arrivals']}), pool of {om['pool']} users: "
                     f"{om['sent']} sent, {om['late']} late (> {om['late_after_ms']:g} ms; "
                     f"{om['late_no_free_user']} for want of a free user), {om['unsent']} never sent, "
                     f"worst lateness {om['worst_lateness_ms']:.1f} ms"
                     + (f"; arrivals began after a {om['warm_up_s']:.1f} s warm-up" if (om.get("warm_up_s") or 0) >= 0.05
                        else ""))
    users = summary.get("users") or {}
    if users.get("timeline"):
        active = users.get("active_fraction")
        share = f", set up and sending {active:.1%} of their time" if active is not None else ""
        lines.append(f"users: {users['requested']} requested{share}; "
                     f"{sum(s['count'] for s in users.get('stopped', []))} stopped before the end")
    lines += [f"user stopped: {s['user']}: {s['reason']} x{s['count']}" for s in users.get("stopped", [])[:10]]
    for phase in summary.get("phases") or []:
        lat = "  ".join(f"{m} p95 {v['p95']:.1f}" for m, v in phase["metrics"].items()
                        if not m.endswith(".from_send"))
        lines.append(f"phase {phase['label']:24s} {phase['start_s']:6.0f}–{phase['end_s']:<6.0f}s "
                     f"{phase['rps']:8.1f} req/s  {phase['failures']} failed  {lat}")
    load = summary.get("load") or {}
    if load.get("problems"):
        lines += [f"load NOT held: {p}" for p in load["problems"]]
    return "".join(f"{line}\n" for line in lines)


def sweep_table(summary: Mapping[str, Any]) -> str:
    """The terminal table of a sweep: one row per level, then the capacity."""
    from apigate.loadsummary import Capacity

    sweep = summary["sweep"]
    unit = sweep["unit"]
    slo_metrics = list(dict.fromkeys(lim["metric"] for lim in sweep.get("limits", [])))
    header = f"{'level':>10s} {'result':6s} {'req/s':>8s} {'goodput/s':>10s} {'good %':>7s} {'failed':>7s}"
    header += "".join(f" {m + ' p95':>24s}" for m in slo_metrics)
    lines = [f"sweep by {sweep['by']} ({unit}); SLOs: {', '.join(sweep['slos']) or 'none'}", header]
    for lv in sweep["levels"]:
        failed = sum(r["failures"] for r in lv["requests"].values())
        result = "PASS" if lv["passed"] else "FAIL" if lv.get("held", True) else "HELD?"
        row = (f"{lv['level']:>10g} {result:6s} {lv['throughput_rps']:8.1f} "
               f"{lv['goodput_rps']:10.1f} {lv['goodput_share'] * 100:6.1f}% {failed:7d}")
        row += "".join(f" {lv['metrics'].get(m, {}).get('p95', float('nan')):24.1f}" for m in slo_metrics)
        lines.append(row + (" (refinement)" if lv["refinement"] else ""))
        lines += [f"{'':17s}{v}" for v in lv["violations"][:3]]
    cap = sweep["capacity"]
    lines.append("capacity: " + Capacity(cap["value"], cap["bound"], cap["last_pass"], cap["first_fail"]).describe(unit))
    if sweep.get("stopped_early"):
        lines.append(f"stopped early: {sweep['stopped_early']}")
    return "\n".join(lines)
