"""A fixed, hand-written run (and baseline) for the snapshot tests: no randomness, no raw samples."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from apigate.gate import GateResult, evaluate, parse_thresholds
from apigate.redact import register_secret
from apigate.summary import Summary, parse_summary

SNAPSHOTS = Path(__file__).parent / "snapshots"
SECRET = "report-sentinel-client-secret-7781"


def _metric(p50: float, p95: float, count: int = 1000) -> dict[str, Any]:
    return {"unit": "ms", "count": count, "min": p50 * 0.8, "mean": p50 * 1.02, "p50": p50, "p90": p95 * 0.97,
            "p95": p95, "p99": p95 * 1.1, "max": p95 * 1.5}


def document(ttfc_p50: float, ttfc_p95: float, *, contract_ok: bool) -> dict[str, Any]:
    failures = [] if contract_ok else [{
        "operation": "POST /v1/assistants/{assistant_id}/model", "check": "stream.terminal_chunk",
        "reason": f"no terminal chunk | client_secret={SECRET}", "curl": "curl -H 'Authorization: Bearer abc.def' ..."}]
    return {
        "apigate_version": "0.1.0", "started_at": "2026-11-23T10:15:00Z", "duration_s": 30.0,
        "target": {"codemie": "http://127.0.0.1:8080/code-assistant-api"},
        "settings": {"scenario": "stream", "users": 20, "spawn_rate": 20, "shape": "steady", "workers": 0},
        "metrics": {"codemie.stream.ttfc": _metric(ttfc_p50, ttfc_p95), "codemie.chat": _metric(20.5, 24.0, 500)},
        "requests": {"codemie.stream": {"count": 1000, "failures": 3, "rps": 33.333},
                     "codemie.chat": {"count": 500, "failures": 0, "rps": 16.667}},
        "failures": [{"name": "codemie.stream", "reason": "no terminal chunk", "count": 3}],
        "timeline": [[t, 50, 1 if t == 10 else 0] for t in range(30)],
        "contract": {"codemie": {"passed": contract_ok, "checks": 42, "failures": failures},
                     "keycloak": {"passed": True, "checks": 17, "failures": []}},
    }


@pytest.fixture
def run() -> Summary:
    register_secret(SECRET)
    return parse_summary(document(452.0, 470.0, contract_ok=False), source="reports/run/summary.json")


@pytest.fixture
def baseline() -> Summary:
    return parse_summary(document(150.0, 160.0, contract_ok=True), source="reports/base/summary.json")


@pytest.fixture
def gate(run: Summary, baseline: Summary) -> GateResult:
    return evaluate(run, parse_thresholds('[limits]\n"codemie.stream.ttfc.p95" = 400\n'), baseline)


def check_snapshot(name: str, text: str) -> None:
    """Compare with ``snapshots/<name>``; APIGATE_UPDATE_SNAPSHOTS=1 rewrites it instead."""
    path = SNAPSHOTS / name
    if os.environ.get("APIGATE_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.write_text(text, encoding="utf-8")
        if os.environ.get("APIGATE_UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"snapshot {name} was missing and has been written: review it and run again")
    assert text == path.read_text(encoding="utf-8")
