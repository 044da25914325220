"""Comparing two schemas from a client's point of view, in a request (the client sends values) or a response
(the client reads values) context.

Request rules: the NEW schema must accept everything the OLD one accepted. Response rules: the NEW schema may only
produce what the OLD one promised. A comparison returns its changes relative to the compared pair (schema path,
rule, values, and the node of the document where the change is written), so that the caller roots them at each
place the pair is used.

Each (old schema, new schema, context) is compared once and its result reused: a component shared by a hundred
operations costs one comparison. Recursion is cut when the same pair of schemas (keyed by their ``$ref`` targets) is
already being compared further up, so recursive schemas (a thought's ``children``) terminate and a schema renamed
under a new component name but unchanged yields no finding. A result that depends on such a cut (a pair inside a
cycle) is not reused: the diff is the same with or without reuse.

Unions: alternatives are paired by component name, then by discriminator value, then by fewest differences; the
rest are removed or added, unless an alternative of the other side covers them (a response union of four object
shapes where any object was promised adds nothing a client does not already handle). In a response, an alternative of a type the old value never had is a type change
(breaking), one of a known type is a new alternative; in a request, a union replaced wholesale by alternatives of
other types is a type change. Bounds, formats and patterns are compared only for the types both sides accept
(``maxItems`` on a newly accepted array alternative is no narrowing of the old strings).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Final, Literal

from apigate.diff.cause import Side
from apigate.diff.rules import RULES, severity_rank
from apigate.diff.shape import (
    LOWER,
    UPPER,
    Alternative,
    Merged,
    Normalizer,
    Shape,
    canonical,
    tighter_lower,
    tighter_upper,
)

__all__ = ["Changes", "Context", "SchemaChange", "SchemaComparer", "describe_types"]

Context = Literal["request", "response"]

_ANY: Final[dict[str, Any]] = {}  # the schema of a value that has none: anything
_MAX_DEPTH: Final = 200
_NO_CUT: Final = 1 << 30
# the JSON type a size/format keyword constrains
_KEYWORD_TYPES: Final = {
    "maxLength": ("string",), "minLength": ("string",),
    "maxItems": ("array",), "minItems": ("array",),
    "maxProperties": ("object",), "minProperties": ("object",),
    "maximum": ("number", "integer"), "minimum": ("number", "integer"),
}


@dataclass(frozen=True, eq=False, slots=True)
class SchemaChange:
    """One change between two schemas; ``node`` is the mapping of the ``side`` document where it is written."""

    rule: str
    old: str | None
    new: str | None
    message: str
    node: Any
    side: Side


# (schema path relative to the compared pair: "", ".name", "[]", "{*}", "/oneOf[Dog]", ...; the change)
Changes = list[tuple[str, SchemaChange]]


def _covers(wide: frozenset[str] | None, narrow: frozenset[str] | None) -> bool:
    """Every value of a type in ``narrow`` is allowed by ``wide``."""
    if wide is None:
        return True
    if narrow is None:
        return False
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _any_of_types(shapes: list[Shape]) -> frozenset[str] | None:
    if any(s.types is None for s in shapes):
        return None
    return frozenset().union(*(s.types or frozenset() for s in shapes))


def describe_types(shape: Shape) -> str:
    return _type_text(shape.types)


def _type_text(types: frozenset[str] | None) -> str:
    if types is None:
        return "any"
    return "|".join(sorted(types)) or "nothing"


def _bound_text(name: str, bound: tuple[float, bool] | None) -> str:
    if bound is None:
        return f"{name}: none"
    value = int(bound[0]) if bound[0].is_integer() else bound[0]
    return f"{name}: {value}{' (exclusive)' if bound[1] else ''}"


def _values(values: list[Any] | None) -> str:
    return "any" if values is None else ", ".join(canonical(v) for v in values)


def _labels(shapes: list[Shape]) -> list[str]:
    """How each alternative is named: its component name (``HTTPError``), else its type, numbered when several
    unnamed alternatives share a type (``object #2``)."""
    base = [s.name or describe_types(s) for s in shapes]
    seen: dict[str, int] = {}
    out = []
    for label in base:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if base.count(label) == 1 else f"{label} #{seen[label]}")
    return out


def _named(alternative: Alternative, label: str) -> str:
    """An alternative's label for a message: with the nested union it came from (``HTTPError (in CallError)``)."""
    return f"{label} (in {alternative.via})" if alternative.via and alternative.via != label else label


