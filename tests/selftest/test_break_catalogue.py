"""The suite proves its own worth: ``apigate contract`` fails on every catalogued contract break, passes without.

Each break of :data:`apigate.mocks.settings.BREAKS` is switched on alone in the embedded mock that
``apigate contract --break NAME`` starts, against the API the break belongs to; the faithful mock runs all three.
Runs are real ``apigate contract`` processes (two at a time), with a small ``--max-examples`` and a fixed seed.

A break of a version-dependent rule (:data:`WARNED`: the contract marks it, because an older server version is
observed to behave that way) is a warning, not a failure: it is run with ``--strict``, and the warning must name
the check that found it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from apigate.config import ENV_VARS
from apigate.mocks.settings import BREAKS

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 5
SEED = 20261123
PARALLEL = 2
TIMEOUT_S = 240
BASELINE = "(none)"
# break -> (operation, check) of the warning that must report it; run with --strict
WARNED: dict[str, tuple[str, str]] = {
    # CodeMie 0.16.0 ignores sort_by / sort_order; current servers answer 422 (version-dependent)
    "codemie.assistants.sort_unchecked": ("GET /v1/assistants", "assistants.unknown_sort_by"),
}


@dataclass(frozen=True)
class Run:
    name: str
    code: int
    output: str
    out_dir: Path

    def warnings(self) -> set[tuple[str, str]]:
        summary = self.out_dir / "summary.json"
        if not summary.exists():
            return set()
        contract = json.loads(summary.read_text(encoding="utf-8"))["contract"]
        return {(w["operation"], w["check"]) for api in contract.values() for w in api["warnings"]}

    def failing_checks(self) -> list[str]:
        junit = self.out_dir / "junit.xml"
        if not junit.exists():
            return []
        root = ElementTree.parse(junit).getroot()
        return [str(f.get("type")) for f in root.iter("failure")]


def _run(name: str, root: Path) -> Run:
    args = ["--api", name.split(".", 1)[0], "--break", name] if name != BASELINE else ["--api", "all"]
    if name in WARNED:
        args.append("--strict")
    out_dir = root / name.replace("(", "").replace(")", "")
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS and k != "APIGATE_CONFIG"}
    proc = subprocess.run(
        [sys.executable, "-m", "apigate", "contract", *args, "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
         "--out", str(out_dir)],
        capture_output=True, text=True, timeout=TIMEOUT_S, env=env, cwd=root, check=False,
    )
    return Run(name, proc.returncode, proc.stdout + proc.stderr, out_dir)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("selftest")
    names = [BASELINE, *sorted(BREAKS)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = dict(zip(names, pool.map(lambda n: _run(n, root), names), strict=True))
    return results


def test_catalogue_is_large_and_spans_the_three_apis() -> None:
    assert len(BREAKS) >= 15
    assert {name.split(".", 1)[0] for name in BREAKS} == {"codemie", "keycloak", "basejump"}


def test_faithful_mock_passes(runs: dict[str, Run]) -> None:
    run = runs[BASELINE]
    assert run.code == 0, f"false alarm on the faithful mock:\n{run.output[-4000:]}"
    assert (run.out_dir / "junit.xml").exists() and (run.out_dir / "summary.json").exists()
    contract = json.loads((run.out_dir / "summary.json").read_text(encoding="utf-8"))["contract"]
    warnings = [w for api in contract.values() for w in api["warnings"]]
    assert not warnings, f"the faithful mock breaks the contracts' assumptions: {warnings[:3]}"


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_break_is_detected(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    assert run.code == 1, f"{name} ({BREAKS[name]}) not detected (exit {run.code}):\n{run.output[-3000:]}"
    if name in WARNED:
        assert WARNED[name] in run.warnings(), f"{name}: no warning {WARNED[name]}: {sorted(run.warnings())}"
        assert "(--strict)" in run.output
        return
    assert run.failing_checks(), f"{name}: exit 1 but no failure in junit.xml"


def test_warned_breaks_are_catalogued() -> None:
    assert set(WARNED) <= set(BREAKS)


def test_detection_rate(runs: dict[str, Run], capsys: pytest.CaptureFixture[str]) -> None:
    detected = sorted(name for name in BREAKS if runs[name].code == 1)
    missed = sorted(set(BREAKS) - set(detected))
    with capsys.disabled():
        print(f"\nself-test detection rate: {len(detected)}/{len(BREAKS)} breaks detected; "
              f"faithful mock exit {runs[BASELINE].code}" + (f"; missed: {', '.join(missed)}" if missed else ""))
    assert not missed
