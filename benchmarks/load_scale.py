"""Does the load generator scale? Many open streams in one worker, and an exact merge across workers.

1. ``streams``: one Locust worker process (master + 1 worker) holds N concurrent open streams (default 500) for
   60 s against the mock with a long first-chunk delay: every stream must complete without an error.
2. ``merge``: ``--workers 2`` runs every scenario; the merged summary's counts must equal the sum of what each
   worker says it measured, and Locust's own final tally.

    python benchmarks/load_scale.py                 # both
    python benchmarks/load_scale.py merge           # only the merge check
    python benchmarks/load_scale.py streams --users 500 --duration 60 --first-chunk-ms 25000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from apigate.loadrun import LoadOptions, run_load
from apigate.loadrun.runner import locust_request_counts
from apigate.mocks.settings import MockSettings


def streams(users: int, duration: float, first_chunk_ms: float, out: Path, mock_origin: str | None) -> bool:
    options = LoadOptions(
        scenario="stream", users=users, spawn_rate=float(users), duration_s=duration, workers=1,
        mock=MockSettings(first_chunk_ms=first_chunk_ms, chunk_interval_ms=20, chunks=8), max_failure_rate=0.0,
    )
    started = time.monotonic()
    result = run_load(options, out, mock_origin=mock_origin, progress=None)
    s = result.summary
    req = s["requests"].get("codemie.stream", {"count": 0, "failures": 0})
    ttfc = s["metrics"].get("codemie.stream.ttfc", {})
    lag = s["metrics"].get("client.stream.read_lag", {})
    per_user = (duration - 1.0) // (first_chunk_ms / 1000.0 + 0.2)
    print(f"== {users} streaming users in one worker process, {s['duration_s']:.0f} s "
          f"(first chunk after {first_chunk_ms / 1000:.0f} s; wall {time.monotonic() - started:.0f} s)")
    print(f"  streams completed {req['count']} (expected >= {int(per_user * users)}), failed {req['failures']}, "
          f"failure reasons {s['failures']}")
    if ttfc:
        print(f"  ttfc p50 {ttfc['p50']:.1f} ms  p99 {ttfc['p99']:.1f} ms  max {ttfc['max']:.1f} ms; "
              f"read lag p99 {lag.get('p99', float('nan')):.1f} ms")
    passed = req["failures"] == 0 and not s["failures"] and req["count"] >= per_user * users
    print(f"  [{'PASS' if passed else 'FAIL'}] {users} concurrent open streams without errors")
    return passed


def merge(out: Path, duration: float, mock_origin: str | None, scenario: str) -> bool:
    options = LoadOptions(
        scenario=scenario, users=20, spawn_rate=20.0, duration_s=duration, workers=2,
        mock=MockSettings(first_chunk_ms=50, chunk_interval_ms=5, chunks=4, chat_latency_ms=5,
                          basejump_message_latency_ms=5),
    )
    result = run_load(options, out, mock_origin=mock_origin, progress=None)
    s = result.summary
    workers = s.get("workers", {})
    locust = locust_request_counts(out)
    print(f"== --workers 2, scenario {scenario}, {s['duration_s']:.0f} s: {len(workers)} workers reported")
    ok = len(workers) == 2
    print(f"  {'request':36s} {'merged':>8s} {'sum of workers':>15s} {'Locust':>8s}")
    for name, row in s["requests"].items():
        total = sum(w["requests"].get(name, [0, 0])[0] for w in workers.values())
        same = row["count"] == total == locust.get(name)
        ok &= same
        print(f"  {name:36s} {row['count']:8d} {total:15d} {locust.get(name, -1):8d}  {'=' if same else 'MISMATCH'}")
    for metric, m in s["metrics"].items():
        total = sum(w["samples"].get(metric, 0) for w in workers.values())
        ok &= m["count"] == total
    print(f"  samples per metric equal the workers' sums: {all(m['count'] == sum(w['samples'].get(k, 0) for w in workers.values()) for k, m in s['metrics'].items())}")
    print(f"  [{'PASS' if ok else 'FAIL'}] one merged summary whose counts equal the sum of the workers'")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("check", nargs="*", choices=["streams", "merge"], default=["merge", "streams"])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--first-chunk-ms", type=float, default=25000.0)
    parser.add_argument("--merge-duration", type=float, default=10.0)
    parser.add_argument("--merge-scenario", default="all", choices=["all", "tokens", "chat", "stream"])
    parser.add_argument("--mock-origin", default=None, help="use a running mock (streams: with the long delay)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="apigate-scale-"))
    results = []
    if "merge" in args.check:
        results.append(merge(base / "merge", args.merge_duration, args.mock_origin, args.merge_scenario))
    if "streams" in args.check:
        results.append(streams(args.users, args.duration, args.first_chunk_ms, base / "streams", args.mock_origin))
    print(f"reports under {base}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
