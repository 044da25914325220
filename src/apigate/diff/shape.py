"""A schema reduced to what matters to a client: :class:`Shape`, built by :func:`Normalizer.shape`.

Normalising makes equivalent spellings compare equal: OpenAPI 3.0 ``nullable: true`` and 3.1 ``type: [..., "null"]``
(and ``anyOf: [X, {type: "null"}]``); ``allOf`` parts are merged into one shape; a union nested in a union
(``anyOf: [string, $ref CallError]`` where ``CallError`` is a ``oneOf``) is flattened into one list of alternatives,
each remembering the union keyword it is written under and the component it came through; ``oneOf``/``anyOf``
alternatives with disjoint types (``anyOf: [{type: string}, {type: object, ...}]``) become one shape with several
types; ``const`` is a one-value ``enum``; descriptions, titles, examples and ``x-`` extensions are ignored. Child
schemas (properties, items, alternatives) stay raw and are normalised when the comparison reaches them, so recursive
schemas stay finite.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, NamedTuple

from apigate.diff.loader import Document

__all__ = ["LOWER", "TYPES", "UPPER", "Alternative", "Merged", "Normalizer", "Shape", "canonical", "tighter_lower",
           "tighter_upper"]

TYPES: Final = frozenset({"string", "number", "integer", "boolean", "array", "object"})
# bound keyword -> group it belongs to (a 3.1 numeric exclusiveMaximum is an exclusive maximum)
UPPER: Final = ("maxLength", "maxItems", "maxProperties", "maximum")
LOWER: Final = ("minLength", "minItems", "minProperties", "minimum")
_STRUCTURAL: Final = frozenset({
    "type", "nullable", "properties", "required", "items", "prefixItems", "additionalProperties", "enum", "const",
    "format", "pattern", "default", "allOf", "oneOf", "anyOf", "$ref", "readOnly", "writeOnly", "not",
    "maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum",
    "minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum",
})
_STRUCTURAL_SIBLINGS: Final = _STRUCTURAL - {"$ref"}  # beside a $ref, they make it more than a reference
_BOUNDS: Final = frozenset({*UPPER, *LOWER, "exclusiveMaximum", "exclusiveMinimum"})
_MISSING: Final = object()


def canonical(value: Any) -> str:
    """A stable text form of a JSON value (for enum sets and printing)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


@dataclass(frozen=True)
class Merged:
    """A synthetic schema: the intersection (allOf) of several raw schemas."""

    parts: tuple[Any, ...]


Bound = tuple[float, bool]  # (limit, exclusive)


class Alternative(NamedTuple):
    """One alternative of a ``oneOf``/``anyOf``: the raw schema, the keyword of the union it is written under, the
    component of the nested union it was taken from (``CallError``), and its discriminator value (when its union
    has a ``discriminator``)."""

    raw: Any
    kind: str
    via: str | None = None
    tag: str | None = None


@dataclass
class Shape:
    key: Hashable
    name: str | None = None  # component name when reached through a $ref
    raw: Any = None
    types: frozenset[str] | None = None  # None: any type; "null" is never in here
    nullable: bool | None = None  # None: not constrained by this schema
    properties: dict[str, Any] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    items: Any = None
    additional: Any = True  # True (allowed, any value), False, or a raw schema
    enum: list[Any] | None = None  # non-null values
    upper: dict[str, Bound] = field(default_factory=dict)
    lower: dict[str, Bound] = field(default_factory=dict)
    format: str | None = None
    pattern: str | None = None
    default: Any = _MISSING
    alternatives: list[Alternative] = field(default_factory=list)
    read_only: bool = False
    write_only: bool = False
    refs: frozenset[str] = frozenset()  # the components this shape was built from

    @property
    def cycle_key(self) -> Hashable:
        """Identity for recursion detection: the components it was built from (a nullable wrapper around a
        component counts as that component), else the node itself."""
        return self.refs if self.refs else self.key

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING

    @property
    def effective_nullable(self) -> bool:
        return bool(self.nullable) if self.nullable is not None else self.types is None

    @property
    def is_pure_union(self) -> bool:
        """Only alternatives, nothing of its own that constrains a value."""
        return bool(self.alternatives) and self.types is None and not self.properties and not self.required \
            and self.items is None and self.enum is None and self.additional is True

    def may_be(self, kind: str) -> bool:
        return self.types is None or kind in self.types


