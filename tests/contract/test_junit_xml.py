"""JUnit XML stays well-formed when a failure quotes a generated body holding characters XML 1.0 cannot hold."""

from __future__ import annotations

from xml.etree import ElementTree

from apigate.contract.report import render_junit
from apigate.contract.results import ApiResult, ContractResult


def test_characters_xml_cannot_hold_are_written_as_escapes() -> None:
    api = ApiResult("codemie", "http://127.0.0.1:1/code-assistant-api", duration_s=1.0)
    body = '{"text": "a\x0cb\x00c\ud800"}'
    api.record("POST /v1/assistants/{assistant_id}/model", "positive_data_acceptance",
               AssertionError(f"Schema-valid request rejected: {body}"), curl=f"curl -d '{body}' http://x")
    xml = render_junit(ContractResult("2026-12-04T10:00:00Z", {"codemie": api.base_url}, {"codemie": api}, 1.0))
    (failure,) = ElementTree.fromstring(xml.split("?>", 1)[1]).iter("failure")
    assert "a\\x0cb\\x00c\\ud800" in (failure.text or "") and failure.get("type") == "positive_data_acceptance"
