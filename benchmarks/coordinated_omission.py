"""Coordinated omission: a closed loop hides a periodic stall that the open model measures.

The embedded mock answers CodeMie chats in 20 ms (100 slots of 20 ms: a capacity of 5,000 answers/s, far above the
load here), except that every 10 s it stalls for 1 s: a chat that arrives during a stall waits until it ends.

* **closed loop**: one user sending its next chat as soon as the previous answer came back. During a stall it has
  one chat waiting — and sends nothing else — so only one sample per stall is slow.
* **open model** at the same throughput: chats *arrive* at that rate whatever the answers do, and each one's
  latency counts from its intended send time. A tenth of them arrive during a stall.

Analytic p99 of the open model: arrivals are uniform in time, so a fraction D/P = 1 s / 10 s of them arrive in a
stall, at a uniform point of it, and wait for its end and then the service time S. For S <= x <= D + S,
P(latency > x) = (D + S - x) / P, so the q-quantile is x = D + S - (1 - q) * P: p99 = 1000 + 20 - 0.01 * 10000 =
920 ms (valid while (1 - q) * P < D). The closed loop's slow share is one chat per stall out of
1 + (P - D) / S ≈ 450 per stall and user: 0.2 %, below 1 %, so its p99 stays near S.

    python benchmarks/coordinated_omission.py                 # 60 s closed, then 60 s open at its throughput
    python benchmarks/coordinated_omission.py --duration 30

Exit status 1 unless the open model's p99 is at least 80 % of the analytic value and the closed loop's at most 20 %.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from apigate.loadrun import LoadOptions, run_load
from apigate.mocks.settings import MockSettings

PERIOD_S, STALL_MS, SERVICE_MS = 10.0, 1000.0, 20.0
MOCK = MockSettings(chat_latency_ms=SERVICE_MS, capacity=100, service_time_ms=SERVICE_MS, stall_every_s=PERIOD_S,
                    stall_ms=STALL_MS)


def analytic_quantile(q: float, *, period_s: float = PERIOD_S, stall_ms: float = STALL_MS,
                      service_ms: float = SERVICE_MS) -> float:
    """The open model's latency q-quantile (ms) with stalls of ``stall_ms`` every ``period_s`` (see the module doc)."""
    tail_ms = (1 - q) * period_s * 1000
    if tail_ms >= stall_ms:  # the quantile is not inside the stalled share
        return service_ms
    return stall_ms + service_ms - tail_ms


def run(out: Path, **options: Any) -> dict[str, Any]:
    result = run_load(LoadOptions(scenario="chat", classes=("CodemieChatUser",), mock=MOCK, max_failure_rate=1.0,
                                  progress_interval_s=30.0, **options), out, progress=None)
    return result.summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="apigate-co-"))
    load = os.getloadavg()[0]
    closed = run(out / "closed", users=1, spawn_rate=1.0, duration_s=args.duration)
    throughput = closed["requests"]["codemie.chat"]["count"] / closed["duration_s"]
    rate = round(throughput, 1)
    opened = run(out / "open", rate=rate, users=100, spawn_rate=100.0, duration_s=args.duration)
    analytic = analytic_quantile(0.99)
    c, o = closed["metrics"]["codemie.chat"], opened["metrics"]["codemie.chat"]
    om = opened["open_model"]
    print(f"\n== stall of {STALL_MS:.0f} ms every {PERIOD_S:g} s, answers in {SERVICE_MS:g} ms; {args.duration:g} s "
          f"per run; load average {load:.1f} at start")
    print(f"  {'':34s} {'req/s':>7s} {'n':>6s} {'p50':>8s} {'p95':>8s} {'p99':>8s} {'max':>8s}")
    for label, m, rps in (("closed loop, 1 user", c, throughput),
                          (f"open model, {rate:g}/s (from intended)", o, opened["requests"]["codemie.chat"]["rps"]),
                          ("open model, from actual send", opened["metrics"]["codemie.chat.from_send"], float("nan"))):
        print(f"  {label:34s} {rps:7.1f} {m['count']:6d} {m['p50']:8.1f} {m['p95']:8.1f} {m['p99']:8.1f} "
              f"{m['max']:8.1f}")
    print(f"  analytic p99 of the open model: {STALL_MS:.0f} + {SERVICE_MS:g} - 0.01 x {PERIOD_S * 1000:.0f} = "
          f"{analytic:.0f} ms")
    print(f"  open model arrivals: {om['sent']} sent, {om['late']} late (> {om['late_after_ms']:g} ms), "
          f"{om['unsent']} unsent, worst lateness {om['worst_lateness_ms']:.1f} ms")
    checks = {
        f"open p99 {o['p99']:.0f} ms >= 80 % of analytic ({0.8 * analytic:.0f} ms)": o["p99"] >= 0.8 * analytic,
        f"closed p99 {c['p99']:.0f} ms <= 20 % of analytic ({0.2 * analytic:.0f} ms)": c["p99"] <= 0.2 * analytic,
    }
    for label, passed in checks.items():
        print(f"  [{'PASS' if passed else 'FAIL'}] {label}")
    print(f"\nreports under {out}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
