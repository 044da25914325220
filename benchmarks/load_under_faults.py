"""Does the chat scenario hold its load when the API fails now and then?

``apigate load --scenario chat -u 10 -t 30s`` against the mock with 5 % of the connections reset and 5 % of the
answers 503: five CodeMie and five Basejump chat users. A Basejump user sets up a team, a database connection and a
chat first; a set-up call that meets a transient failure is retried with bounded backoff, and a user whose set-up
still fails tries again later instead of stopping. Before that, one such failure took the user out of the run
(measured: 1 Basejump chat against 1,444 CodeMie chats).

Targets: Basejump chats within 25 % of the CodeMie chats' count, and all 10 users set up and sending in every
second after the first (users over time, averaged per second).

    python benchmarks/load_under_faults.py
    python benchmarks/load_under_faults.py --users 20 --duration 60

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from apigate.loadrun import LoadOptions, run_load
from apigate.mocks.settings import MockSettings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="apigate-faults-"))
    load = os.getloadavg()[0]
    options = LoadOptions(scenario="chat", users=args.users, spawn_rate=float(args.users), duration_s=args.duration,
                          max_failure_rate=1.0, progress_interval_s=60.0,
                          mock=MockSettings(reset_rate=0.05, error_rate=0.05))
    summary = run_load(options, out, progress=None).summary
    requests = summary["requests"]
    codemie, basejump = requests["codemie.chat"], requests["basejump.chat"]
    setup = requests.get("basejump.setup", {"count": 0, "failures": 0})
    users = summary["users"]
    steady = users["timeline"][1:-1]  # whole seconds after the first (the last one is cut by the stop)
    least_active = min((row[2] for row in steady), default=0.0)
    ratio = basejump["count"] / codemie["count"] if codemie["count"] else 0.0
    print(f"\n== chat scenario, {args.users} users, {args.duration:g} s, 5 % resets + 5 % 503s; load average "
          f"{load:.1f} at start")
    print(f"  codemie.chat   {codemie['count']:7d} requests, {codemie['failures']} failed")
    print(f"  basejump.chat  {basejump['count']:7d} requests, {basejump['failures']} failed   "
          f"({ratio:.2f} x CodeMie's count)")
    print(f"  basejump.setup {setup['count']:7d} calls, {setup['failures']} failed (retried)")
    print(f"  users: {args.users} requested; set up and sending {users['active_fraction']:.1%} of their time; "
          f"fewest active in a second after the first: {least_active:.2f}; stopped: {users['stopped'] or 'none'}")
    checks = {
        "Basejump chats within 25 % of CodeMie's": abs(1 - ratio) <= 0.25,
        f"all {args.users} users sending in every second after the first": least_active >= args.users - 0.5,
        "no user stopped": not users["stopped"],
    }
    for label, passed in checks.items():
        print(f"  [{'PASS' if passed else 'FAIL'}] {label}")
    print(f"\nreport folder {out}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
