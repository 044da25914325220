"""Comparing two OpenAPI documents operation by operation: :func:`diff_documents`.

Paths are matched with their parameter names blanked (``/a/{id}`` and ``/a/{assistant_id}`` are the same path to a
client), parameters by location and name (path parameters by position), responses by status and media types by
their type without parameters. Schemas are handed to :class:`~apigate.diff.schema.SchemaComparer`.

Every finding carries its cause (the node of the new document that changed, or of the old one for something
removed: file, JSON pointer, line) and one sentence saying what breaks for a client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from apigate.diff.cause import Cause, Side, describe_pointer, subject_of
from apigate.diff.loader import Document
from apigate.diff.model import Finding
from apigate.diff.rules import RULES, explain
from apigate.diff.schema import Context, SchemaComparer
from apigate.diff.shape import Normalizer

__all__ = ["diff_documents"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM = re.compile(r"\{[^}/]*\}")


def _template(path: str) -> str:
    return _PARAM.sub("{}", path.rstrip("/") or "/")


def _status(key: object) -> str:
    """``200``, ``2XX`` (any case) or ``default``."""
    text = str(key)
    return "default" if text.lower() == "default" else text.upper()


def _media(name: str) -> str:
    return name.split(";", 1)[0].strip().lower()


class _Differ:
    def __init__(self, old: Document, new: Document, *, memoize: bool = True) -> None:
        self.old = old
        self.new = new
        self.findings: list[Finding] = []
        self._op: tuple[str, str] = ("", "")  # (path, method) of the findings being emitted
        self._operation_name = ""
        self.schemas = SchemaComparer(Normalizer(old), Normalizer(new), memoize=memoize)
        self._causes: dict[tuple[Side, int], Cause | None] = {}
        self._explanations: dict[tuple[Any, ...], str] = {}

    # -- emitting ---------------------------------------------------------------------------------------------------

    def _cause(self, node: Any, side: Side) -> Cause | None:
        key = (side, id(node))
        if key not in self._causes:
            document = self.new if side == "new" else self.old
            located = document.locate(node)
            self._causes[key] = None if located is None else Cause(
                side, located[0], located[1], located[2],
                describe_pointer(located[1], document.data if located[0] == document.source else None),
            )
        return self._causes[key]

    def emit(self, rule: str, where: str, old: str | None, new: str | None, message: str, *, node: Any,
             side: Side, subject: str) -> None:
        path, method = self._op
        cause = self._cause(node, side)
        key = (rule, subject, old, new, message)
        explanation = self._explanations.get(key)
        if explanation is None:
            explanation = self._explanations[key] = explain(rule, subject, old, new, message)
        self.findings.append(Finding(RULES[rule].severity, rule, path, method, where, old, new, message, cause,
                                     explanation))

    def schema(self, old: Any, new: Any, ctx: Context, prefix: str, root: str, *, container: tuple[Any, Any],
               subject: str) -> None:
        """Compare two schemas found at ``prefix`` (``root`` names the value: ``body`` or nothing for a parameter);
        ``container`` (the old and new media type or parameter) stands in for a change written nowhere else."""
        for spath, change in self.schemas.compare(old, new, ctx):
            full = root + spath
            if full.startswith("."):
                full = full[1:]
            where = f"{prefix}: {full}" if full else prefix
            side = change.side
            node = change.node if self._cause(change.node, side) is not None else container[side == "new"]
            cause = self._cause(node, side)
            named = subject_of(cause.label) if cause is not None else None
            self.emit(change.rule, where, change.old, change.new, change.message, node=node, side=side,
                      subject=named or subject)

    # -- documents --------------------------------------------------------------------------------------------------

    def run(self) -> list[Finding]:
        old_paths = self._paths(self.old)
        new_paths = self._paths(self.new)
        for key in sorted(old_paths.keys() | new_paths.keys()):
            if key not in new_paths:
                path, item = old_paths[key]
                self._op = (path, "")
                self.emit("path-removed", "", path, None, "path removed", node=item, side="old", subject=f"`{path}`")
            elif key not in old_paths:
                path, item = new_paths[key]
                self._op = (path, "")
                self.emit("path-added", "", None, path, "new path", node=item, side="new", subject=f"`{path}`")
            else:
                self._path_item(old_paths[key], new_paths[key])
        self.findings.sort(key=Finding.sort_key)
        return self.findings

    @staticmethod
    def _paths(doc: Document) -> dict[str, tuple[str, Mapping[str, Any]]]:
        out: dict[str, tuple[str, Mapping[str, Any]]] = {}
        for path, item in doc.paths.items():
            item, _ref = doc.deref(item)
            if isinstance(item, Mapping):
                out.setdefault(_template(str(path)), (str(path), item))
        return out

    def _path_item(self, old: tuple[str, Mapping[str, Any]], new: tuple[str, Mapping[str, Any]]) -> None:
        (old_path, old_item), (new_path, new_item) = old, new
        for method in _METHODS:
            o_op, n_op = old_item.get(method), new_item.get(method)
            if not isinstance(o_op, Mapping) and not isinstance(n_op, Mapping):
                continue
            self._op = (new_path, method)
            if not isinstance(n_op, Mapping):
                self._op = (old_path, method)
                name = f"{method.upper()} {old_path}"
                self.emit("operation-removed", "", name, None, "operation removed", node=o_op, side="old",
                          subject=f"`{name}`")
            elif not isinstance(o_op, Mapping):
                name = f"{method.upper()} {new_path}"
                self.emit("operation-added", "", None, name, "new operation", node=n_op, side="new",
                          subject=f"`{name}`")
            else:
                self._operation(old_path, old_item, o_op, new_path, new_item, n_op)

    def _operation(self, old_path: str, old_item: Mapping[str, Any], o_op: Mapping[str, Any],
                   new_path: str, new_item: Mapping[str, Any], n_op: Mapping[str, Any]) -> None:
        self._operation_name = f"`{self._op[1].upper()} {new_path}`"
        self._security(o_op, n_op)
        self._parameters(self._params(self.old, old_path, old_item, o_op), self._params(self.new, new_path, new_item, n_op))
        self._request_body(o_op.get("requestBody"), n_op.get("requestBody"))
        self._responses(o_op.get("responses"), n_op.get("responses"))

    # -- security ---------------------------------------------------------------------------------------------------

    @staticmethod
    def _security_of(doc: Document, op: Mapping[str, Any]) -> tuple[set[frozenset[Any]], dict[frozenset[Any], str]]:
        """The operation's accepted credential sets, each a frozenset of (scheme signature, scopes)."""
        reqs = op.get("security", doc.data.get("security"))
        schemes = ((doc.data.get("components") or {}).get("securitySchemes") or {})
        out: set[frozenset[Any]] = set()
        labels: dict[frozenset[Any], str] = {}
        for req in reqs or []:
            if not isinstance(req, Mapping):
                continue
            entries = []
            for name, scopes in req.items():
                scheme, _ref = doc.deref(schemes.get(name, {}))
                entries.append((_scheme_signature(name, scheme), frozenset(scopes or [])))
            alt = frozenset(entries)
            out.add(alt)
            labels[alt] = " + ".join(sorted(
                name + (f"[{', '.join(sorted(scopes or []))}]" if scopes else "") for name, scopes in req.items()
            )) or "anonymous"
        return out, labels

    def _security(self, o_op: Mapping[str, Any], n_op: Mapping[str, Any]) -> None:
        old, old_labels = self._security_of(self.old, o_op)
        new, new_labels = self._security_of(self.new, n_op)
        if old == new:
            return
        old_text = " | ".join(sorted(old_labels.values())) or "none"
        new_text = " | ".join(sorted(new_labels.values())) or "none"
        anonymous: frozenset[Any] = frozenset()
        old_open = not old or anonymous in old
        new_open = not new or anonymous in new
        rule, message = "", ""
        if new_open and not old_open:
            rule, message = "security-removed", "credentials no longer required"
        elif old_open and not new_open:
            rule, message = "security-added", "credentials now required"
        elif old <= new:
            rule, message = "security-alternative-added", "more kinds of credentials accepted"
        elif not old_open:
            rule, message = "security-changed", "accepted credentials changed"
        if rule:
            self.emit(rule, "security", old_text, new_text, message, node=n_op, side="new",
                      subject=self._operation_name)
        # both open (anonymous allowed before and after): nothing a client must change

    # -- parameters -------------------------------------------------------------------------------------------------

    @staticmethod
    def _params(doc: Document, path: str, item: Mapping[str, Any], op: Mapping[str, Any]) -> dict[tuple[str, str], tuple[str, Mapping[str, Any]]]:
        """(location, key) -> (display name, parameter); path parameters are keyed by their position."""
        positions = {name.strip("{}"): str(i) for i, name in enumerate(_PARAM.findall(path))}
        out: dict[tuple[str, str], tuple[str, Mapping[str, Any]]] = {}
        for source in (item.get("parameters") or [], op.get("parameters") or []):
            for raw in source:
                param, _ref = doc.deref(raw)
                if not isinstance(param, Mapping) or not isinstance(param.get("name"), str):
                    continue
                where, name = str(param.get("in", "query")), param["name"]
                if where == "path":
                    key: str = positions[name] if name in positions else str(name)
                elif where == "header":
                    key = name.lower()
                else:
                    key = name
                out[(where, key)] = (name, param)
        return out

    @staticmethod
    def _param_schema(param: Mapping[str, Any]) -> Any:
        if "schema" in param:
            return param["schema"]
        content = param.get("content")
        if isinstance(content, Mapping):
            for media in content.values():
                if isinstance(media, Mapping):
                    return media.get("schema", {})
        return {}

    def _parameters(self, old: dict[tuple[str, str], tuple[str, Mapping[str, Any]]],
                    new: dict[tuple[str, str], tuple[str, Mapping[str, Any]]]) -> None:
        for key in sorted(old.keys() | new.keys()):
            where = key[0]
            if key not in new:
                name, o_param = old[key]
                self.emit("request-parameter-removed", f"parameter {where} {name}", "present", None, "parameter removed",
                          node=o_param, side="old", subject=f"{where} parameter `{name}`")
                continue
            name, n_param = new[key]
            label = f"parameter {where} {name}"
            subject = f"{where} parameter `{name}`"
            n_req = n_param.get("required") is True or where == "path"
            if key not in old:
                state = "required" if n_req else "optional"
                rule = "request-parameter-added-required" if n_req else "request-parameter-added-optional"
                self.emit(rule, label, None, state, f"new {state} parameter", node=n_param, side="new", subject=subject)
                continue
            _old_name, o_param = old[key]
            o_req = o_param.get("required") is True or where == "path"
            if n_req != o_req:
                rule = "request-parameter-became-required" if n_req else "request-parameter-became-optional"
                old_state, new_state = ("optional", "required") if n_req else ("required", "optional")
                self.emit(rule, label, old_state, new_state, f"{old_state} → {new_state}", node=n_param, side="new",
                          subject=subject)
            self.schema(self._param_schema(o_param), self._param_schema(n_param), "request", label, "",
                        container=(o_param, n_param), subject=subject)

    # -- request bodies ---------------------------------------------------------------------------------------------

    @staticmethod
    def _content(node: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        content = node.get("content")
        out: dict[str, Mapping[str, Any]] = {}
        if isinstance(content, Mapping):
            for name, media in content.items():
                out.setdefault(_media(str(name)), media if isinstance(media, Mapping) else {})
        return out

    def _request_body(self, old_raw: Any, new_raw: Any) -> None:
        old = self.old.deref(old_raw)[0] if old_raw is not None else None
        new = self.new.deref(new_raw)[0] if new_raw is not None else None
        if not isinstance(old, Mapping) and not isinstance(new, Mapping):
            return
        operation = self._operation_name
        if not isinstance(new, Mapping):
            self.emit("request-body-removed", "request body", "present", None, "request body removed", node=old,
                      side="old", subject=operation)
            return
        n_req = new.get("required") is True
        if not isinstance(old, Mapping):
            state = "required" if n_req else "optional"
            rule = "request-body-added-required" if n_req else "request-body-added-optional"
            self.emit(rule, "request body", None, state, f"new {state} request body", node=new, side="new",
                      subject=operation)
            return
        o_req = old.get("required") is True
        if n_req != o_req:
            rule = "request-body-became-required" if n_req else "request-body-became-optional"
            old_state, new_state = ("optional", "required") if n_req else ("required", "optional")
            self.emit(rule, "request body", old_state, new_state, f"{old_state} → {new_state}", node=new, side="new",
                      subject=operation)
        o_content, n_content = self._content(old), self._content(new)
        for media in sorted(o_content.keys() | n_content.keys()):
            where = f"request body {media}"
            if media not in n_content:
                self.emit("request-media-type-removed", where, media, None, "request media type no longer accepted",
                          node=o_content[media], side="old", subject=operation)
            elif media not in o_content:
                self.emit("request-media-type-added", where, None, media, "new request media type",
                          node=n_content[media], side="new", subject=operation)
            else:
                self.schema(o_content[media].get("schema"), n_content[media].get("schema"), "request", where, "body",
                            container=(o_content[media], n_content[media]), subject=f"the request body of {operation}")

    # -- responses --------------------------------------------------------------------------------------------------

    def _responses(self, old_raw: Any, new_raw: Any) -> None:
        old = {_status(k): v for k, v in old_raw.items()} if isinstance(old_raw, Mapping) else {}
        new = {_status(k): v for k, v in new_raw.items()} if isinstance(new_raw, Mapping) else {}
        removed = [s for s in old if self._match(s, new) is None]
        added = [s for s in new if s not in old and not (s.endswith("XX") and any(o[0] == s[0] and o not in new for o in old))]
        success_removed = [s for s in removed if s.startswith("2")]
        success_added = [s for s in added if s.startswith("2")]
        changed: tuple[str, str] | None = None
        if len(success_removed) == 1 and len(success_added) == 1 and not any(
            s.startswith("2") for s in old if s not in removed
        ):
            changed = (success_removed[0], success_added[0])
            self.emit("success-status-changed", f"response {changed[0]}", changed[0], changed[1],
                      f"success status {changed[0]} → {changed[1]}", node=self.new.deref(new[changed[1]])[0],
                      side="new", subject=self._operation_name)
        for status in sorted(removed):
            if changed and status == changed[0]:
                continue
            rule = "success-status-removed" if status.startswith("2") else "response-status-removed"
            self.emit(rule, f"response {status}", status, None, "response status removed",
                      node=self.old.deref(old[status])[0], side="old", subject=self._operation_name)
        for status in sorted(added):
            if changed and status == changed[1]:
                continue
            self.emit("response-status-added", f"response {status}", None, status, "new response status",
                      node=self.new.deref(new[status])[0], side="new", subject=self._operation_name)
        for status in sorted(old):
            match = self._match(status, new)
            if match is not None:
                self._response(status, old[status], new[match])
        if changed:
            self._response(changed[1], old[changed[0]], new[changed[1]])

    @staticmethod
    def _match(status: str, new: Mapping[str, Any]) -> str | None:
        if status in new:
            return status
        if len(status) == 3 and status[0].isdigit() and f"{status[0]}XX" in new:
            return f"{status[0]}XX"
        return None

    def _response(self, status: str, old_raw: Any, new_raw: Any) -> None:
        old, _ = self.old.deref(old_raw)
        new, _ = self.new.deref(new_raw)
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            return
        o_content, n_content = self._content(old), self._content(new)
        operation = self._operation_name
        for media in sorted(o_content.keys() | n_content.keys()):
            where = f"response {status} {media}"
            if media not in n_content:
                self.emit("response-media-type-removed", where, media, None, "response media type no longer sent",
                          node=o_content[media], side="old", subject=operation)
            elif media not in o_content:
                self.emit("response-media-type-added", where, None, media, "new response media type",
                          node=n_content[media], side="new", subject=operation)
            else:
                self.schema(o_content[media].get("schema"), n_content[media].get("schema"), "response", where, "body",
                            container=(o_content[media], n_content[media]),
                            subject=f"the {status} response body of {operation}")


def _scheme_signature(name: str, scheme: Any) -> tuple[Any, ...]:
    """What a credential looks like on the wire; renaming a security scheme changes nothing for a client."""
    if not isinstance(scheme, Mapping) or "type" not in scheme:
        return ("named", name)
    kind = str(scheme["type"])
    if kind == "http":
        return (kind, str(scheme.get("scheme", "")).lower())
    if kind == "apiKey":
        where = str(scheme.get("in", ""))
        key = str(scheme.get("name", ""))
        return (kind, where, key.lower() if where == "header" else key)
    if kind == "oauth2":
        flows = scheme.get("flows") or {}
        return (kind, tuple(sorted(flows)) if isinstance(flows, Mapping) else ())
    if kind == "openIdConnect":
        return (kind, str(scheme.get("openIdConnectUrl", "")))
    return (kind,)


def diff_documents(old: Document, new: Document, *, memoize: bool = True) -> list[Finding]:
    """Every classified change from ``old`` to ``new``, most severe first. ``memoize=False`` compares every schema
    pair afresh at every place it is used (slow: the reference that reusing results is checked against)."""
    return _Differ(old, new, memoize=memoize).run()
