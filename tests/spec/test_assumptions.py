"""Assumption marks (``x-apigate-assumed``): every mark in every contract is well formed and listed in
contracts/README.md, and the relaxed copy of a contract removes exactly what the marks say.

The lint rules are also run against broken copies of a document, so a rule that cannot fail would be noticed.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from apigate.contract.assumptions import MARK, find_marks, mark_problems, relax
from apigate.contract.documents import load_contract
from apigate.resources import contract_path

APIS = ("codemie", "keycloak", "basejump")


def _readme_section(api: str) -> str:
    text = (contract_path(api).parent / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(api)}\.openapi\.yaml\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"contracts/README.md has no section '## {api}.openapi.yaml'"
    return match.group(1)


_STRUCTURAL = {"schema", "items", "additionalProperties", "not", "anyOf", "allOf", "oneOf", "prefixItems",
               "properties", "if", "then", "else", "contains", "propertyNames"}


def mark_name(document: dict[str, Any], pointer: str) -> str:
    """What a reader calls the marked thing: the property, parameter, schema or response name, or the path."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[2:].split("/")]
    if parts[0] == "paths" and len(parts) == 3:
        return parts[1]  # an operation: its path
    for i in range(len(parts) - 1, -1, -1):
        part = parts[i]
        if part.isdigit() and i > 0 and parts[i - 1] == "parameters":
            node: Any = document
            for key in parts[: i + 1]:
                node = node[int(key)] if isinstance(node, list) else node[key]
            if isinstance(node, dict) and "$ref" in node:
                return str(node["$ref"]).rsplit("/", 1)[-1]
            return str(node.get("name", part)) if isinstance(node, dict) else part
        media_type = "/" in part or (parts[i + 1:i + 2] == ["schema"] and parts[i - 1:i] == ["content"])
        content_of_media = part == "content" and i + 1 < len(parts) and "/" in parts[i + 1]
        if part not in _STRUCTURAL and not part.isdigit() and not media_type and not content_of_media:
            return part
    return pointer


def unlisted(document: dict[str, Any], section: str) -> list[str]:
    """Marks the README's section for the document does not list: by JSON pointer, or by the marked thing's name,
    in backticks (`#/components/schemas/X/properties/y`, or `y` / `X.y` / `y` ≥ 0 ...)."""
    spans = re.findall(r"`([^`]+)`", section)
    return [m.pointer for m in find_marks(document)
            if m.pointer not in spans and not any(re.search(rf"(?<![\w-]){re.escape(mark_name(document, m.pointer))}"
                                                            rf"(?![\w-])", span) for span in spans)]


@pytest.mark.parametrize("api", APIS)
def test_every_mark_is_well_formed(api: str) -> None:
    assert mark_problems(load_contract(api).document) == []


@pytest.mark.parametrize("api", APIS)
def test_contracts_readme_lists_every_mark(api: str) -> None:
    assert unlisted(load_contract(api).document, _readme_section(api)) == []


@pytest.mark.parametrize("api", APIS)
def test_every_pointer_the_readme_lists_is_a_mark(api: str) -> None:
    marks = {m.pointer for m in find_marks(load_contract(api).document)}
    listed = set(re.findall(r"`(#/[^`]+)`", _readme_section(api)))
    assert listed - marks == set(), "contracts/README.md lists marks the document no longer has"


def test_basejump_marks_the_assumptions_the_issue_names() -> None:
    pointers = {m.pointer for m in find_marks(load_contract("basejump").document)}
    assert {
        "#/paths/~1account~1team~1/post/parameters/0/schema",  # empty team_name
        "#/components/schemas/CreateChatRequest/properties/messages/items/properties/content",  # content: {}
        "#/components/schemas/ChatPrompt/properties/timestamp",  # timestamp: ""
        "#/components/responses/Unauthorized",
    } <= pointers


# --- the lint rules fail on broken documents --------------------------------------------------------------------

def _basejump() -> dict[str, Any]:
    return copy.deepcopy(load_contract("basejump").document)


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    node: dict[str, Any] = document["components"]["schemas"][name]
    return node


