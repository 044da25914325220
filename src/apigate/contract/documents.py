"""The pinned contracts as data: loading, ``$ref`` resolution, per-operation facts the checks need.

Contracts are read with a YAML loader that keeps timestamps as strings (JSON has no dates) and tagged with
``x-apigate-api`` so that apigate's checks, which schemathesis runs for every schema, know whose rules apply.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

from apigate.errors import DocumentError
from apigate.resources import contract_path

if TYPE_CHECKING:
    from apigate.contract.assumptions import Assumptions

__all__ = [
    "ALL_APIS",
    "API_KEY",
    "Contract",
    "OperationInfo",
    "escape_pointer",
    "load_contract",
]

ALL_APIS: Final = ("codemie", "keycloak", "basejump")
API_KEY: Final = "x-apigate-api"
HTTP_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
STREAM_TYPES: Final = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl",
                                 "application/x-jsonlines", "text/event-stream"})


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver (dates stay strings, as in JSON)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class OperationInfo:
    method: str  # upper case
    path: str
    definition: dict[str, Any]
    secured: bool  # has a non-empty security requirement

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def documents_status(self, status: int) -> bool:
        """Whether the operation documents answering ``status`` (exactly, by its ``NXX`` range, or ``default``)."""
        keys = {str(key).upper() for key in self.definition.get("responses") or {}}
        return str(status) in keys or f"{str(status)[0]}XX" in keys or "DEFAULT" in keys


class Contract:
    """One API's pinned OpenAPI document."""

    def __init__(self, api: str, document: dict[str, Any], source: str) -> None:
        self.api = api
        self.source = source
        self._document = document

    def raw(self) -> dict[str, Any]:
        """A fresh deep copy for schemathesis, tagged with the API (JSON round trip: YAML anchors become
        independent objects).

        One neutral rewrite works around a schemathesis 4.32 defect: it turns ``allOf: [{contains: {const: A}},
        {contains: {const: B}}]`` into a draft-4 tuple ``items`` inside a 2020-12 schema and then rejects its own
        result as an invalid schema. ``{const: A}`` is written ``{enum: [A]}`` there, which means the same.
        """
        data: dict[str, Any] = json.loads(json.dumps(self._document))
        _rewrite_contains_consts(data)
        data[API_KEY] = self.api
        return data

    @property
    def document(self) -> dict[str, Any]:
        return self._document

    def resolve(self, node: Any) -> Any:
        """``node`` with a top-level local ``$ref`` followed (repeatedly)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and isinstance(node["$ref"], str):
            node = self.pointer(node["$ref"])
            seen += 1
            if seen > 32:
                raise DocumentError(f"{self.source}: $ref cycle")
        return node

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise DocumentError(f"{self.source}: only local $refs are supported, not {ref!r}")
        node: Any = self._document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise DocumentError(f"{self.source}: unresolvable $ref {ref!r}") from None
        return node

    def operations(self) -> Iterator[OperationInfo]:
        default_security = self._document.get("security") or []
        for path, item in (self._document.get("paths") or {}).items():
            for method in HTTP_METHODS:
                definition = item.get(method) if isinstance(item, dict) else None
                if not isinstance(definition, dict):
                    continue
                security = definition.get("security", default_security)
                secured = bool(security) and all(bool(req) for req in security)
                yield OperationInfo(method.upper(), path, definition, secured)

    def find_operation(self, method: str, path: str) -> OperationInfo | None:
        return next((op for op in self.operations() if op.method == method.upper() and op.path == path), None)

    def operation(self, method: str, path: str) -> OperationInfo:
        found = self.find_operation(method, path)
        if found is None:
            raise DocumentError(f"{self.source}: no operation {method.upper()} {path}")
        return found

    @cached_property
    def assumptions(self) -> Assumptions:
        """The document's ``x-apigate-assumed`` marks and its relaxed copy."""
        from apigate.contract.assumptions import Assumptions

        return Assumptions(self)

    def response_content(self, op: OperationInfo, status: str) -> dict[str, Any]:
        responses = op.definition.get("responses") or {}
        response = self.resolve(responses.get(status) or {})
        content = response.get("content") if isinstance(response, dict) else None
        return content if isinstance(content, dict) else {}

    def response_schema_place(self, op: OperationInfo, status: str, media_type: str) -> str | None:
        """The JSON pointer of ``op``'s documented schema for ``status`` and ``media_type`` (through a response
        component when the status refers to one); ``None`` when undocumented."""
        responses = op.definition.get("responses") or {}
        if status not in responses:
            return None
        place = f"#/paths/{escape_pointer(op.path)}/{op.method.lower()}/responses/{escape_pointer(status)}"
        entry = responses[status]
        while isinstance(entry, dict) and isinstance(entry.get("$ref"), str):
            place = entry["$ref"]
            entry = self.pointer(place)
        media = entry.get("content", {}).get(media_type) if isinstance(entry, dict) else None
        if not isinstance(media, dict) or "schema" not in media:
            return None
        return f"{place}/content/{escape_pointer(media_type)}/schema"

    def stream_media_types(self, op: OperationInfo) -> dict[str, dict[str, Any]]:
        """Documented streamed media types of the 200 answer -> the JSON schema of ONE decoded chunk."""
        out: dict[str, dict[str, Any]] = {}
        for kind, media in self.response_content(op, "200").items():
            if kind.lower() not in STREAM_TYPES or not isinstance(media, dict):
                continue
            schema = self.resolve(media.get("schema") or {})
            data = schema.get("properties", {}).get("data") if isinstance(schema, dict) else None
            if isinstance(data, dict) and isinstance(data.get("contentSchema"), dict):
                schema = data["contentSchema"]  # SSE event whose data is the chunk
            out[kind.lower()] = schema
        return out

    def validator(self, schema: dict[str, Any]) -> Any:
        """A Draft 2020-12 validator of ``schema`` with the document's ``$ref``s resolvable."""
        from jsonschema import Draft202012Validator, FormatChecker

        root = {k: v for k, v in self._document.items() if k in ("components", "paths")}
        root.update(copy.deepcopy(schema))  # unknown top-level keys (components, paths) are ignored by validation
        return Draft202012Validator(root, format_checker=FormatChecker())


def escape_pointer(part: str) -> str:
    """``part`` escaped for a JSON pointer (``~`` and ``/``)."""
    return part.replace("~", "~0").replace("/", "~1")


def _rewrite_contains_consts(node: Any) -> None:
    if isinstance(node, dict):
        all_of = node.get("allOf")
        if isinstance(all_of, list):
            for entry in all_of:
                contains = entry.get("contains") if isinstance(entry, dict) else None
                if isinstance(contains, dict) and set(contains) == {"const"}:
                    entry["contains"] = {"enum": [contains["const"]]}
        for value in node.values():
            _rewrite_contains_consts(value)
    elif isinstance(node, list):
        for value in node:
            _rewrite_contains_consts(value)


@lru_cache(maxsize=8)
def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DocumentError(f"cannot read contract {path}: {exc}") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise DocumentError(f"contract {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "openapi" not in data:
        raise DocumentError(f"contract {path} is not an OpenAPI document")
    return data


def load_contract(api: str, path: Path | None = None) -> Contract:
    if api not in ALL_APIS:
        raise DocumentError(f"unknown API {api!r} (expected one of {', '.join(ALL_APIS)})")
    source = path or contract_path(api)
    return Contract(api, _load(source), str(source))
