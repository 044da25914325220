"""Verdicts a team can trust, end to end.

* Against a server that differs from the contracts only where the public facts are silent (the mock's
  ``--variant independent``: every assumed behaviour answered the other way), ``apigate contract`` passes all three
  APIs and reports the differences as warnings; ``--strict`` turns them into a failure. (The self-test in
  tests/selftest proves the same suite still fails on every catalogued break of documented facts.)
* The same seed gives the same verdict twice, and a run leaves no example database behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Completed, apigate

pytestmark = pytest.mark.slow

SEED = "20261123"


def _run(tmp: Path, name: str, *args: str, max_examples: int = 10) -> tuple[Completed, dict[str, Any]]:
    out = tmp / name
    result = apigate("contract", "--max-examples", str(max_examples), "--seed", SEED, "--out", str(out), *args,
                     cwd=tmp, timeout=400)
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return result, summary


@pytest.fixture(scope="module")
def independent(tmp_path_factory: pytest.TempPathFactory) -> tuple[Completed, dict[str, Any]]:
    return _run(tmp_path_factory.mktemp("variant"), "independent", "--variant", "independent")


def test_an_independent_server_passes_with_warnings(independent: tuple[Completed, dict[str, Any]]) -> None:
    result, summary = independent
    contract = summary["contract"]
    assert result.code == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert set(contract) == {"codemie", "keycloak", "basejump"}
    assert all(api["passed"] and api["failures"] == [] for api in contract.values())
    assert "warnings — assumed constraints and HTTP-layer answers" in result.stdout
    warnings = {(w["operation"], w["check"]) for w in contract["basejump"]["warnings"]}
    expected = {
        ("POST /account/team/", "negative_data_rejection"),  # an empty team_name is accepted
        ("POST /chat/team/{team_uuid}/", "negative_data_rejection"),  # a history item's content {} is accepted
        ("POST /chat/{chat_uuid}/message/", "negative_data_rejection"),  # timestamp "" is accepted
        ("POST /account/team/", "auth.no_credentials"),  # missing credentials: 403, not 401
        ("POST /auth/access_token/", "auth.user_uuid_mismatch"),  # another user's uuid: 403, not 401
        ("POST /auth/access-token/", "auth.baseline"),  # the dashed alias is not served
        ("POST /account/user/{user_uuid}/team/{team_uuid}/", "response_schema_conformance"),  # answers null
    }
    assert expected <= warnings, sorted(warnings)
    notes = " ".join(w["note"] for w in contract["basejump"]["warnings"])
    assert "minLength" in notes and "the documented 401 is assumed" in notes
    # the assumptions the CodeMie and Keycloak contracts mark: list-query bounds, the thought enums of a streamed
    # answer, the version-dependent sort validation (an unknown sort_by ignored, as 0.16.0 does), a userinfo
    # refusal's JSON body
    codemie = {(w["operation"], w["check"]) for w in contract["codemie"]["warnings"]}
    assert {("GET /v1/assistants", "negative_data_rejection"), ("GET /v1/assistants", "assistants.unknown_sort_by"),
            ("POST /v1/assistants/{assistant_id}/model", "stream.rules")} <= codemie, sorted(codemie)
    assert ("GET /realms/{realm}/protocol/openid-connect/userinfo", "auth.no_credentials") in {
        (w["operation"], w["check"]) for w in contract["keycloak"]["warnings"]}


def test_strict_fails_on_the_same_warnings(tmp_path: Path) -> None:
    result, summary = _run(tmp_path, "strict", "--variant", "independent", "--api", "basejump", "--strict",
                           max_examples=3)
    assert result.code == 1
    basejump = summary["contract"]["basejump"]
    assert not basejump["passed"] and basejump["failures"] == [] and basejump["warnings"]
    assert "(--strict)" in result.stdout


def _verdicts(summary: dict[str, Any]) -> dict[str, Any]:
    return {api: {"passed": result["passed"], "seed": result["seed"], "checks": result["checks"],
                  "findings": sorted((f["operation"], f["check"], f["severity"], f.get("note", ""))
                                     for section in ("failures", "warnings", "known")
                                     for f in result[section])}
            for api, result in summary["contract"].items()}


def test_the_same_seed_gives_the_same_verdict_twice(independent: tuple[Completed, dict[str, Any]],
                                                    tmp_path: Path) -> None:
    _, first = independent
    result, second = _run(tmp_path, "again", "--variant", "independent")
    assert _verdicts(second) == _verdicts(first)
    assert second["settings"]["seed"] == int(SEED) and f"seed {SEED}" in result.stdout
    assert f'name="seed" value="{SEED}"' in (tmp_path / "again" / "junit.xml").read_text(encoding="utf-8")
    assert not (tmp_path / ".hypothesis").exists()  # no example database carried from one run to the next

