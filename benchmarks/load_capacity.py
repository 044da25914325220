"""Does a sweep find a capacity we know? Against the mock with a known one.

The embedded mock answers at most 20 CodeMie chats at a time, each holding its slot for 100 ms: its capacity is
20 / 0.1 s = 200 answers/s (``--capacity 20 --service-time-ms 100``). Below it every chat takes ~100 ms; above it
the queue — and the latency — grows for as long as the level lasts. A rate sweep of CodeMie chats (the open model)
with the SLO ``codemie.chat.p95 <= 300`` must report a capacity within ±10 % of 200 requests/s.

    python benchmarks/load_capacity.py                      # 100..300/s in 50s, 10 s per level, 2 refinements
    python benchmarks/load_capacity.py --levels 120,180,240 --duration 8 --arrivals poisson

Exit status 1 when the capacity is outside 180..220 requests/s.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

from apigate.gate import default_thresholds, parse_limit
from apigate.loadrun import LoadOptions
from apigate.loadrun.sweep import SweepOptions, parse_levels, run_sweep
from apigate.mocks.settings import MockSettings

SLOTS, SERVICE_MS = 20, 100.0
REFERENCE = SLOTS / (SERVICE_MS / 1000)  # 200 answers/s
TOLERANCE = 0.10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="100,150,200,250,300", help="rates (requests/s)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per level")
    parser.add_argument("--refine", type=int, default=2)
    parser.add_argument("--arrivals", choices=["constant", "poisson"], default="constant")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="apigate-capacity-"))
    _, levels = parse_levels(f"rate={args.levels}")
    thresholds = dataclasses.replace(default_thresholds(), limits=(parse_limit("codemie.chat.p95<=300"),))
    base = LoadOptions(scenario="chat", classes=("CodemieChatUser",), duration_s=args.duration,
                       arrivals=args.arrivals, progress_interval_s=60.0, max_failure_rate=1.0,
                       mock=MockSettings(capacity=SLOTS, service_time_ms=SERVICE_MS))
    load = os.getloadavg()[0]
    started = time.monotonic()
    result = run_sweep(SweepOptions(base, "rate", levels, thresholds, refine=args.refine), out,
                       progress=lambda line: None if line.startswith("  ") else print(line, flush=True))
    sweep = result.summary["sweep"]
    print(f"\n== capacity sweep: CodeMie chats, {args.arrivals} arrivals, {args.duration:g} s per level, "
          f"load average {load:.1f} at start, {time.monotonic() - started:.0f} s in all")
    print(f"  {'level':>8s} {'result':6s} {'sent/s':>7s} {'p50':>8s} {'p95':>8s} {'p99':>8s} {'goodput':>8s}")
    for lv in sweep["levels"]:
        m = lv["metrics"].get("codemie.chat", {})
        print(f"  {lv['level']:8g} {'PASS' if lv['passed'] else 'FAIL':6s} {lv['throughput_rps']:7.1f} "
              f"{m.get('p50', float('nan')):8.1f} {m.get('p95', float('nan')):8.1f} {m.get('p99', float('nan')):8.1f}"
              f" {lv['goodput_share']:8.1%}" + ("  (refinement)" if lv["refinement"] else ""))
    capacity = sweep["capacity"]["value"]
    ok = capacity is not None and abs(capacity - REFERENCE) <= TOLERANCE * REFERENCE
    shown = "none" if capacity is None else f"{capacity:g}"
    print(f"  capacity found {shown} requests/s  vs  known {REFERENCE:g} (20 slots x 100 ms), "
          f"target ±{TOLERANCE:.0%}: [{'PASS' if ok else 'FAIL'}]")
    print(f"\nreport folder {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