def _covered(kind: str, types: frozenset[str]) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


def _intersect_types(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return frozenset({t for t in a if _covered(t, b)} | {t for t in b if _covered(t, a)})


def tighter_upper(a: Bound, b: Bound) -> bool:
    return a[0] < b[0] or (a[0] == b[0] and a[1] and not b[1])


def tighter_lower(a: Bound, b: Bound) -> bool:
    return a[0] > b[0] or (a[0] == b[0] and a[1] and not b[1])


def _is_null_schema(node: Any) -> bool:
    if not isinstance(node, Mapping):
        return False
    kind = node.get("type")
    if kind == "null" or kind == ["null"]:
        return True
    return ("const" in node and node["const"] is None) or node.get("enum") == [None]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class Normalizer:
    """Builds (and caches) the shapes of one document's schemas."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self._cache: dict[Hashable, Shape] = {}

    def key(self, node: Any) -> Hashable:
        if isinstance(node, Merged):
            return ("merge", *(self.key(p) for p in node.parts))
        target, ref = self.deref_pure(node)
        return ref if ref is not None else id(target)

    def deref_pure(self, node: Any) -> tuple[Any, str | None]:
        """Follow $refs that have no structural siblings."""
        if type(node) is not dict or "$ref" not in node:  # the common case, first and fast
            return node, None
        ref: str | None = None
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and not _STRUCTURAL_SIBLINGS & node.keys():
            ref = node["$ref"]
            if ref in seen:
                break
            seen.add(ref)
            node = self.document.resolve(ref)
        return node, ref

    def shape(self, node: Any, depth: int = 0) -> Shape:
        key = self.key(node)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = self._build(node, key, depth)
        self._cache[key] = result
        return result

    def _build(self, node: Any, key: Hashable, depth: int) -> Shape:
        if depth > 32:  # an allOf that contains itself: stop merging
            return Shape(key, raw=node)
        if isinstance(node, Merged):
            shapes = [self.shape(p, depth + 1) for p in node.parts]
            merged = replace(shapes[0], key=key, raw=node)
            for part in shapes[1:]:
                merged = _intersect(merged, part, key)
            merged.key, merged.raw = key, node
            merged.refs = frozenset().union(*(p.refs for p in shapes))
            return merged
        target, ref = self.deref_pure(node)
        name = ref.rsplit("/", 1)[-1] if ref else None
        refs = frozenset({ref} if ref else set())
        if isinstance(target, bool):  # JSON Schema true/false
            return Shape(key, name, node, types=None if target else frozenset(), refs=refs)
        if not isinstance(target, Mapping):
            return Shape(key, name, node, refs=refs)
        own = self._own(target, key)
        parts: list[Shape] = []
        sibling_ref = target.get("$ref")
        if isinstance(sibling_ref, str):
            parts.append(self.shape({"$ref": sibling_ref}, depth + 1))
        for part in target.get("allOf") or []:
            parts.append(self.shape(part, depth + 1))
        alternatives: list[Alternative] = []
        for keyword in ("oneOf", "anyOf"):
            alts = target.get(keyword)
            if isinstance(alts, list) and alts:
                tags = self._tags(target, alts, depth)
                alternatives.extend(Alternative(alt, keyword, None, tag) for alt, tag in zip(alts, tags, strict=True))
        null_alt = False
        if alternatives:
            rest: list[Alternative] = []
            for alt in alternatives:
                if _is_null_schema(self.deref_pure(alt.raw)[0]):
                    null_alt = True
                else:
                    rest.append(alt)
            if len(rest) > 1:
                rest, nested_null = self._flatten(rest, depth)
                null_alt = null_alt or nested_null
            if null_alt:
                own.nullable = True
            if len(rest) == 1:
                parts.append(self.shape(rest[0].raw, depth + 1))
            elif rest:
                shapes = [self.shape(alt.raw, depth + 1) for alt in rest]
                union = _unite(shapes, key)
                if union is not None:
                    parts.append(union)
                else:
                    own.alternatives = rest
        merged = own
        for part in parts:
            merged = _intersect(merged, part, key)
        if own.nullable is True and (target.get("nullable") is True or null_alt):
            merged.nullable = True  # 3.0 `nullable: true` next to allOf/$ref, or an explicit null alternative
        merged.key, merged.name, merged.raw = key, name or merged.name, node
        merged.refs = frozenset({ref} if ref else set()).union(*(p.refs for p in parts))
        return merged

    def _flatten(self, alternatives: list[Alternative], depth: int) -> tuple[list[Alternative], bool]:
        """Alternatives that are unions themselves (and nothing else) replaced by their own alternatives; True when
        one of those allowed null."""
        flat: list[Alternative] = []
        nullable = False
        for alt in alternatives:
            inner = self.shape(alt.raw, depth + 1)
            if inner.is_pure_union:
                nullable = nullable or bool(inner.nullable)
                flat.extend(a._replace(via=a.via or inner.name) for a in inner.alternatives)
            else:
                flat.append(alt)
        return flat, nullable

    def _tags(self, union: Mapping[str, Any], alternatives: list[Any], depth: int) -> list[str | None]:
        """Each alternative's discriminator value: from the discriminator's ``mapping``, else the one value its
        discriminating property allows, else (the implicit mapping) its component name."""
        discriminator = union.get("discriminator")
        if not isinstance(discriminator, Mapping) or not isinstance(discriminator.get("propertyName"), str):
            return [None] * len(alternatives)
        name = discriminator["propertyName"]
        mapping = discriminator.get("mapping")
        by_target = {str(t): str(v) for v, t in mapping.items()} if isinstance(mapping, Mapping) else {}
        tags: list[str | None] = []
        for alt in alternatives:
            _target, ref = self.deref_pure(alt)
            component = ref.rsplit("/", 1)[-1] if ref else None
            tag = by_target.get(ref or "") or by_target.get(component or "")
            if tag is None:
                prop = self.shape(alt, depth + 1).properties.get(name)
                values = self.shape(prop, depth + 1).enum if prop is not None else None
                if values is not None and len(values) == 1:
                    tag = canonical(values[0])
            tags.append(tag if tag is not None else component)
        return tags

    def _own(self, node: Mapping[str, Any], key: Hashable) -> Shape:
        shape = Shape(key, raw=node)
        kind = node.get("type")
        kinds = [kind] if isinstance(kind, str) else list(kind) if isinstance(kind, list) else None
        if kinds is not None:
            shape.types = frozenset(k for k in kinds if k in TYPES)
            shape.nullable = "null" in kinds
        if node.get("nullable") is True:
            shape.nullable = True
        props = node.get("properties")
        if isinstance(props, Mapping):
            shape.properties = dict(props)
        required = node.get("required")
        if isinstance(required, list):
            shape.required = {r for r in required if isinstance(r, str)}
        if "items" in node and not isinstance(node["items"], bool):
            shape.items = node["items"]
        extra = node.get("additionalProperties", True)
        shape.additional = extra if extra is not None else True
        if isinstance(extra, Mapping) and not (extra.keys() - {"description", "title"}):
            shape.additional = True  # `additionalProperties: {}` is the same as true
        values: list[Any] | None = None
        if "const" in node:
            values = [node["const"]]
        elif isinstance(node.get("enum"), list):
            values = list(node["enum"])
        if values is not None:
            if None in values:
                shape.nullable = True
            shape.enum = [v for v in values if v is not None]
            if shape.types is None:
                inferred = {_json_type(v) for v in shape.enum}
                shape.types = frozenset(inferred) if shape.enum else None
        if shape.types is None and ("properties" in node or "additionalProperties" in node):
            shape.types = frozenset({"object"})
        if shape.types is None and "items" in node:
            shape.types = frozenset({"array"})
        if not _BOUNDS.isdisjoint(node.keys()):  # most schemas have none
            _read_bounds(node, shape)
        shape.format, shape.pattern = _text(node.get("format")), _text(node.get("pattern"))
        if "default" in node:
            shape.default = node["default"]
        shape.read_only = node.get("readOnly") is True
        shape.write_only = node.get("writeOnly") is True
        return shape


def _read_bounds(node: Mapping[str, Any], shape: Shape) -> None:
    for names, bounds, inclusive, exclusive, tighter in (
        (UPPER, shape.upper, "maximum", "exclusiveMaximum", tighter_upper),
        (LOWER, shape.lower, "minimum", "exclusiveMinimum", tighter_lower),
    ):
        for name in names:
            limit = _number(node.get(name))
            if limit is not None:  # a 3.0 boolean exclusiveMaximum qualifies maximum
                bounds[name] = (limit, name == inclusive and node.get(exclusive) is True)
        limit = _number(node.get(exclusive))  # a 3.1 numeric exclusiveMaximum is a bound of its own
        if limit is not None and (inclusive not in bounds or not tighter(bounds[inclusive], (limit, True))):
            bounds[inclusive] = (limit, True)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "string"


def _intersect(a: Shape, b: Shape, key: Hashable) -> Shape:
    """Both schemas apply (allOf)."""
    out = Shape(key, name=a.name or b.name)
    out.types = _intersect_types(a.types, b.types)
    if a.nullable is None:
        out.nullable = b.nullable
    elif b.nullable is None:
        out.nullable = a.nullable
    else:
        out.nullable = a.nullable and b.nullable
    out.properties = dict(a.properties)
    for name, schema in b.properties.items():
        out.properties[name] = Merged((out.properties[name], schema)) if name in out.properties else schema
    out.required = a.required | b.required
    if a.items is not None and b.items is not None:
        out.items = Merged((a.items, b.items))
    else:
        out.items = a.items if a.items is not None else b.items
    if a.additional is False or b.additional is False:
        out.additional = False
    elif a.additional is True:
        out.additional = b.additional
    elif b.additional is True:
        out.additional = a.additional
    else:
        out.additional = Merged((a.additional, b.additional))
    if a.enum is not None and b.enum is not None:
        allowed = {canonical(v) for v in b.enum}
        out.enum = [v for v in a.enum if canonical(v) in allowed]
    else:
        out.enum = a.enum if a.enum is not None else b.enum
    out.upper = dict(b.upper)
    for name, bound in a.upper.items():
        if name not in out.upper or tighter_upper(bound, out.upper[name]):
            out.upper[name] = bound
    out.lower = dict(b.lower)
    for name, bound in a.lower.items():
        if name not in out.lower or tighter_lower(bound, out.lower[name]):
            out.lower[name] = bound
    out.format = a.format or b.format
    out.pattern = a.pattern or b.pattern
    out.default = a.default if a.has_default else b.default
    out.alternatives = a.alternatives or b.alternatives
    out.read_only = a.read_only or b.read_only
    out.write_only = a.write_only or b.write_only
    return out


def _unite(shapes: list[Shape], key: Hashable) -> Shape | None:
    """One shape for alternatives whose types do not overlap (``anyOf: [{type: string}, {type: object}]``), else None."""
    seen: set[str] = set()
    for shape in shapes:
        if not shape.types or shape.alternatives:
            return None
        kinds = set(shape.types) | ({"number"} if "integer" in shape.types else set())
        kinds |= {"integer"} if "number" in kinds else set()
        if kinds & seen:
            return None
        seen |= kinds
    out = Shape(key)
    out.types = frozenset().union(*(s.types or frozenset() for s in shapes))
    out.nullable = any(bool(s.nullable) for s in shapes)
    if all(s.enum is not None for s in shapes):
        out.enum = [v for s in shapes for v in (s.enum or [])]
    for shape in shapes:
        if "object" in (shape.types or ()):
            out.properties, out.required, out.additional = shape.properties, shape.required, shape.additional
        if "array" in (shape.types or ()):
            out.items = shape.items
        out.upper.update(shape.upper)
        out.lower.update(shape.lower)
        out.format = out.format or shape.format
        out.pattern = out.pattern or shape.pattern
    return out
