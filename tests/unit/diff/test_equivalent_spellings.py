"""The pinned contracts rewritten in equivalent ways (what a generator such as FastAPI emits instead of what a
person writes) must diff as unchanged; one real change in the rewritten copy must still be found."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from apigate.diff import diff_documents, parse_document
from apigate.resources import contract_path

CONTRACTS = ("codemie", "keycloak", "basejump")


def _load(api: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(contract_path(api).read_text(encoding="utf-8"))
    return data


def _walk(node: Any, visit: Any, seen: set[int] | None = None) -> None:
    """Visit every mapping once (YAML anchors share them)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, dict):
        visit(node)
        for value in list(node.values()):
            _walk(value, visit, seen)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit, seen)


def _anyof_nulls(doc: dict[str, Any]) -> dict[str, Any]:
    """``type: [string, 'null']`` → ``anyOf: [{type: string}, {type: 'null'}]`` (FastAPI's Optional[...])."""
    doc = copy.deepcopy(doc)

    def visit(node: dict[str, Any]) -> None:
        kinds = node.get("type")
        if isinstance(kinds, list) and "null" in kinds:
            del node["type"]
            node["anyOf"] = [{"type": k} for k in kinds]

    _walk(doc, visit)
    return doc


def _renamed(doc: dict[str, Any]) -> dict[str, Any]:
    """Every component schema renamed; every reference to it rewritten; descriptions dropped; keys reversed."""
    doc = copy.deepcopy(doc)
    schemas = doc.get("components", {}).get("schemas", {})
    doc["components"]["schemas"] = {f"V2{name}": schema for name, schema in reversed(list(schemas.items()))}

    def visit(node: dict[str, Any]) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            node["$ref"] = "#/components/schemas/V2" + ref.rsplit("/", 1)[1]
        if isinstance(node.get("description"), str):
            del node["description"]
        for key in ("required", "enum"):
            if isinstance(node.get(key), list):
                node[key] = list(reversed(node[key]))

    _walk(doc, visit)
    doc["paths"] = dict(reversed(list(doc["paths"].items())))
    return doc


@pytest.mark.parametrize("api", CONTRACTS)
@pytest.mark.parametrize("rewrite", [_anyof_nulls, _renamed])
def test_equivalent_rewrites_have_no_finding(api: str, rewrite: Any) -> None:
    original = _load(api)
    old = parse_document(yaml.safe_dump(original), f"{api}.yaml")
    new = parse_document(yaml.safe_dump(rewrite(original)), f"{api}-rewritten.yaml")
    assert [f.location for f in diff_documents(old, new)] == []


def test_a_real_change_inside_a_rewritten_copy_is_still_found() -> None:
    original = _load("codemie")
    rewritten = _renamed(_anyof_nulls(original))
    chunk = rewritten["components"]["schemas"]["V2StreamChunk"]
    chunk["required"].remove("last")
    del chunk["properties"]["last"]
    old = parse_document(yaml.safe_dump(original), "codemie.yaml")
    new = parse_document(yaml.safe_dump(rewritten), "codemie-rewritten.yaml")
    found = {(f.severity, f.rule, f.location) for f in diff_documents(old, new)}
    assert found == {
        ("breaking", "response-required-property-removed",
         f"POST {path} response 200 application/x-ndjson: body.last")
        for path in ("/v1/assistants/{assistant_id}/model", "/v1/assistants/slug/{slug}/model")
    }


def _required_properties(api: str) -> list[tuple[str, str]]:
    schemas = _load(api)["components"]["schemas"]
    return [(name, prop) for name, schema in schemas.items()
            for prop in schema.get("required", []) if prop in schema.get("properties", {})]


@pytest.mark.parametrize("api", CONTRACTS)
def test_removing_any_required_property_is_found_there_and_only_there(api: str) -> None:
    original = _load(api)
    old = parse_document(json.dumps(original, default=str), f"{api}.yaml")
    cases = _required_properties(api)
    assert cases
    for schema_name, prop in cases:
        changed = copy.deepcopy(original)
        schema = changed["components"]["schemas"][schema_name]
        schema["required"].remove(prop)
        del schema["properties"][prop]
        findings = diff_documents(old, parse_document(json.dumps(changed, default=str), f"{api}-changed.json"))
        rules = {f.rule for f in findings}
        assert rules, (schema_name, prop)
        assert rules <= {"response-required-property-removed", "request-property-removed"}, (schema_name, prop, rules)
        for f in findings:
            if f.rule in ("response-required-property-removed", "request-property-removed"):
                assert f.where.endswith(f".{prop}"), (schema_name, prop, f)
