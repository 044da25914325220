"""How long `apigate diff` takes on a big spec history: a generated ~3 MB OpenAPI 3.1 document (a few hundred
operations sharing deeply nested components; see spec_history.py) against its version 39 commits of realistic edits
later, and on a small pair; end to end (a fresh `python -m apigate diff` process, as a user runs it) and by phase.

    python benchmarks/diff_history.py [--repeat 3] [--reference] [--keep DIR]

Targets on this machine: the big pair under 5 s end to end, a small pair under 0.3 s. Each figure is printed next to
its reference from the same run: the interpreter's bare start for the small pair; with --reference, the same diff
comparing every schema pair afresh at every place it is used (how apigate diffed before it reused comparisons),
which must give the same findings. Also printed: the findings count before and after grouping by cause, and the
load average (the machine is shared: re-run when it is low, compare ratios).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from spec_history import dump, history

from apigate.diff import group_findings, load_document, render
from apigate.diff.compare import _Differ


def _median(runs: int, action: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _process(argv: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of a fresh process (on a busy machine the CPU time is the steadier figure)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, timeout=600)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _runs(argv: list[str], count: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``count`` runs."""
    results = [_process(argv) for _ in range(count)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _write_pair(folder: Path, name: str, commits: int, resources: int, seed: int) -> tuple[Path, Path, int]:
    old, new, edits = history(seed=seed, commits=commits, resources=resources)
    old_path, new_path = folder / f"{name}-old.yaml", folder / f"{name}-new.yaml"
    old_path.write_text(dump(old), encoding="utf-8")
    new_path.write_text(dump(new), encoding="utf-8")
    operations = sum(len(item) for item in old["paths"].values())
    schemas = len(old["components"]["schemas"])
    print(f"{name} pair: {old_path.stat().st_size / 1e6:.2f} MB → {new_path.stat().st_size / 1e6:.2f} MB YAML, "
          f"{operations} operations, {schemas} schemas, {len(edits)} edits in {commits} commits")
    return old_path, new_path, operations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the median is printed)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--reference", action="store_true",
                        help="also diff comparing every schema pair afresh (slow) and check the findings are the same")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write the generated documents there (kept)")
    args = parser.parse_args()
    print(f"load average {_load()}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        old_path, new_path, _ops = _write_pair(folder, "big", 39, 90, args.seed)
        old_s, new_s = str(old_path), str(new_path)

        parse_old, old = _median(args.repeat, lambda: load_document(old_s))
        parse_new, new = _median(args.repeat, lambda: load_document(new_s))
        differ: list[_Differ] = []

        def compare() -> Any:
            differ.append(_Differ(old, new))
            return differ[-1].run()

        compare_time, findings = _median(args.repeat, compare)
        group_time, changes = _median(args.repeat, lambda: group_findings(findings))
        render_time, _text = _median(args.repeat, lambda: render(findings, "text", old=old_s, new=new_s))
        print(f"  parse old {parse_old:.2f} s, parse new {parse_new:.2f} s, compare {compare_time:.2f} s "
              f"({differ[-1].schemas.comparisons:,} schema comparisons), group {group_time:.3f} s, "
              f"render {render_time:.3f} s")
        wall, cpu = _runs([sys.executable, "-m", "apigate", "diff", old_s, new_s], args.repeat)
        print(f"  end to end (python -m apigate diff): {wall:.2f} s (CPU {cpu:.2f} s)   target < 5 s")
        severity = {s: sum(1 for c in changes if c.severity == s) for s in ("breaking", "warning", "compatible")}
        print(f"  findings: {len(findings):,} before grouping → {len(changes)} changes after "
              f"({severity['breaking']} breaking, {severity['warning']} warning, {severity['compatible']} compatible)")
        if args.reference:
            start = time.perf_counter()
            fresh = _Differ(old, new, memoize=False)
            fresh_findings = fresh.run()
            elapsed = time.perf_counter() - start
            same = [(f.severity, f.rule, f.location, f.old, f.new) for f in fresh_findings] == \
                [(f.severity, f.rule, f.location, f.old, f.new) for f in findings]
            print(f"  reference, every pair compared afresh: compare {elapsed:.2f} s "
                  f"({fresh.schemas.comparisons:,} schema comparisons); same findings: {'yes' if same else 'NO'}")

        small_old, small_new, _ = _write_pair(folder, "small", 3, 1, args.seed)
        wall, cpu = _runs([sys.executable, "-m", "apigate", "diff", str(small_old), str(small_new)], 10)
        bare_wall, bare_cpu = _runs([sys.executable, "-c", "pass"], 10)
        print(f"  end to end (python -m apigate diff): {wall:.3f} s (CPU {cpu:.3f} s)   target < 0.3 s   "
              f"(reference: the interpreter's bare start {bare_wall:.3f} s, CPU {bare_cpu:.3f} s)")
    print(f"load average {_load()}")


if __name__ == "__main__":
    main()
