"""``apigate run``'s job logic: a step that stops with an error fails the report, and nothing finished is lost."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import apigate.contract
from apigate.config import load_target
from apigate.errors import ConfigError, ConnectError
from apigate.job import PROFILES, JobOptions, run_job

FINISHED = {"codemie": {"passed": True, "checks": 120, "failures": []}}


def _contract_stopping_at_basejump(target: Any, *, out_dir: Path, **_kw: Any) -> Any:
    """What run_contract does when an API is unreachable: write the finished APIs' results, then raise."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps({"contract": FINISHED}), encoding="utf-8")
    raise ConnectError("basejump at http://127.0.0.1:9: cannot connect")


def test_a_step_error_fails_every_report_and_keeps_the_finished_contract_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apigate.contract, "run_contract", _contract_stopping_at_basejump)
    out = tmp_path / "run"
    result = run_job(load_target("http://127.0.0.1:9"), JobOptions(PROFILES["smoke"], out), lambda _line: None)

    assert result.exit_code == 2
    assert result.errors == ["contract suite: basejump at http://127.0.0.1:9: cannot connect"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["contract"] == FINISHED  # measured before the error: kept
    markdown = (out / "summary.md").read_text()
    assert "PASSED" not in markdown.splitlines()[0] and "FAILED" in markdown.splitlines()[0]
    assert "contract suite completed" in markdown
    junit = ET.parse(out / "junit.xml").getroot()
    assert junit.get("errors") == "1"
    assert "gate: FAILED" in result.table
    assert "apigate: FAILED" in (out / "report.html").read_text()


def test_a_bad_thresholds_file_stops_the_job_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_a: Any, **_kw: Any) -> Any:
        raise AssertionError("the contract suite ran before the thresholds were read")

    monkeypatch.setattr(apigate.contract, "run_contract", never)
    bad = tmp_path / "thresholds.toml"
    bad.write_text("[limits\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        run_job(load_target("http://127.0.0.1:9"), JobOptions(PROFILES["smoke"], tmp_path / "run", thresholds=bad),
                lambda _line: None)
    assert not (tmp_path / "run").exists()
