"""Comparing two schemas from a client's point of view, in a request (the client sends values) or a response
(the client reads values) context.

Request rules: the NEW schema must accept everything the OLD one accepted. Response rules: the NEW schema may only
produce what the OLD one promised. Recursion is cut when the same pair of schemas (keyed by their ``$ref`` targets)
is already being compared further up, so recursive schemas (a thought's ``children``) terminate and a schema
renamed under a new component name but unchanged yields no finding.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Literal

from apigate.diff.model import RULES
from apigate.diff.shape import LOWER, UPPER, Normalizer, Shape, _tighter_lower, _tighter_upper, canonical

__all__ = ["Context", "Emit", "SchemaComparer", "describe_types"]

Context = Literal["request", "response"]
# emit(rule, schema_path, old, new, message)
Emit = Callable[[str, str, "str | None", "str | None", str], None]

_MAX_DEPTH = 200


def _covers(wide: frozenset[str] | None, narrow: frozenset[str] | None) -> bool:
    """Every value of a type in ``narrow`` is allowed by ``wide``."""
    if wide is None:
        return True
    if narrow is None:
        return False
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def describe_types(shape: Shape) -> str:
    if shape.types is None:
        return "any"
    return "|".join(sorted(shape.types)) or "nothing"


def _bound_text(name: str, bound: tuple[float, bool] | None) -> str:
    if bound is None:
        return f"{name}: none"
    value = int(bound[0]) if bound[0].is_integer() else bound[0]
    return f"{name}: {value}{' (exclusive)' if bound[1] else ''}"


def _values(values: list[Any] | None) -> str:
    return "any" if values is None else ", ".join(canonical(v) for v in values)


def _alt_label(shape: Shape) -> str:
    return shape.name or describe_types(shape)


class SchemaComparer:
    """Compares raw schemas of an old and a new document, reporting through ``emit``."""

    def __init__(self, old: Normalizer, new: Normalizer, emit: Emit) -> None:
        self.old = old
        self.new = new
        self.emit = emit
        self._active: set[tuple[Hashable, Hashable, str]] = set()

    def compare(self, old: Any, new: Any, ctx: Context, spath: str, *, ignore_null: bool = False) -> None:
        o = self.old.shape(old if old is not None else {})
        n = self.new.shape(new if new is not None else {})
        pair = (o.cycle_key, n.cycle_key, ctx)
        if pair in self._active or len(self._active) > _MAX_DEPTH:
            return
        self._active.add(pair)
        try:
            self._compare(o, n, ctx, spath, ignore_null)
        finally:
            self._active.discard(pair)

    # -- the rules -------------------------------------------------------------------------------------------------

    def _compare(self, o: Shape, n: Shape, ctx: Context, spath: str, ignore_null: bool) -> None:
        if ctx == "request" and o.read_only and n.read_only:
            return
        if ctx == "response" and o.write_only and n.write_only:
            return
        # a union on one side only: the other side is one alternative
        if o.is_pure_union and not n.alternatives:
            self._nullability(o, n, ctx, spath, ignore_null)
            self._alternatives(o.alternatives, [n.raw], ctx, spath, o.alt_kind)
            return
        if n.is_pure_union and not o.alternatives:
            self._nullability(o, n, ctx, spath, ignore_null)
            self._alternatives([o.raw], n.alternatives, ctx, spath, n.alt_kind)
            return
        self._types(o, n, ctx, spath)
        self._nullability(o, n, ctx, spath, ignore_null)
        self._enum(o, n, ctx, spath)
        self._bounds(o, n, ctx, spath)
        self._formats(o, n, ctx, spath)
        if o.may_be("object") and n.may_be("object"):
            self._properties(o, n, ctx, spath)
            self._additional(o, n, ctx, spath)
        if (o.items is not None or n.items is not None) and o.may_be("array") and n.may_be("array"):
            self.compare(o.items, n.items, ctx, f"{spath}[]")
        if o.alternatives or n.alternatives:
            self._alternatives(o.alternatives, n.alternatives, ctx, spath, n.alt_kind if n.alternatives else o.alt_kind)

    def _types(self, o: Shape, n: Shape, ctx: Context, spath: str) -> None:
        old, new = describe_types(o), describe_types(n)
        if ctx == "request":
            if not _covers(n.types, o.types):
                self.emit("request-property-type-changed", spath, old, new, f"type {old} → {new}")
            elif not _covers(o.types, n.types):
                self.emit("request-property-type-widened", spath, old, new, f"type {old} → {new}")
        elif not _covers(o.types, n.types):
            self.emit("response-property-type-changed", spath, old, new, f"type {old} → {new}")
        elif not _covers(n.types, o.types):
            self.emit("response-property-type-narrowed", spath, old, new, f"type {old} → {new}")

    def _nullability(self, o: Shape, n: Shape, ctx: Context, spath: str, ignore_null: bool) -> None:
        if ignore_null or o.types is None or n.types is None:
            return
        was, now = o.effective_nullable, n.effective_nullable
        if was == now:
            return
        old, new = ("nullable", "not nullable") if was else ("not nullable", "nullable")
        if ctx == "request":
            rule = "request-property-became-nullable" if now else "request-property-became-non-nullable"
        else:
            rule = "response-property-became-nullable" if now else "response-property-became-non-nullable"
        self.emit(rule, spath, old, new, f"{old} → {new}")

    def _enum(self, o: Shape, n: Shape, ctx: Context, spath: str) -> None:
        if o.enum is None and n.enum is None:
            return
        old, new = _values(o.enum), _values(n.enum)
        side = ctx
        if o.enum is None:
            self.emit(f"{side}-enum-added", spath, old, new, f"restricted to {new}")
            return
        if n.enum is None:
            self.emit(f"{side}-enum-removed", spath, old, new, f"no longer restricted to {old}")
            return
        old_set = {canonical(v) for v in o.enum}
        new_set = {canonical(v) for v in n.enum}
        removed = [canonical(v) for v in o.enum if canonical(v) not in new_set]
        added = [canonical(v) for v in n.enum if canonical(v) not in old_set]
        if removed:
            self.emit(f"{side}-enum-value-removed", spath, old, new, f"value(s) removed: {', '.join(removed)}")
        if added:
            self.emit(f"{side}-enum-value-added", spath, old, new, f"value(s) added: {', '.join(added)}")

    def _bounds(self, o: Shape, n: Shape, ctx: Context, spath: str) -> None:
        for group, bounds_o, bounds_n, tighter, kind in (
            (UPPER, o.upper, n.upper, _tighter_upper, "max"),
            (LOWER, o.lower, n.lower, _tighter_lower, "min"),
        ):
            for name in group:
                ob, nb = bounds_o.get(name), bounds_n.get(name)
                if ob == nb:
                    continue
                old, new = _bound_text(name, ob), _bound_text(name, nb)
                if nb is not None and (ob is None or tighter(nb, ob)):
                    rule = f"{ctx}-{kind}-tightened"
                    self.emit(rule, spath, old, new, f"{name} tightened")
                elif ob is not None and (nb is None or tighter(ob, nb)):
                    rule = f"{ctx}-{kind}-loosened"
                    self.emit(rule, spath, old, new, f"{name} loosened")

    def _formats(self, o: Shape, n: Shape, ctx: Context, spath: str) -> None:
        if o.format != n.format:
            self.emit(f"{ctx}-format-changed", spath, o.format, n.format, f"format {o.format} → {n.format}")
        if ctx == "request":
            if n.pattern is not None and n.pattern != o.pattern:
                self.emit("request-pattern-changed", spath, o.pattern, n.pattern, "pattern added or changed")
            if o.has_default and n.has_default and canonical(o.default) != canonical(n.default):
                old, new = canonical(o.default), canonical(n.default)
                self.emit("request-default-changed", spath, old, new, f"default {old} → {new}")

    def _properties(self, o: Shape, n: Shape, ctx: Context, spath: str) -> None:
        old_names = o.properties.keys() | o.required
        new_names = n.properties.keys() | n.required
        for name in sorted(old_names | new_names):
            child = f"{spath}.{name}"
            o_req, n_req = name in o.required, name in n.required
            if name in old_names and name not in new_names:
                if self._skipped(ctx, o.properties.get(name), self.old):
                    continue
                if ctx == "request":
                    self.emit("request-property-removed", child, "present", None, "request property removed")
                elif o_req:
                    self.emit("response-required-property-removed", child, "required", None,
                              "required response property removed")
                else:
                    self.emit("response-optional-property-removed", child, "optional", None,
                              "optional response property removed")
            elif name in new_names and name not in old_names:
                if self._skipped(ctx, n.properties.get(name), self.new):
                    continue
                state = "required" if n_req else "optional"
                if ctx == "request":
                    rule = "request-property-added-required" if n_req else "request-property-added-optional"
                    self.emit(rule, child, None, state, f"new {state} request property")
                else:
                    self.emit("response-property-added", child, None, state, f"new {state} response property")
            else:
                if o_req != n_req and not (self._skipped(ctx, o.properties.get(name), self.old)
                                           and self._skipped(ctx, n.properties.get(name), self.new)):
                    old, new = ("required", "optional") if o_req else ("optional", "required")
                    if ctx == "request":
                        rule = "request-property-became-required" if n_req else "request-property-became-optional"
                    else:
                        rule = "response-property-became-required" if n_req else "response-property-became-optional"
                    self.emit(rule, child, old, new, f"{old} → {new}")
                self.compare(o.properties.get(name), n.properties.get(name), ctx, child)

    @staticmethod
    def _skipped(ctx: Context, raw: Any, normalizer: Normalizer) -> bool:
        """readOnly properties are not sent by clients, writeOnly ones not read by them."""
        if raw is None:
            return False
        shape = normalizer.shape(raw)
        return shape.read_only if ctx == "request" else shape.write_only

    def _additional(self, o: Shape, n: Shape, ctx: Context, spath: str) -> None:
        was, now = o.additional is not False, n.additional is not False
        if was and not now:
            self.emit(f"{ctx}-additional-properties-disallowed", spath, "allowed", "not allowed",
                      "additional properties no longer allowed")
        elif now and not was:
            self.emit(f"{ctx}-additional-properties-allowed", spath, "not allowed", "allowed",
                      "additional properties now allowed")
        elif was and now and not (o.additional is True and n.additional is True):
            old = None if o.additional is True else o.additional
            new = None if n.additional is True else n.additional
            self.compare(old, new, ctx, f"{spath}{{*}}")

    def _alternatives(self, olds: list[Any], news: list[Any], ctx: Context, spath: str, kind: str) -> None:
        """Pair alternatives (same component name, else fewest differences), then report the unpaired ones."""
        o_shapes = [self.old.shape(a) for a in olds]
        n_shapes = [self.new.shape(a) for a in news]
        candidates: list[tuple[tuple[int, int, int, int], int, int, list[tuple[Any, ...]]]] = []
        for i, os_ in enumerate(o_shapes):
            for j, ns in enumerate(n_shapes):
                if os_.types is not None and ns.types is not None and not (
                    _covers(os_.types, ns.types) or _covers(ns.types, os_.types) or os_.types & ns.types
                ):
                    continue
                found: list[tuple[Any, ...]] = []
                saved = self.emit

                def collect(*args: Any, _found: list[tuple[Any, ...]] = found) -> None:
                    _found.append(args)

                self.emit = collect
                try:
                    self.compare(olds[i], news[j], ctx, f"{spath}/{kind}[{j}]", ignore_null=True)
                finally:
                    self.emit = saved
                counts = [0, 0, 0]
                for args in found:
                    counts[("breaking", "warning", "compatible").index(RULES[args[0]][0])] += 1
                same_name = os_.name is not None and os_.name == ns.name
                if not same_name and os_.name and ns.name and counts[0] + counts[1]:
                    continue  # two different named schemas that differ: one removed, one added
                candidates.append(((0 if same_name else 1, counts[0], counts[1], counts[2]), i, j, found))
        candidates.sort(key=lambda c: (c[0], c[1], c[2]))
        used_o: set[int] = set()
        used_n: set[int] = set()
        for _score, i, j, found in candidates:
            if i in used_o or j in used_n:
                continue
            used_o.add(i)
            used_n.add(j)
            for args in found:
                self.emit(*args)
        for i, shape in enumerate(o_shapes):
            if i not in used_o:
                label = _alt_label(shape)
                self.emit(f"{ctx}-alternative-removed", f"{spath}/{kind}", label, None,
                          f"{kind} alternative {label} removed")
        for j, shape in enumerate(n_shapes):
            if j not in used_n:
                label = _alt_label(shape)
                self.emit(f"{ctx}-alternative-added", f"{spath}/{kind}", None, label,
                          f"{kind} alternative {label} added")
