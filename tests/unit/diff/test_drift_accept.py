"""``apigate drift --accept``: drift findings accepted by rule and place (a FastAPI-generated document declares
things the server does not do) are shown as known and do not fail; others still do; an entry that matches nothing
is reported fixed; an expired entry fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from apigate.cli import main
from apigate.resources import contract_path

from ._server import serving
from .test_drift import LIVE_CODEMIE_ENV

DROPPED = "response-media-type-removed"
BY_ID = "/v1/assistants/{assistant_id}/model"
BY_SLUG = "/v1/assistants/slug/{slug}/model"


def _entry(path: str, extra: str = "") -> str:
    return (f'[[accept]]\napi = "codemie"\nrule = "{DROPPED}"\npath = "{path}"\nmethod = "POST"\n'
            f'where = "response 200 application/x-ndjson"\nreason = "the live build streams SSE only (CM-9)"\n{extra}')


FILES = {
    "one": _entry(BY_ID),
    "both": _entry(BY_ID) + _entry(BY_SLUG),
    "stale": _entry(BY_ID) + _entry(BY_SLUG) + _entry("/v1/user"),
    "expired": _entry(BY_ID) + _entry(BY_SLUG, "expires = 2020-01-01\n"),
}


def test_drift_findings_are_accepted_by_rule_and_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    live: dict[str, Any] = yaml.safe_load(contract_path("codemie").read_text(encoding="utf-8"))
    del live["components"]["responses"]["ChatAnswer"]["content"]["application/x-ndjson"]  # two breaking findings
    monkeypatch.chdir(tmp_path)
    for name in ("APIGATE_BASEJUMP_URL", "APIGATE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name, text in FILES.items():
        (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
    with serving({"/code-assistant-api/openapi.json": json.dumps(live)}) as origin:
        monkeypatch.setenv("APIGATE_KEYCLOAK_URL", origin + "/auth")
        monkeypatch.setenv("APIGATE_CODEMIE_URL", origin + "/code-assistant-api")
        for key, value in LIVE_CODEMIE_ENV.items():
            monkeypatch.setenv(key, value)
        codes = {name: main(["drift", "--api", "codemie", "--accept", str(tmp_path / f"{name}.toml")])
                 for name in FILES}
        text = capsys.readouterr().out
        assert main(["drift", "--api", "codemie", "--format", "json", "--accept", str(tmp_path / "stale.toml")]) == 0
        [report] = json.loads(capsys.readouterr().out)["apis"]
    assert codes == {"one": 1, "both": 0, "stale": 0, "expired": 1}
    assert f"known (accepted): breaking {DROPPED} POST {BY_ID}" in text
    assert "EXPIRED acceptance" in text and "FIXED accept entry codemie drift" in text
    assert report["findings"] == [] and len(report["known"]) == 2
    assert [e["severity"] for e in report["accept_entries"]] == ["fixed"]