BROKEN = {
    "empty reason": (lambda d: _schema(d, "TeamMembership").update({MARK: "  "}), "non-empty reason"),
    "no reason in the object form": (lambda d: _schema(d, "TeamMembership").update({MARK: {"keywords": ["type"]}}),
                                     "non-empty reason"),
    "unknown keyword": (lambda d: _schema(d, "TeamMembership").update({MARK: {"why": "x", "keywords": ["sizes"]}}),
                        "unknown keyword"),
    "keyword the schema lacks": (lambda d: _schema(d, "TeamMembership").update(
        {MARK: {"why": "x", "keywords": ["pattern"]}}), "does not have"),
    "unknown key": (lambda d: _schema(d, "TeamMembership").update({MARK: {"why": "x", "because": "y"}}),
                    "unknown key"),
    "not text": (lambda d: _schema(d, "TeamMembership").update({MARK: 3}), "must be a reason"),
    "nothing to relax": (lambda d: _schema(d, "CreateChatRequest")["properties"].update(
        {"extra": {MARK: "why", "description": "d"}}), "without any validation keyword"),
    "keywords on a response": (lambda d: d["components"]["responses"]["NotFound"].update(
        {MARK: {"why": "x", "keywords": ["type"]}}), "schema objects only"),
    "misplaced (on a media type)": (lambda d: d["components"]["responses"]["NotFound"]["content"][
        "application/json"].update({MARK: "x"}), "outside any"),
    "misplaced (on a request body)": (lambda d: d["paths"]["/connection/database/"]["post"]["requestBody"].update(
        {MARK: "x"}), "on a body"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_mark_lint_reports_a_broken_mark(name: str) -> None:
    breaking, message = BROKEN[name]
    document = _basejump()
    breaking(document)
    problems = mark_problems(document)
    assert any(message in p for p in problems), problems


def test_readme_lint_reports_an_unlisted_mark() -> None:
    document = _basejump()
    _schema(document, "Message")["properties"]["thumbs_up"][MARK] = "a new guess"
    assert unlisted(document, _readme_section("basejump")) == ["#/components/schemas/Message/properties/thumbs_up"]


@pytest.mark.parametrize(("pointer", "name"), [
    ("#/paths/~1auth~1access-token~1/post", "/auth/access-token/"),
    ("#/paths/~1account~1team~1/post/parameters/0/schema", "team_name"),
    ("#/components/schemas/CreateChatRequest/properties/messages/items", "messages"),
    ("#/components/schemas/CreateChatRequest/properties/messages/items/properties/content", "content"),
    ("#/components/parameters/UserUuidQuery/schema", "UserUuidQuery"),
    ("#/components/responses/Unauthorized", "Unauthorized"),
    ("#/components/schemas/TeamMembership", "TeamMembership"),
    ("#/components/responses/NotFound/content/application~1json/schema", "NotFound"),
    ("#/components/schemas/DatabaseConnectionRequest/properties/port/anyOf/1", "port"),
])
def test_mark_names(pointer: str, name: str) -> None:
    assert mark_name(_basejump(), pointer) == name


# --- what the relaxed copy removes ------------------------------------------------------------------------------

def test_relax_removes_marked_keywords_only() -> None:
    document = {
        "openapi": "3.1.0",
        "paths": {"/x": {"post": {
            "parameters": [{"name": "q", "in": "query", "required": True, MARK: "guess",
                            "schema": {"type": "integer", "minimum": 1}},
                           {"name": "id", "in": "path", "required": True, MARK: "guess", "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "required": ["a"], "additionalProperties": False, MARK: {"why": "w",
                                                                                           "keywords": ["required"]},
                "properties": {"a": {"type": "string", "minLength": 1, "pattern": "^x", MARK: "w"},
                               "b": {"$ref": "#/components/schemas/B", MARK: "w"}}}}}},
            "responses": {"200": {"description": "ok"}, "401": {"$ref": "#/components/responses/U"},
                          "404": {"description": "nf", MARK: "w"}},
        }}},
        "components": {"schemas": {"B": {"type": "string"}}, "responses": {"U": {"description": "u", MARK: "w"}}},
    }
    relaxed = relax(document)
    operation = relaxed["paths"]["/x"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "required" not in body and body["additionalProperties"] is False and body["type"] == "object"
    assert {k for k in body["properties"]["a"] if k != MARK} == set()
    assert "$ref" not in body["properties"]["b"]
    query, path = operation["parameters"]
    assert query["required"] is False and query["schema"] == {}
    assert path["required"] is True and path["schema"] == {}  # a path parameter stays required (OpenAPI)
    assert set(operation["responses"]) == {"200", "401", "404", "4XX"}
    assert document["paths"]["/x"]["post"]["parameters"][0]["required"] is True  # the original is untouched


def test_relax_removes_a_marked_union_but_not_the_parts_of_an_object() -> None:
    union = {"anyOf": [{"type": "string"}, {"type": "null"}], MARK: "value type read from code"}
    shaped = {"type": "object", "properties": {"a": {"type": "string"}}, MARK: "guess"}
    document = {"openapi": "3.1.0", "components": {"schemas": {"U": union, "O": shaped}}}
    assert mark_problems(document) == []
    schemas = relax(document)["components"]["schemas"]
    assert "anyOf" not in schemas["U"]
    assert "type" not in schemas["O"] and schemas["O"]["properties"] == {"a": {"type": "string"}}


def test_relax_applies_nested_marks_before_the_mark_that_removes_them() -> None:
    inner = {"type": "object", "additionalProperties": False, MARK: "operators guessed"}
    document = {"openapi": "3.1.0", "components": {"schemas": {"D": {"anyOf": [{"type": "null"}, inner],
                                                                      MARK: "types guessed"}}}}
    assert relax(document)["components"]["schemas"]["D"] == {MARK: "types guessed"}
