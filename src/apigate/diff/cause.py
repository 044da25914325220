"""Where a change is written: :class:`Cause` (document, JSON pointer, line) and human labels for JSON pointers.

A finding's cause is the node of the NEW document that changed (or of the OLD one, for something removed): a schema
component or an inline place. Findings that share a cause come from one edit; they are reported once, with every
place of the API the edit reaches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["Cause", "Side", "describe_pointer", "subject_of"]

Side = Literal["old", "new"]

_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_UNIONS: Final = frozenset({"oneOf", "anyOf", "allOf", "prefixItems"})


@dataclass(frozen=True)
class Cause:
    """``pointer`` is a JSON pointer into ``document`` (``""`` is its root); ``line`` is 1-based, None when unknown
    (a JSON document whose lines could not be read); ``label`` names the place for a person (``RunStep.call_id``)."""

    side: Side
    document: str
    pointer: str
    line: int | None
    label: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.side, self.document, self.pointer)

    @property
    def position(self) -> str:
        """``file:line`` (or the file alone), as compilers print it."""
        return f"{self.document}:{self.line}" if self.line is not None else self.document

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "document": self.document, "pointer": "#" + self.pointer, "line": self.line,
                "label": self.label}


def _tokens(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.lstrip("#").split("/")[1:]]


def _schema_path(tokens: list[str]) -> str:
    """``properties/a/items/properties/b`` -> ``.a[].b``."""
    out = ""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token == "properties" and following is not None:
            out += f".{following}"
            i += 2
            continue
        if token in _UNIONS and following is not None and following.isdigit():
            out += f"/{token}[{following}]"
            i += 2
            continue
        if token == "items":
            out += "[]"
        elif token == "additionalProperties":
            out += "{*}"
        else:
            out += f"/{token}"
        i += 1
    return out


def describe_pointer(pointer: str, data: Mapping[str, Any] | None = None) -> str:
    """A person's name for a place in an OpenAPI document: ``RunStep.call_id``, ``POST /calls request body
    application/json: body.image``, ``parameter Limit``. ``data`` (the document) lets parameters be named."""
    tokens = _tokens(pointer)
    if len(tokens) >= 3 and tokens[0] == "components" and tokens[1] == "schemas":
        return tokens[2] + _schema_path(tokens[3:])
    if len(tokens) >= 3 and tokens[0] == "components":
        kind = {"parameters": "parameter", "responses": "response", "requestBodies": "request body",
                "headers": "header", "pathItems": "path item"}.get(tokens[1], tokens[1])
        return f"{kind} {tokens[2]}" + _operation_part(tokens[3:], tokens[:3], data)
    if len(tokens) >= 2 and tokens[0] == "paths":
        path = tokens[1]
        if len(tokens) >= 3 and tokens[2] in _METHODS:
            return f"{tokens[2].upper()} {path}" + _operation_part(tokens[3:], tokens[:3], data)
        return path + _operation_part(tokens[2:], tokens[:2], data)
    return "/".join(tokens) or "(document)"


def _operation_part(tokens: list[str], base: list[str], data: Mapping[str, Any] | None) -> str:
    out = ""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token == "schema":
            inside = _schema_path(tokens[i + 1:])
            if "content" in tokens[:i]:
                return f"{out}: body{inside}"
            return f"{out}: {inside.lstrip('.')}" if inside else out  # a parameter's value
        if token == "requestBody":
            out += " request body"
        elif token == "responses" and following is not None:
            out += f" response {following}"
            i += 1
        elif token == "content" and following is not None:
            out += f" {following}"
            i += 1
        elif token == "parameters" and following is not None:
            out += f" parameter {_parameter_name(data, [*base, *tokens[:i + 2]]) or '#' + following}"
            i += 1
        else:
            out += f" {token}"
        i += 1
    return out


def _parameter_name(data: Mapping[str, Any] | None, tokens: list[str]) -> str | None:
    node: Any = data
    for token in tokens:
        if isinstance(node, Mapping):
            node = node.get(token)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    if isinstance(node, Mapping) and isinstance(node.get("name"), str):
        return f"{node.get('in', 'query')} {node['name']}"
    return None


_LAST_PROPERTY = re.compile(r"(?:^|\.)([^.\[\]{}/]+)(?:\[\]|\{\*\})*(?:/[^.]*)?$")


def subject_of(label: str) -> str | None:
    """What a sentence about a change at ``label`` talks about: the last property name (``call_id``) or the
    component (``Status``); None for a label that names no property (an operation, a parameter, a body)."""
    if ": " in label:
        schema_part = label.rsplit(": ", 1)[1]
        if schema_part.startswith("body"):
            schema_part = schema_part[len("body"):]
    elif " " in label:
        return None
    else:
        schema_part = label
    match = _LAST_PROPERTY.search(schema_part)
    return f"`{match.group(1)}`" if match else None
