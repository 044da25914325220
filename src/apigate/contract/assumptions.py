"""Assumption marks (``x-apigate-assumed``) in a contract, and the *relaxed* copy of it without them.

A constraint that no public document or observed server states is an assumption, marked where it is written:

* on a **schema object**: ``x-apigate-assumed: "<why>"`` — the validation keywords of that object itself (``type``,
  ``enum``, ``format``, ``pattern``, ``minLength``, ``required``, ``additionalProperties``, a ``$ref`` or an
  ``anyOf`` beside the mark, ...; not the keywords inside its ``properties`` or ``items``) are assumed;
  ``{why: "<why>", keywords: [minLength]}`` limits the mark to the listed keywords;
* on a **parameter**: its ``required`` and its schema are assumed;
* on a **response** (one status under ``responses``, or a response component): answering with that status in that
  situation is assumed — another status of the same class (4xx for 4xx) is then a warning, not a failure;
* on an **operation**: everything about it is assumed, its existence included.

:func:`relax` derives the relaxed document: every assumed schema keyword removed, assumed parameters optional and
unconstrained, and for every assumed response a ``NXX`` range of its class documented. A check that fails against
the pinned contract but passes against the relaxed one broke only assumptions: a warning naming them
(:mod:`apigate.contract.classify`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal

from apigate.contract.documents import Contract, OperationInfo
from apigate.contract.documents import escape_pointer as _escape

__all__ = ["MARK", "RELAXABLE", "Assumptions", "Mark", "find_marks", "mark_problems", "operation_pointer", "relax"]

MARK: Final = "x-apigate-assumed"
# the validation keywords a schema mark may name (and, unnamed, removes from its schema object): the assertions on the
# value itself, including the combinators that apply whole subschemas to it (anyOf: "one of these shapes" is the
# object's own constraint); not properties / items, whose subschemas constrain parts of the value and carry their
# own marks
RELAXABLE: Final = frozenset({
    "$ref", "type", "enum", "const", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minContains",
    "maxContains", "minProperties", "maxProperties", "required", "dependentRequired", "additionalProperties",
    "propertyNames", "unevaluatedProperties", "unevaluatedItems", "contentMediaType", "contentEncoding",
    "anyOf", "oneOf", "allOf", "not", "if", "then", "else",
})
_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_SUBSCHEMA: Final = ("items", "additionalProperties", "contains", "not", "if", "then", "else", "propertyNames",
                     "unevaluatedItems", "unevaluatedProperties", "contentSchema")
_SUBSCHEMA_MAPS: Final = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SUBSCHEMA_LISTS: Final = ("allOf", "anyOf", "oneOf", "prefixItems")

Kind = Literal["schema", "parameter", "response", "operation"]


@dataclass(frozen=True)
class Mark:
    """One ``x-apigate-assumed`` mark: where it is, what kind of thing it marks, why, which keywords."""

    pointer: str  # JSON pointer of the marked object: "#/components/schemas/ChatPrompt/properties/timestamp"
    kind: Kind
    why: str
    keywords: frozenset[str] | None = None  # a schema mark limited to these keywords; None: all of them

    @classmethod
    def read(cls, node: Any, kind: Kind = "schema") -> Mark | None:
        """The mark an object of the document carries, if any (its place unknown: ``pointer`` is empty)."""
        value = node.get(MARK) if isinstance(node, dict) else None
        if value is None:
            return None
        if isinstance(value, dict):
            names = value.get("keywords")
            keywords = frozenset(names) if isinstance(names, list) else None
            return cls("", kind, str(value.get("why", "")).strip(), keywords)
        return cls("", kind, str(value).strip())

    def covers(self, keyword: str) -> bool:
        return self.kind != "schema" or (keyword in RELAXABLE and (self.keywords is None or keyword in self.keywords))


def _places(node: Any, pointer: str, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every object of the document with the kind of place it is (schema, parameter, response, operation, ...)."""
    if not isinstance(node, dict):
        return
    yield pointer, kind, node

    def child(key: str, value: Any, child_kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        yield from _places(value, f"{pointer}/{_escape(str(key))}", child_kind)

    def children(key: str, child_kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        value = node.get(key)
        if isinstance(value, dict):
            for name, item in value.items():
                yield from _places(item, f"{pointer}/{_escape(key)}/{_escape(str(name))}", child_kind)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from _places(item, f"{pointer}/{_escape(key)}/{i}", child_kind)

    def content() -> Iterator[tuple[str, str, dict[str, Any]]]:
        media = node.get("content")
        for name, item in (media.items() if isinstance(media, dict) else ()):
            if isinstance(item, dict):
                yield from _places(item.get("schema"), f"{pointer}/content/{_escape(str(name))}/schema", "schema")

    if kind == "document":
        yield from children("paths", "path")
        components = node.get("components")
        if isinstance(components, dict):
            for section, section_kind in (("schemas", "schema"), ("parameters", "parameter"),
                                          ("responses", "response"), ("requestBodies", "body"),
                                          ("headers", "header")):
                value = components.get(section)
                for name, item in (value.items() if isinstance(value, dict) else ()):
                    yield from _places(item, f"{pointer}/components/{section}/{_escape(str(name))}", section_kind)
    elif kind == "path":
        yield from children("parameters", "parameter")
        for method in _METHODS:
            yield from child(method, node.get(method), "operation")
    elif kind == "operation":
        yield from children("parameters", "parameter")
        yield from child("requestBody", node.get("requestBody"), "body")
        yield from children("responses", "response")
    elif kind in ("parameter", "header"):
        yield from child("schema", node.get("schema"), "schema")
        yield from content()
    elif kind == "body":
        yield from content()
    elif kind == "response":
        yield from content()
        yield from children("headers", "header")
    elif kind == "schema":
        for key in _SUBSCHEMA:
            yield from child(key, node.get(key), "schema")
        for key in _SUBSCHEMA_MAPS + _SUBSCHEMA_LISTS:
            yield from children(key, "schema")


def _all_marked(node: Any, pointer: str) -> Iterator[str]:
    """Pointers of every object holding the mark, wherever it is (to find misplaced marks)."""
    if isinstance(node, dict):
        if MARK in node:
            yield pointer
        for key, value in node.items():
            yield from _all_marked(value, f"{pointer}/{_escape(str(key))}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _all_marked(value, f"{pointer}/{i}")


def _parse(pointer: str, kind: Kind, node: dict[str, Any]) -> tuple[Mark | None, list[str]]:
    """The mark ``node`` carries, and what is wrong with it."""
    value = node[MARK]
    if not isinstance(value, str | dict):
        return None, [f"{pointer}: {MARK} must be a reason (text) or {{why, keywords}}, not {type(value).__name__}"]
    found = Mark.read(node, kind)
    assert found is not None
    mark = Mark(pointer, kind, found.why, found.keywords)
    problems: list[str] = []
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"why", "keywords"})
        if unknown:
            problems.append(f"{pointer}: {MARK} has unknown key(s) {', '.join(unknown)} (expected why, keywords)")
        if not isinstance(value.get("why", ""), str):
            problems.append(f"{pointer}: {MARK} why must be text")
        names = value.get("keywords")
        if "keywords" in value and kind != "schema":
            problems.append(f"{pointer}: {MARK} keywords apply to schema objects only, not to a {kind}")
        elif "keywords" in value and (not isinstance(names, list) or not names
                                      or not all(isinstance(n, str) for n in names)):
            problems.append(f"{pointer}: {MARK} keywords must be a non-empty list of keyword names")
        elif mark.keywords is not None:
            bad = sorted(mark.keywords - RELAXABLE)
            if bad:
                problems.append(f"{pointer}: {MARK} names unknown keyword(s) {', '.join(bad)}")
            absent = sorted((mark.keywords & RELAXABLE) - set(node))
            if absent:
                problems.append(f"{pointer}: {MARK} names keyword(s) the schema does not have: {', '.join(absent)}")
    if not mark.why:
        problems.append(f"{pointer}: {MARK} needs a non-empty reason")
    if kind == "schema" and mark.keywords is None and not (set(node) & RELAXABLE):
        problems.append(f"{pointer}: {MARK} on a schema without any validation keyword to relax")
    return mark, problems


def _scan(document: dict[str, Any]) -> tuple[list[Mark], list[str]]:
    marks: list[Mark] = []
    problems: list[str] = []
    seen: set[str] = set()
    for pointer, kind, node in _places(document, "#", "document"):
        if MARK not in node or pointer in seen:
            continue
        seen.add(pointer)
        if kind not in ("schema", "parameter", "response", "operation"):
            problems.append(f"{pointer}: {MARK} on a {kind}; it belongs on a schema, parameter, response or operation")
            continue
        mark, found = _parse(pointer, kind, node)  # type: ignore[arg-type]
        problems += found
        if mark is not None:
            marks.append(mark)
    problems += [f"{pointer}: {MARK} outside any schema, parameter, response or operation"
                 for pointer in _all_marked(document, "#") if pointer not in seen]
    return marks, problems


def find_marks(document: dict[str, Any]) -> list[Mark]:
    """Every mark of ``document`` (malformed ones included, with what could be read of them)."""
    return _scan(document)[0]


def mark_problems(document: dict[str, Any]) -> list[str]:
    """What is wrong with the document's marks: empty reasons, unknown or absent keywords, misplaced marks."""
    return _scan(document)[1]


def _node(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer[2:].split("/") if pointer != "#" else ():
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _resolve(document: dict[str, Any], node: Any) -> Any:
    for _ in range(32):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/")):
            return node
        node = _node(document, node["$ref"])
    return node


def relax(document: dict[str, Any], marks: list[Mark] | None = None) -> dict[str, Any]:
    """A copy of ``document`` with every assumed constraint removed (see the module's docstring)."""
    out = copy.deepcopy(document)
    found = marks if marks is not None else find_marks(document)
    # the deepest first: a mark inside an anyOf is applied before a mark beside it removes the anyOf
    for mark in sorted(found, key=lambda m: -m.pointer.count("/")):
        node = _node(out, mark.pointer)
        if mark.kind == "schema":
            for keyword in list(node):
                if mark.covers(keyword):
                    del node[keyword]
        elif mark.kind == "parameter":
            if node.get("in") != "path":
                node["required"] = False
            if "schema" in node:
                node["schema"] = {}
            for media in (node.get("content") or {}).values():
                if isinstance(media, dict):
                    media["schema"] = {}
    for item in (out.get("paths") or {}).values():
        for method in _METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if not isinstance(responses, dict):
                continue
            for status in [s for s in responses if str(s)[:1] in "12345" and str(s)[1:].isdigit()]:
                entry = responses[status]
                assumed = MARK in entry or MARK in (_resolve(out, entry) or {})
                wildcard = f"{str(status)[0]}XX"
                if assumed and wildcard not in responses:
                    responses[wildcard] = {"description": f"any {wildcard} (the documented {status} is assumed)"}
    return out


class Assumptions:
    """The marks of one contract, looked up by place, and its relaxed copy."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.marks = find_marks(contract.document)
        self._at = {mark.pointer: mark for mark in self.marks}
        self._relaxed: Contract | None = None

    @property
    def relaxed(self) -> Contract:
        """The contract with every assumed constraint removed (:func:`relax`)."""
        if self._relaxed is None:
            self._relaxed = Contract(self.contract.api, relax(self.contract.document, self.marks),
                                     f"{self.contract.source} (assumptions relaxed)")
        return self._relaxed

    def at(self, pointer: str) -> Mark | None:
        """The mark at ``pointer``, or on the object its ``$ref`` names."""
        mark = self._at.get(pointer)
        if mark is not None:
            return mark
        try:
            node = _node(self.contract.document, pointer)
        except (KeyError, IndexError, ValueError, TypeError):
            return None
        ref = node.get("$ref") if isinstance(node, dict) else None
        return self._at.get(ref) if isinstance(ref, str) else None

    def operation(self, op: OperationInfo) -> Mark | None:
        return self._at.get(operation_pointer(op))

    def response(self, op: OperationInfo, status: int | str) -> Mark | None:
        """The mark on ``op``'s documented response ``status`` (or on the response component it refers to)."""
        responses = op.definition.get("responses") or {}
        key = next((k for k in responses if str(k) == str(status)), None)
        return None if key is None else self.at(f"{operation_pointer(op)}/responses/{_escape(str(key))}")


def operation_pointer(op: OperationInfo) -> str:
    return f"#/paths/{_escape(op.path)}/{op.method.lower()}"
