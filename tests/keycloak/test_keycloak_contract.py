"""``apigate contract --api keycloak`` against the real Keycloak passes, with every explicit check run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apigate.config import KeycloakTarget

MIN_CHECKS = 1000  # schemathesis' phases and the explicit checks of five operations


def test_contract_passes_against_keycloak(keycloak: KeycloakTarget, apigate: Callable[..., Any], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    run = apigate("contract", "--api", "keycloak", "--out", str(tmp_path / "report"))
    assert run.code == 0, f"apigate contract failed against {keycloak.url}:\n{run.output[-6000:]}"
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    result = summary["contract"]["keycloak"]
    assert result["passed"] and not result["failures"]
    assert result["checks"] >= MIN_CHECKS
    # every explicit check ran: a skipped one prints a note (an account or an expired token that was not there)
    assert "skipped" not in run.output, run.output[-3000:]
    with capsys.disabled():
        print(f"\nkeycloak tier: apigate contract --api keycloak against {keycloak.url}: {result['checks']} checks, "
              f"{len(result['failures'])} failures in {summary['duration_s']:.1f} s")
