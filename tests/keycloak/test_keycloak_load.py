"""A short, bounded ``apigate load --scenario tokens`` against the real Keycloak: no failure, exact percentiles."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apigate.config import KeycloakTarget

USERS = 4  # half of them Keycloak token users (the other half: Basejump's, on the embedded mock)
DURATION = "20s"
KEYCLOAK_METRICS = ("keycloak.token.password", "keycloak.token.client_credentials")


def test_token_scenario_runs_without_failures(keycloak: KeycloakTarget, apigate: Callable[..., Any], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    run = apigate("load", "--scenario", "tokens", "-u", str(USERS), "-t", DURATION, "--max-failure-rate", "0",
                  "--out", str(tmp_path / "load"), timeout=300)
    assert run.code == 0, run.output[-4000:]
    summary = json.loads((tmp_path / "load" / "summary.json").read_text())
    assert summary["failures"] == [], summary["failures"]
    lines = []
    for name in KEYCLOAK_METRICS:
        requests, metric = summary["requests"][name], summary["metrics"][name]
        assert requests["count"] > 0 and requests["failures"] == 0, (name, requests)
        assert metric["count"] == requests["count"] and 0 < metric["p50"] <= metric["p95"] <= metric["max"]
        lines.append(f"  {name}: {metric['count']} tokens, p50 {metric['p50']:.1f} ms, p90 {metric['p90']:.1f}, "
                     f"p95 {metric['p95']:.1f}, p99 {metric['p99']:.1f}, max {metric['max']:.1f}")
    with capsys.disabled():
        print(f"\nkeycloak tier: apigate load --scenario tokens -u {USERS} -t {DURATION} against {keycloak.url}:")
        print("\n".join(lines))
