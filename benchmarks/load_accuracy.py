"""How exactly does the stream scenario measure time to first chunk? Compared with the mock's ground truth.

The embedded mock writes the first chunk 150 ms after it received the request and then one chunk every 20 ms,
stamping each chunk with its send time. For N concurrent streaming users this prints the reported
``codemie.stream.ttfc`` and ``codemie.stream.inter_chunk`` next to the truth — the configured delays and the
per-request server stamps — and where any difference comes from:

* request leg: request written by the client → received by the mock (the mock's own pick-up delay);
* delivery leg: first chunk written by the mock → arrived at the client (network + the client's clock);
* read lag: arrived → read by the load generator (removed from the figures by kernel receive timestamps).

    python benchmarks/load_accuracy.py                     # 20 users for 30 s, then 200 users
    python benchmarks/load_accuracy.py --users 20 --duration 30 --mock-origin http://127.0.0.1:8080

Targets (issue 5): at 20 users ttfc p50 within 2 ms and p95 within 5 ms of the truth, inter_chunk p50 within
2 ms of 20 ms. Exit status 1 when the 20-user run misses them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from apigate.loadrun import LoadOptions, run_load
from apigate.mocks.settings import MockSettings

FIRST_MS = 150.0
GAP_MS = 20.0


def measure(users: int, duration: float, out: Path, mock_origin: str | None) -> dict[str, Any]:
    options = LoadOptions(
        scenario="stream", users=users, spawn_rate=float(users), duration_s=duration,
        mock=MockSettings(first_chunk_ms=FIRST_MS, chunk_interval_ms=GAP_MS, chunks=8),
        progress_interval_s=10.0, max_failure_rate=1.0,
    )
    result = run_load(options, out, mock_origin=mock_origin, progress=None)
    return result.summary


def report(users: int, summary: dict[str, Any]) -> bool:
    m = summary["metrics"]

    def p(name: str, q: str) -> float:
        return float(m[name][q]) if name in m else float("nan")

    ttfc50, ttfc95 = p("codemie.stream.ttfc", "p50"), p("codemie.stream.ttfc", "p95")
    truth50, truth95 = p("truth.stream.ttfc", "p50"), p("truth.stream.ttfc", "p95")
    gap50 = p("codemie.stream.inter_chunk", "p50")
    streams = summary["requests"].get("codemie.stream", {})
    print(f"\n== {users} concurrent streaming users, {summary['duration_s']:.0f} s: "
          f"{streams.get('count', 0)} streams, {streams.get('failures', 0)} failed")
    print(f"  ttfc           reported p50 {ttfc50:8.3f}  p95 {ttfc95:8.3f} ms")
    print(f"  vs configured  {FIRST_MS:.0f} ms:  p50 {ttfc50 - FIRST_MS:+7.3f}  p95 {ttfc95 - FIRST_MS:+7.3f} ms")
    print(f"  server stamps  p50 {truth50:8.3f}  p95 {truth95:8.3f} ms   (received -> first chunk written)")
    print(f"  vs stamps      p50 {ttfc50 - truth50:+7.3f}  p95 {ttfc95 - truth95:+7.3f} ms")
    for name, label in (("truth.stream.ttfc_error", "per-request error (reported - stamps)"),
                        ("truth.stream.request_leg", "request leg (client sent -> mock received)"),
                        ("truth.stream.delivery_leg", "delivery leg (mock sent -> client arrival)"),
                        ("client.stream.read_lag", "read lag (arrival -> read by Locust; not in ttfc)")):
        if name in m:
            print(f"  {label:52s} p50 {p(name, 'p50'):7.3f}  p95 {p(name, 'p95'):7.3f}  p99 {p(name, 'p99'):7.3f}")
    print(f"  inter_chunk    reported p50 {gap50:8.3f} ms (configured {GAP_MS:.0f}; stamps p50 "
          f"{p('truth.stream.inter_chunk', 'p50'):.3f}, p95 {p('truth.stream.inter_chunk', 'p95'):.3f}; "
          f"reported p95 {p('codemie.stream.inter_chunk', 'p95'):.3f})")
    checks = {
        "ttfc p50 within 2 ms of truth (configured and stamps)":
            abs(ttfc50 - FIRST_MS) <= 2 and abs(ttfc50 - truth50) <= 2,
        "ttfc p95 within 5 ms of truth (stamps)": abs(ttfc95 - truth95) <= 5,
        "ttfc p95 within 5 ms of configured": abs(ttfc95 - FIRST_MS) <= 5,
        "inter_chunk p50 within 2 ms of 20": abs(gap50 - GAP_MS) <= 2,
        "no failed streams": streams.get("failures", 1) == 0,
    }
    for label, passed in checks.items():
        print(f"  [{'PASS' if passed else 'FAIL'}] {label}")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--mock-origin", default=None, help="use a running mock (150 ms / 20 ms) instead")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="apigate-accuracy-"))
    verdicts = []
    for users in args.users:
        summary = measure(users, args.duration, base / f"u{users}", args.mock_origin)
        verdicts.append(report(users, summary))
    print(f"\nreports under {base}")
    return 0 if verdicts and verdicts[0] else 1


if __name__ == "__main__":
    sys.exit(main())
