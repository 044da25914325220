"""Comparing each (old schema, new schema, context) once and reusing the result gives exactly the findings of
comparing every pair afresh at every place, with far fewer comparisons; `apigate diff` imports only what it needs."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from apigate.diff import Finding, parse_document
from apigate.diff.compare import _Differ

ROOT = Path(__file__).parents[3]


def _spec_history() -> ModuleType:
    """The benchmark's generator of a spec history (benchmarks/spec_history.py)."""
    spec = importlib.util.spec_from_file_location("spec_history", ROOT / "benchmarks" / "spec_history.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(old: dict[str, Any], new: dict[str, Any], *, memoize: bool) -> tuple[list[tuple[Any, ...]], int]:
    differ = _Differ(parse_document(json.dumps(old), "old.json"), parse_document(json.dumps(new), "new.json"),
                     memoize=memoize)
    findings = differ.run()
    return [_key(f) for f in findings], differ.schemas.comparisons


def _key(finding: Finding) -> tuple[Any, ...]:
    cause = finding.cause.key if finding.cause is not None else None
    return (finding.severity, finding.rule, finding.location, finding.old, finding.new, finding.message, cause,
            finding.explanation)


@pytest.mark.parametrize("seed", [3, 14])
def test_a_generated_history_gives_the_same_findings_with_and_without_reuse(seed: int) -> None:
    old, new, edits = _spec_history().history(seed=seed, commits=39, resources=6)
    assert len(edits) > 100
    reused, reused_count = _run(old, new, memoize=True)
    fresh, fresh_count = _run(old, new, memoize=False)
    assert reused == fresh
    assert len(reused) > 50
    assert reused_count * 3 < fresh_count


def _cycle(note_required: bool) -> dict[str, Any]:
    """Ping and Pong refer to each other; Tree to itself; operations enter the cycle at both ends."""
    pong_required = ["ping", "note"] if note_required else ["ping"]

    def answer(name: str) -> dict[str, Any]:
        return {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}}}}

    return {
        "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/ping": answer("Ping"), "/pong": answer("Pong"), "/tree": answer("Tree"),
                  "/both": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {
                      "schema": {"type": "object", "properties": {
                          "a": {"$ref": "#/components/schemas/Ping"},
                          "b": {"anyOf": [{"$ref": "#/components/schemas/Pong"}, {"type": "null"}]}}}}}}}}}},
        "components": {"schemas": {
            "Ping": {"type": "object", "properties": {"pong": {"$ref": "#/components/schemas/Pong"},
                                                      "tree": {"$ref": "#/components/schemas/Tree"}}},
            "Pong": {"type": "object", "required": pong_required, "properties": {
                "ping": {"$ref": "#/components/schemas/Ping"}, "note": {"type": "string"}}},
            "Tree": {"type": "object", "required": ["label"], "properties": {
                "label": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}},
                "pong": {"$ref": "#/components/schemas/Pong"}}},
        }},
    }


def test_schemas_that_refer_to_each_other_give_the_same_findings_with_and_without_reuse() -> None:
    old, new = _cycle(note_required=True), _cycle(note_required=False)
    new = copy.deepcopy(new)
    new["components"]["schemas"]["Tree"]["properties"]["label"]["maxLength"] = 10
    reused, _ = _run(old, new, memoize=True)
    fresh, _ = _run(old, new, memoize=False)
    assert reused == fresh
    assert {(f[1], f[2]) for f in reused} >= {
        ("response-property-became-optional", "GET /pong response 200 application/json: body.note"),
        ("response-property-became-optional", "GET /ping response 200 application/json: body.pong.note"),
        ("response-property-became-optional", "GET /both response 200 application/json: body.b.note"),
        ("response-max-tightened", "GET /tree response 200 application/json: body.label"),
    }


def test_apigate_diff_imports_neither_the_contract_runner_nor_the_mock_servers_nor_http() -> None:
    case = Path(__file__).parent / "corpus" / "path-removed"
    code = ("import sys; from apigate.cli import main; "
            f"code = main(['diff', {str(case / 'old.yaml')!r}, {str(case / 'new.yaml')!r}]); "
            "print(sorted(m for m in sys.modules if m.startswith(('apigate.contract', 'apigate.mocks.app', "
            "'apigate.mocks.serve', 'apigate.loadrun', 'httpx', 'starlette', 'schemathesis', 'locust')))); "
            "sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"