class SchemaComparer:
    """Compares raw schemas of an old and a new document; ``memoize=False`` compares every pair afresh (the
    reference the reuse is checked against)."""

    def __init__(self, old: Normalizer, new: Normalizer, *, memoize: bool = True) -> None:
        self.old = old
        self.new = new
        self._memo: dict[Hashable, Changes] | None = {} if memoize else None
        self._active: dict[Hashable, int] = {}  # pair being compared -> its depth on the stack
        self._low = _NO_CUT  # the shallowest depth a cut inside the current comparison went back to
        self.comparisons = 0  # how many pairs were compared (not reused)

    def compare(self, old: Any, new: Any, ctx: Context, *, ignore_null: bool = False) -> Changes:
        o = self.old.shape(old if old is not None else _ANY)
        n = self.new.shape(new if new is not None else _ANY)
        key = (o.key, n.key, ctx, ignore_null)
        if self._memo is not None:
            known = self._memo.get(key)
            if known is not None:
                return known
        pair = (o.cycle_key, n.cycle_key, ctx)
        depth = len(self._active)
        at = self._active.get(pair)
        if at is not None or depth > _MAX_DEPTH:
            self._low = min(self._low, at if at is not None else -1)
            return []
        self._active[pair] = depth
        outer_low, self._low = self._low, _NO_CUT
        out: Changes = []
        try:
            self._compare(o, n, ctx, ignore_null, out)
        finally:
            del self._active[pair]
            low = self._low
            self._low = min(outer_low, low if low < depth else _NO_CUT)
        self.comparisons += 1
        if self._memo is not None and low > depth:  # no cut back to this pair or above: the result is final
            self._memo[key] = out
        return out

    # -- where a change is written ------------------------------------------------------------------------------------

    def _node(self, shape: Shape, side: Side) -> Any:
        raw = shape.raw
        while isinstance(raw, Merged):
            raw = raw.parts[-1]
        normalizer = self.new if side == "new" else self.old
        target, _ref = normalizer.deref_pure(raw)
        return target

    @staticmethod
    def _add(out: Changes, spath: str, rule: str, old: str | None, new: str | None, message: str, node: Any,
             side: Side = "new") -> None:
        out.append((spath, SchemaChange(rule, old, new, message, node, side)))

    @staticmethod
    def _nest(out: Changes, prefix: str, changes: Changes) -> None:
        out.extend((prefix + spath, change) for spath, change in changes)

    # -- the rules -------------------------------------------------------------------------------------------------

    def _compare(self, o: Shape, n: Shape, ctx: Context, ignore_null: bool, out: Changes) -> None:
        if ctx == "request" and o.read_only and n.read_only:
            return
        if ctx == "response" and o.write_only and n.write_only:
            return
        # a union on one side only: the other side is one alternative
        if o.is_pure_union and not n.alternatives:
            self._nullability(o, n, ctx, ignore_null, out)
            kind = o.alternatives[0].kind
            self._alternatives(o, n, o.alternatives, [Alternative(n.raw, kind)], ctx, out)
            return
        if n.is_pure_union and not o.alternatives:
            self._nullability(o, n, ctx, ignore_null, out)
            kind = n.alternatives[0].kind
            self._alternatives(o, n, [Alternative(o.raw, kind)], n.alternatives, ctx, out)
            return
        self._types(o, n, ctx, out)
        self._nullability(o, n, ctx, ignore_null, out)
        self._enum(o, n, ctx, out)
        self._bounds(o, n, ctx, out)
        self._formats(o, n, ctx, out)
        if o.may_be("object") and n.may_be("object"):
            self._properties(o, n, ctx, out)
            self._additional(o, n, ctx, out)
        if (o.items is not None or n.items is not None) and o.may_be("array") and n.may_be("array"):
            self._nest(out, "[]", self.compare(o.items, n.items, ctx))
        if o.alternatives or n.alternatives:
            self._alternatives(o, n, o.alternatives, n.alternatives, ctx, out)

    def _types(self, o: Shape, n: Shape, ctx: Context, out: Changes) -> None:
        old, new = describe_types(o), describe_types(n)
        if ctx == "request":
            if not _covers(n.types, o.types):
                self._add(out, "", "request-property-type-changed", old, new, f"type {old} → {new}", self._node(n, "new"))
            elif not _covers(o.types, n.types):
                self._add(out, "", "request-property-type-widened", old, new, f"type {old} → {new}", self._node(n, "new"))
        elif not _covers(o.types, n.types):
            self._add(out, "", "response-property-type-changed", old, new, f"type {old} → {new}", self._node(n, "new"))
        elif not _covers(n.types, o.types):
            self._add(out, "", "response-property-type-narrowed", old, new, f"type {old} → {new}", self._node(n, "new"))

    @staticmethod
    def _accepts_null(shape: Shape, normalizer: Normalizer) -> bool | None:
        """Whether a value may be null; None when the schema does not say (it allows any value). A union allows
        null when it says so or one of its alternatives does."""
        if shape.types is not None:
            return shape.effective_nullable
        if not shape.alternatives:
            return None
        if shape.nullable:
            return True
        alternatives = [normalizer.shape(a.raw) for a in shape.alternatives]
        if any(a.types is None for a in alternatives):
            return None
        return any(a.effective_nullable for a in alternatives)

    def _nullability(self, o: Shape, n: Shape, ctx: Context, ignore_null: bool, out: Changes) -> None:
        if ignore_null:
            return
        was, now = self._accepts_null(o, self.old), self._accepts_null(n, self.new)
        if was is None or now is None or was == now:
            return
        old, new = ("nullable", "not nullable") if was else ("not nullable", "nullable")
        if ctx == "request":
            rule = "request-property-became-nullable" if now else "request-property-became-non-nullable"
        else:
            rule = "response-property-became-nullable" if now else "response-property-became-non-nullable"
        self._add(out, "", rule, old, new, f"{old} → {new}", self._node(n, "new"))

    def _enum(self, o: Shape, n: Shape, ctx: Context, out: Changes) -> None:
        if o.enum is None and n.enum is None:
            return
        old, new = _values(o.enum), _values(n.enum)
        node = self._node(n, "new")
        if o.enum is None:
            self._add(out, "", f"{ctx}-enum-added", old, new, f"restricted to {new}", node)
            return
        if n.enum is None:
            self._add(out, "", f"{ctx}-enum-removed", old, new, f"no longer restricted to {old}", node)
            return
        old_set = {canonical(v) for v in o.enum}
        new_set = {canonical(v) for v in n.enum}
        removed = [canonical(v) for v in o.enum if canonical(v) not in new_set]
        added = [canonical(v) for v in n.enum if canonical(v) not in old_set]
        if removed:
            self._add(out, "", f"{ctx}-enum-value-removed", old, new, f"value(s) removed: {', '.join(removed)}", node)
        if added:
            self._add(out, "", f"{ctx}-enum-value-added", old, new, f"value(s) added: {', '.join(added)}", node)

    @staticmethod
    def _both_may_be(o: Shape, n: Shape, kinds: tuple[str, ...]) -> bool:
        return any(o.may_be(k) for k in kinds) and any(n.may_be(k) for k in kinds)

    def _bounds(self, o: Shape, n: Shape, ctx: Context, out: Changes) -> None:
        for group, bounds_o, bounds_n, tighter, kind in (
            (UPPER, o.upper, n.upper, tighter_upper, "max"),
            (LOWER, o.lower, n.lower, tighter_lower, "min"),
        ):
            for name in group:
                ob, nb = bounds_o.get(name), bounds_n.get(name)
                if ob == nb or not self._both_may_be(o, n, _KEYWORD_TYPES[name]):
                    continue
                old, new = _bound_text(name, ob), _bound_text(name, nb)
                if nb is not None and (ob is None or tighter(nb, ob)):
                    self._add(out, "", f"{ctx}-{kind}-tightened", old, new, f"{name} tightened", self._node(n, "new"))
                elif ob is not None and (nb is None or tighter(ob, nb)):
                    self._add(out, "", f"{ctx}-{kind}-loosened", old, new, f"{name} loosened", self._node(n, "new"))

    def _formats(self, o: Shape, n: Shape, ctx: Context, out: Changes) -> None:
        if o.format != n.format and self._both_may_be(o, n, ("string", "number", "integer")):
            self._add(out, "", f"{ctx}-format-changed", o.format, n.format, f"format {o.format} → {n.format}",
                      self._node(n, "new"))
        if ctx == "request":
            if n.pattern is not None and n.pattern != o.pattern and self._both_may_be(o, n, ("string",)):
                self._add(out, "", "request-pattern-changed", o.pattern, n.pattern, "pattern added or changed",
                          self._node(n, "new"))
            if o.has_default and n.has_default and canonical(o.default) != canonical(n.default):
                old, new = canonical(o.default), canonical(n.default)
                self._add(out, "", "request-default-changed", old, new, f"default {old} → {new}", self._node(n, "new"))

    def _properties(self, o: Shape, n: Shape, ctx: Context, out: Changes) -> None:
        old_names = o.properties.keys() | o.required
        new_names = n.properties.keys() | n.required
        for name in sorted(old_names | new_names):
            child = f".{name}"
            o_req, n_req = name in o.required, name in n.required
            o_raw, n_raw = o.properties.get(name), n.properties.get(name)
            if name in old_names and name not in new_names:
                if self._skipped(ctx, o_raw, self.old):
                    continue
                node, side = self._property_node(o_raw, o, "old")
                if ctx == "request":
                    self._add(out, child, "request-property-removed", "present", None, "request property removed",
                              node, side)
                elif o_req:
                    self._add(out, child, "response-required-property-removed", "required", None,
                              "required response property removed", node, side)
                else:
                    self._add(out, child, "response-optional-property-removed", "optional", None,
                              "optional response property removed", node, side)
            elif name in new_names and name not in old_names:
                if self._skipped(ctx, n_raw, self.new):
                    continue
                node, side = self._property_node(n_raw, n, "new")
                state = "required" if n_req else "optional"
                if ctx == "request":
                    rule = "request-property-added-required" if n_req else "request-property-added-optional"
                    self._add(out, child, rule, None, state, f"new {state} request property", node, side)
                else:
                    self._add(out, child, "response-property-added", None, state, f"new {state} response property",
                              node, side)
            else:
                if o_req != n_req and not (self._skipped(ctx, o_raw, self.old) and self._skipped(ctx, n_raw, self.new)):
                    old, new = ("required", "optional") if o_req else ("optional", "required")
                    if ctx == "request":
                        rule = "request-property-became-required" if n_req else "request-property-became-optional"
                    else:
                        rule = "response-property-became-required" if n_req else "response-property-became-optional"
                    node, side = self._property_node(n_raw, n, "new")
                    self._add(out, child, rule, old, new, f"{old} → {new}", node, side)
                self._nest(out, child, self.compare(o_raw, n_raw, ctx))

    def _property_node(self, raw: Any, parent: Shape, side: Side) -> tuple[Any, Side]:
        """Where a property is written: its own schema (as written in the parent, not the component it refers
        to), else (only listed in ``required``) the parent object."""
        while isinstance(raw, Merged):
            raw = raw.parts[-1]
        return (raw, side) if raw is not None else (self._node(parent, side), side)

    def _covered(self, old: Alternative, new: Alternative, ctx: Context) -> bool:
        """A client sees nothing worse than compatible changes from ``old`` to ``new`` (in a response: ``new`` only
        produces what ``old`` promised; in a request: ``new`` accepts what ``old`` accepted)."""
        if old.tag is not None and new.tag is not None and old.tag != new.tag:
            return False
        changes = self.compare(old.raw, new.raw, ctx, ignore_null=True)
        return all(RULES[change.rule].severity == "compatible" for _spath, change in changes)

    @staticmethod
    def _skipped(ctx: Context, raw: Any, normalizer: Normalizer) -> bool:
        """readOnly properties are not sent by clients, writeOnly ones not read by them."""
        if raw is None:
            return False
        shape = normalizer.shape(raw)
        return shape.read_only if ctx == "request" else shape.write_only

    def _additional(self, o: Shape, n: Shape, ctx: Context, out: Changes) -> None:
        was, now = o.additional is not False, n.additional is not False
        if was and not now:
            self._add(out, "", f"{ctx}-additional-properties-disallowed", "allowed", "not allowed",
                      "additional properties no longer allowed", self._node(n, "new"))
        elif now and not was:
            self._add(out, "", f"{ctx}-additional-properties-allowed", "not allowed", "allowed",
                      "additional properties now allowed", self._node(n, "new"))
        elif was and now and not (o.additional is True and n.additional is True):
            old = None if o.additional is True else o.additional
            new = None if n.additional is True else n.additional
            self._nest(out, "{*}", self.compare(old, new, ctx))

    # -- unions -------------------------------------------------------------------------------------------------------

    def _alternatives(self, o: Shape, n: Shape, olds: list[Alternative], news: list[Alternative], ctx: Context,
                      out: Changes) -> None:
        """Pair alternatives (same component name, same discriminator value, else fewest differences), then report
        the unpaired ones."""
        o_shapes = [self.old.shape(a.raw) for a in olds]
        n_shapes = [self.new.shape(a.raw) for a in news]
        pairs: dict[int, int] = {}  # old index -> new index
        taken: set[int] = set()

        def pair_by(same: Any) -> None:
            for i in range(len(olds)):
                if i in pairs:
                    continue
                for j in range(len(news)):
                    if j not in taken and same(i, j):
                        pairs[i] = j
                        taken.add(j)
                        break

        pair_by(lambda i, j: o_shapes[i].name is not None and o_shapes[i].name == n_shapes[j].name)
        pair_by(lambda i, j: olds[i].tag is not None and olds[i].tag == news[j].tag)
        compared: dict[tuple[int, int], Changes] = {}
        candidates: list[tuple[tuple[int, int, int], int, int]] = []
        for i, os_ in enumerate(o_shapes):
            if i in pairs:
                continue
            for j, ns in enumerate(n_shapes):
                if j in taken or (olds[i].tag is not None and news[j].tag is not None):  # tags differ
                    continue
                if os_.types is not None and ns.types is not None and not (
                    _covers(os_.types, ns.types) or _covers(ns.types, os_.types) or os_.types & ns.types
                ):
                    continue
                found = compared[i, j] = self.compare(olds[i].raw, news[j].raw, ctx, ignore_null=True)
                counts = [0, 0, 0]
                for _spath, change in found:
                    counts[severity_rank(RULES[change.rule].severity)] += 1
                if os_.name and ns.name and counts[0] + counts[1]:
                    continue  # two different named schemas that differ: one removed, one added
                candidates.append(((counts[0], counts[1], counts[2]), i, j))
        candidates.sort()
        for _score, i, j in candidates:
            if i not in pairs and j not in taken:
                pairs[i] = j
                taken.add(j)
        o_labels, n_labels = _labels(o_shapes), _labels(n_shapes)
        for i, j in sorted(pairs.items(), key=lambda p: p[1]):
            inside = compared.get((i, j))
            if inside is None:
                inside = self.compare(olds[i].raw, news[j].raw, ctx, ignore_null=True)
            self._nest(out, f"/{news[j].kind}[{n_labels[j]}]", inside)
        removed = [i for i in range(len(olds)) if i not in pairs]
        added = [j for j in range(len(news)) if j not in taken]
        o_types, n_types = _any_of_types(o_shapes), _any_of_types(n_shapes)
        if ctx == "response":
            retyped = [j for j in added if not _covers(o_types, n_shapes[j].types)]
            if retyped:
                labels = ", ".join(_named(news[j], n_labels[j]) for j in retyped)
                old, new = _type_text(o_types), _type_text(n_types)
                self._add(out, "", "response-property-type-changed", old, new,
                          f"type {old} → {new}: {news[retyped[0]].kind} alternative(s) {labels} added",
                          self._node(n, "new"))
                added = [j for j in added if j not in retyped]
                removed = [i for i in removed if _covers(n_types, o_shapes[i].types)]
        elif removed and not pairs and not any(_covers(n_types, o_shapes[i].types) for i in removed):
            old, new = _type_text(o_types), _type_text(n_types)
            self._add(out, "", "request-property-type-changed", old, new,
                      f"type {old} → {new}: {news[0].kind} alternative(s) "
                      f"{', '.join(_named(a, label) for a, label in zip(news, n_labels, strict=True))} instead of "
                      f"{', '.join(_named(a, label) for a, label in zip(olds, o_labels, strict=True))}",
                      self._node(n, "new"))
            return
        # an alternative another one already covers is no change for a client: a response object of four shapes
        # where any object was promised, a request object that a free-form object now accepts
        if ctx == "response":
            added = [j for j in added if not any(self._covered(olds[i], news[j], ctx) for i in range(len(olds)))]
        else:
            removed = [i for i in removed if not any(self._covered(olds[i], news[j], ctx) for j in range(len(news)))]
        for i in removed:
            kind = olds[i].kind
            self._add(out, f"/{kind}", f"{ctx}-alternative-removed", o_labels[i], None,
                      f"{kind} alternative {_named(olds[i], o_labels[i])} removed", olds[i].raw, "old")
        for j in added:
            kind = news[j].kind
            self._add(out, f"/{kind}", f"{ctx}-alternative-added", None, n_labels[j],
                      f"{kind} alternative {_named(news[j], n_labels[j])} added", news[j].raw, "new")
