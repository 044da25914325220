"""Findings grouped by cause: one edit of a shared component is one change, listing every place it reaches, with
the component's name, JSON pointer and line, and one sentence per effect saying what breaks for a client."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from apigate.cli import main
from apigate.diff import diff_documents, group_findings, parse_document, render
from apigate.diff.render import MARKDOWN_PLACES, TEXT_PLACES

OPERATIONS = 25


def _document() -> dict[str, Any]:
    """``OPERATIONS`` operations whose answers reach ``Step.call_id`` through two levels of shared components."""
    paths = {
        f"/runs{i}/{{run_id}}/steps": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/StepList"}}}}}}}
        for i in range(OPERATIONS)
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "runs", "version": "1"},
        "paths": paths,
        "components": {"schemas": {
            "StepList": {"type": "object", "required": ["data"], "properties": {
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}}}},
            "Step": {"type": "object", "required": ["id", "call_id"], "properties": {
                "id": {"type": "string"},
                "call_id": {"type": "string", "description": "the tool call this step answers"},
                "status": {"$ref": "#/components/schemas/Status"}}},
            "Status": {"type": "string", "enum": ["queued", "done"]},
        }},
    }


def _changed() -> dict[str, Any]:
    """``call_id`` became optional and nullable; ``Status`` gained a value."""
    doc = copy.deepcopy(_document())
    step = doc["components"]["schemas"]["Step"]
    step["required"].remove("call_id")
    step["properties"]["call_id"]["type"] = ["string", "null"]
    doc["components"]["schemas"]["Status"]["enum"].append("cancelled")
    return doc


def _texts() -> tuple[str, str]:
    dump = yaml.safe_dump
    return dump(_document(), sort_keys=False), dump(_changed(), sort_keys=False)


def _findings() -> list[Any]:
    old_text, new_text = _texts()
    return diff_documents(parse_document(old_text, "old.yaml"), parse_document(new_text, "new.yaml"))


def _line(text: str, key: str, after: str) -> int:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == after)
    return next(i + 1 for i, line in enumerate(lines[start:], start) if line.strip() == key)


def test_one_edit_of_a_shared_component_is_one_change_with_every_place() -> None:
    findings = _findings()
    assert len(findings) == 3 * OPERATIONS
    changes = group_findings(findings)
    assert [(c.label, c.severity, c.findings) for c in changes] == [
        ("Step.call_id", "breaking", 2 * OPERATIONS),
        ("Status", "warning", OPERATIONS),
    ]
    call_id = changes[0]
    assert call_id.cause is not None
    assert (call_id.cause.side, call_id.cause.document, call_id.cause.pointer) == (
        "new", "new.yaml", "/components/schemas/Step/properties/call_id")
    assert call_id.cause.line == _line(_texts()[1], "call_id:", "Step:")
    assert [e.rule for e in call_id.effects] == ["response-property-became-nullable", "response-property-became-optional"]
    assert [e.first.explanation for e in call_id.effects] == [
        "Clients that read `call_id` may get null.",
        "Clients that read `call_id` may find it missing.",
    ]
    assert len(call_id.operations) == OPERATIONS
    assert call_id.places[0] == "GET /runs0/{run_id}/steps response 200 application/json: body.data[].call_id"


def test_text_folds_the_places_and_says_how_many_more() -> None:
    out = render(_findings(), "text", old="old.yaml", new="new.yaml")
    lines = out.splitlines()
    assert lines[:4] == [
        "diff old.yaml → new.yaml",
        "breaking (1):",
        f"  Step.call_id  (new.yaml:{_line(_texts()[1], 'call_id:', 'Step:')} "
        "#/components/schemas/Step/properties/call_id)",
        "    breaking [response-property-became-nullable] not nullable → nullable",
    ]
    assert f"    at {OPERATIONS} places in {OPERATIONS} operations:" in lines
    assert f"      and {OPERATIONS - TEXT_PLACES} more" in lines
    assert lines.count(f"    at {OPERATIONS} places in {OPERATIONS} operations:") == 2  # the two changes
    assert lines[-1] == f"2 change(s) ({3 * OPERATIONS} findings): 1 breaking, 1 warning, 0 compatible"


def test_json_lists_every_place() -> None:
    payload = json.loads(render(_findings(), "json", old="old.yaml", new="new.yaml"))
    assert payload["changes_summary"] == {"changes": 2, "breaking": 1, "warning": 1, "compatible": 0}
    assert payload["summary"] == {"breaking": 2 * OPERATIONS, "warning": OPERATIONS, "compatible": 0}
    first = payload["changes"][0]
    assert first["label"] == "Step.call_id"
    assert first["cause"]["pointer"] == "#/components/schemas/Step/properties/call_id"
    assert [len(e["places"]) for e in first["effects"]] == [OPERATIONS, OPERATIONS]
    assert len(payload["findings"]) == 3 * OPERATIONS
    assert all(f["cause"] is not None and f["explanation"] for f in payload["findings"])


def test_markdown_is_a_pull_request_comment() -> None:
    out = render(_findings(), "markdown", old="old.yaml", new="new.yaml")
    summary, breaking, rest = out.index("| severity | changes | findings |"), out.index("### Breaking changes (1)"), \
        out.index("<details><summary>Warnings and compatible changes (1)</summary>")
    assert summary < breaking < rest
    assert f"| breaking | 1 | {2 * OPERATIONS} |" in out
    assert f"| warning | 1 | {OPERATIONS} |" in out
    assert "**1. `Step.call_id`**" in out
    assert "Clients that read `call_id` may find it missing." in out
    assert f"<details><summary>{OPERATIONS} place(s) in {OPERATIONS} operation(s)</summary>" in out
    assert f"… and {OPERATIONS - MARKDOWN_PLACES} more" in out
    assert ("| warning | `response-enum-value-added` | Status: value(s) added: cancelled | new.yaml:"
            in out)


def test_a_policy_that_changes_a_severity_is_shown(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    old_text, new_text = _texts()
    (tmp_path / "old.yaml").write_text(old_text, encoding="utf-8")
    (tmp_path / "new.yaml").write_text(new_text, encoding="utf-8")
    (tmp_path / "policy.toml").write_text('[severity]\n"response-enum-value-added" = "breaking"\n', encoding="utf-8")
    args = ["diff", str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"), "--policy", str(tmp_path / "policy.toml")]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "breaking [response-enum-value-added, set by policy] value(s) added: cancelled" in out
    assert out.splitlines()[-1] == f"2 change(s) ({3 * OPERATIONS} findings): 2 breaking, 0 warning, 0 compatible"


def test_a_shared_response_added_everywhere_is_one_change_about_every_operation() -> None:
    old = _document()
    new = copy.deepcopy(old)
    new["components"]["responses"] = {"TooManyRequests": {"description": "slow down"}}
    for item in new["paths"].values():
        item["get"]["responses"]["429"] = {"$ref": "#/components/responses/TooManyRequests"}
    findings = diff_documents(parse_document(json.dumps(old), "old.json"), parse_document(json.dumps(new), "new.json"))
    [change] = group_findings(findings)
    assert change.label == "response TooManyRequests"
    assert change.cause is not None and change.cause.pointer == "/components/responses/TooManyRequests"
    [effect] = change.effects
    assert (effect.rule, len(effect.operations)) == ("response-status-added", OPERATIONS)
    assert effect.explanation == "Nothing breaks for clients that handle unknown statuses: each of these operations may " \
                                 "answer 429."
    assert findings[0].explanation.startswith("Nothing breaks for clients that handle unknown statuses: `GET /runs")


def test_markdown_stays_within_a_pull_request_comment() -> None:
    """300 breaking changes: the comment stays under GitHub's 65,536 characters and says how many it leaves out."""
    def document(with_name: bool) -> dict[str, Any]:
        schemas = {f"Thing{i}": {"type": "object", "required": ["id", "name"] if with_name else ["id"],
                                 "properties": {"id": {"type": "string"}, **({"name": {"type": "string"}}
                                                                            if with_name else {})}}
                   for i in range(300)}
        paths = {f"/things{i}/{{thing_id}}/with/a/rather/long/path": {"get": {"responses": {"200": {
            "description": "ok", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/Thing{i}"}}}}}}}
            for i in range(300)}
        return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths,
                "components": {"schemas": schemas}}

    findings = diff_documents(parse_document(json.dumps(document(True)), "old.json"),
                              parse_document(json.dumps(document(False)), "new.json"))
    assert len(findings) == 300
    out = render(findings, "markdown", old="old.json", new="new.json")
    assert len(out) < 65_536
    shown = out.count("**breaking** `response-required-property-removed`")
    assert 0 < shown < 300
    assert f"… and {300 - shown} more breaking changes" in out
