"""Is the chat scenario cheap enough? Its req/s next to a bare Locust FastHttpUser, same endpoint, same run.

One Locust run holds U ``CodemieChatUser`` (the scenario: token renewal check, key check, exact sample) and U
``BareCodemieChatUser`` (the same request and token, nothing checked or recorded), against the mock's non-streamed
chat. Locust's own request counts of both, from the same run, give the ratio. Target (issue 5): >= 80%.

    python benchmarks/load_overhead.py                    # 2 x 20 users, 20 s, chat answered at once
    python benchmarks/load_overhead.py --users 50 --duration 30 --chat-latency-ms 0
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from apigate.loadrun import LoadOptions, run_load
from apigate.loadrun.runner import locust_request_counts
from apigate.mocks.settings import MockSettings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="users of each kind (default 20)")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--chat-latency-ms", type=float, default=0.0)
    parser.add_argument("--mock-origin", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="apigate-overhead-"))
    options = LoadOptions(
        scenario="chat", users=2 * args.users, spawn_rate=float(2 * args.users), duration_s=args.duration,
        mock=MockSettings(chat_latency_ms=args.chat_latency_ms), max_failure_rate=1.0,
        locustfile="bench_overhead.py", classes=("CodemieChatUser", "BareCodemieChatUser"),
    )
    result = run_load(options, out, mock_origin=args.mock_origin, progress=None)
    counts = locust_request_counts(out)  # Locust's own tally of both, same run, same clock
    seconds = float(result.summary["duration_s"])
    scenario, bare = counts.get("codemie.chat", 0) / seconds, counts.get("bare.codemie.chat", 0) / seconds
    exact = result.summary["requests"].get("codemie.chat", {})
    print(f"{args.users} + {args.users} users, {seconds:.1f} s, mock chat latency {args.chat_latency_ms} ms")
    print(f"  bare FastHttpUser      {bare:9.1f} req/s  ({counts.get('bare.codemie.chat', 0)} requests)")
    print(f"  chat scenario          {scenario:9.1f} req/s  ({counts.get('codemie.chat', 0)} requests, "
          f"{exact.get('failures', '?')} failed; exact samples {exact.get('count', 0)})")
    ratio = scenario / bare if bare else 0.0
    print(f"  ratio                  {ratio:9.1%}   [{'PASS' if ratio >= 0.8 else 'FAIL'}] >= 80%")
    print(f"report: {out}")
    return 0 if ratio >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
