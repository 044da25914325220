"""Verdict stability: ``apigate contract --api all`` against the embedded mock N times, each with fresh randomness.

A contract suite is only worth its false-alarm rate. Every run is a real ``apigate contract`` process (its own
embedded mock, the default number of examples) with ``--seed random``; the faithful mock must pass every time. Prints
each run (seed, verdict, time, and the failing checks of a failed run, with the seed that replays it), then the
figure next to its target: N of N passes.

    python benchmarks/verdict_stability.py [--runs 30] [--max-examples 25] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from apigate.contract.defaults import DEFAULT_MAX_EXAMPLES


def run_once(folder: Path, max_examples: int) -> tuple[int, float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APIGATE_")}  # the embedded mock, always
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "apigate", "contract", "--api", "all", "--seed", "random",
         "--max-examples", str(max_examples), "--out", str(folder)],
        capture_output=True, text=True, env=env, cwd=folder.parent, timeout=1800, check=False,
    )
    elapsed = time.perf_counter() - started
    summary: dict[str, Any] = {}
    if (folder / "summary.json").exists():
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    if proc.returncode not in (0, 1):
        summary.setdefault("error", (proc.stderr.strip().splitlines() or ["(no output)"])[-1])
    return proc.returncode, elapsed, summary


def describe(code: int, summary: dict[str, Any]) -> list[str]:
    """The failing checks (and warnings) of one run, one line each."""
    lines = []
    for api, result in (summary.get("contract") or {}).items():
        for failure in result.get("failures", []):
            lines.append(f"    FAIL {api} {failure['operation']} {failure['check']}: {failure['reason'][:160]}")
        for warning in result.get("warnings", []):
            lines.append(f"    warn {api} {warning['operation']} {warning['check']}: {warning.get('note', '')[:160]}")
    if code not in (0, 1):
        lines.append(f"    ERROR (exit {code}): {summary.get('error', '')}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES)
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR", help="keep the runs' report folders here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="apigate-stability-") as scratch:
        root = args.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        passes = 0
        failed_checks: dict[str, int] = {}
        times: list[float] = []
        for i in range(1, args.runs + 1):
            code, elapsed, summary = run_once(root / f"run-{i:03d}", args.max_examples)
            times.append(elapsed)
            seed = (summary.get("settings") or {}).get("seed", "?")
            checks = sum(r.get("checks", 0) for r in (summary.get("contract") or {}).values())
            verdict = "pass" if code == 0 else "FAIL" if code == 1 else f"ERROR {code}"
            print(f"run {i:3d}/{args.runs}: {verdict:5} seed {seed:>10}  {checks:6d} checks  {elapsed:5.1f}s",
                  flush=True)
            for line in describe(code, summary):
                print(line, flush=True)
            if code == 0:
                passes += 1
            else:
                print(f"    replay: apigate contract --api all --seed {seed}", flush=True)
                for result in (summary.get("contract") or {}).values():
                    for failure in result.get("failures", []):
                        key = f"{failure['operation']} {failure['check']}"
                        failed_checks[key] = failed_checks.get(key, 0) + 1
        print(f"\nverdict stability: {passes}/{args.runs} runs passed against the faithful mock "
              f"(target: {args.runs}/{args.runs}); {sum(times) / len(times):.1f}s per run")
        for key, count in sorted(failed_checks.items(), key=lambda kv: -kv[1]):
            print(f"  failed in {count} run(s): {key}")


if __name__ == "__main__":
    main()
