"""The gate on real load runs: identical settings pass, a 300 ms slower first chunk fails naming the metric,
and a contract failure fails the gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import apigate

pytestmark = pytest.mark.slow


def _stream_run(folder: Path, first_chunk_ms: int) -> Path:
    result = apigate("load", "--scenario", "stream", "-u", "4", "-r", "4", "-t", "6s", "--out", str(folder),
                     "--first-chunk-ms", str(first_chunk_ms), "--chunk-interval-ms", "5", "--chunks", "4")
    assert result.code == 0, result.stderr[-2000:]
    return folder / "summary.json"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("gate")
    return {
        "baseline": _stream_run(root / "baseline", 100),
        "same": _stream_run(root / "same", 100),
        "slower": _stream_run(root / "slower", 400),
    }


def test_identical_run_passes(runs: dict[str, Path]) -> None:
    result = apigate("gate", str(runs["baseline"]), "--baseline", str(runs["baseline"]))
    assert result.code == 0, result.stdout


def test_noise_level_difference_passes(runs: dict[str, Path]) -> None:
    result = apigate("gate", str(runs["same"]), "--baseline", str(runs["baseline"]))
    assert result.code == 0, result.stdout


def test_first_chunk_300_ms_slower_fails_naming_ttfc(runs: dict[str, Path]) -> None:
    result = apigate("gate", str(runs["slower"]), "--baseline", str(runs["baseline"]))
    assert result.code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert any("codemie.stream.ttfc" in line for line in failed), result.stdout


def test_contract_failure_fails_the_gate(tmp_path: Path) -> None:
    contract = apigate("contract", "--api", "keycloak", "--max-examples", "5", "--out", str(tmp_path),
                       "--break", "keycloak.token.no_expires_in")
    assert contract.code == 1, contract.stderr[-2000:]
    result = apigate("gate", str(tmp_path / "summary.json"))
    assert result.code == 1
    assert any(line.startswith("FAIL") and "contract keycloak" in line for line in result.stdout.splitlines())
