"""What a check that did not pass means: a failure, or a warning (an assumed constraint, or the HTTP layer).

* **HTTP layer** — a framework or transport status (400, 405, 413, 414, 431) without the service's own error body,
  for a request whose method, path or headers the contract does not declare: the service never saw the request
  (uvicorn's plain-text 400 for a header it cannot parse, FastAPI's ``405 {"detail": ...}`` for an undeclared
  method); and a 404 or 405 for a method the contract does not declare, whatever its body (the server's routing).
  At most a warning.
* **Assumption** — the same request and response are judged again against the *relaxed* contract
  (:func:`apigate.contract.assumptions.relax`: every ``x-apigate-assumed`` constraint removed). When the pinned
  contract rejects them and the relaxed one does not, only assumptions were broken: a warning naming them.
  Anything on an assumed operation is a warning.
* Everything else stays a **failure**.

:class:`Classifier` does this for schemathesis' checks (by the check's name, on the case and response it judged)
and for apigate's explicit probes (by the structured violation their judges raise: :class:`UnexpectedStatus`,
:class:`BodyMismatch`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, parse_qsl, urlsplit

from apigate.contract.assumptions import Mark, operation_pointer
from apigate.contract.documents import Contract, OperationInfo
from apigate.contract.envelopes import check_error_body
from apigate.contract.state import route_missed, stream_check_for
from apigate.contract.streams import ChunkMismatch
from apigate.errors import ContractViolation, DocumentError
from apigate.verdict import Severity

__all__ = ["FAILURE", "FRAMEWORK_STATUSES", "BodyMismatch", "Classification", "Classifier", "UnexpectedStatus",
           "well_formed_headers"]

FRAMEWORK_STATUSES: Final = frozenset({400, 405, 413, 414, 431})
# a server's routing refusing a method the contract does not declare for the path, whatever body it carries
# (Keycloak's JAX-RS routing: {"error": "HTTP 405 Method Not Allowed"} without Allow, and 404 on the discovery path)
_ROUTING_STATUSES: Final = frozenset({404, 405})
# headers a client or the transport sets on any request (the contract need not declare them)
_STANDARD_HEADERS: Final = frozenset({"content-type", "accept", "authorization"})
# headers that frame the message: a generated value would make the request malformed at the HTTP level
_FRAMING_HEADERS: Final = frozenset({"content-length", "transfer-encoding", "host", "connection", "te", "trailer",
                                     "upgrade", "keep-alive", "proxy-connection", "expect"})
_TOKEN_CHARS: Final = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# checks that expect a refusal status of the situation they create: a refusal of the same class is a warning when the
# contract's response for the expected status is assumed
_REFUSAL_CHECKS: Final[dict[str, tuple[int, ...]]] = {"missing_required_header": (401, 400, 422)}
# the checks that judge the response against its documented status / media type / headers / body
_RESPONSE_CHECKS: Final = frozenset({"status_code_conformance", "content_type_conformance",
                                     "response_headers_conformance", "response_schema_conformance"})


@dataclass(frozen=True)
class Classification:
    """What a check that did not pass means: its severity, and why (the assumptions involved, the HTTP layer)."""

    severity: Severity
    note: str = ""


FAILURE: Final = Classification(Severity.FAILURE)
_ONLY_ASSUMED: Final = "only constraints the contract marks as assumed were broken"


class UnexpectedStatus(ContractViolation):
    """A probe got a status other than the ones its expectation names."""

    def __init__(self, message: str, *, expected: Sequence[int], actual: int, body: str = "") -> None:
        super().__init__(message, expected=list(expected), actual=f"{actual} {body}".strip())
        self.statuses = tuple(expected)
        self.status = actual


class BodyMismatch(ContractViolation):
    """A probe's answer does not match the contract's schema at ``place`` (a JSON pointer into the contract)."""

    def __init__(self, message: str, *, place: str, instance: Any, expected: Any = None, actual: Any = None) -> None:
        super().__init__(message, expected=expected, actual=actual)
        self.place = place
        self.instance = instance


def well_formed_headers(headers: Mapping[str, Any], declared: Iterable[str] = ()) -> bool:
    """Whether a request with these (generated) headers is well formed at the HTTP level: token names, values
    without control characters and Latin-1 encodable, and no framing header (Content-Length, Transfer-Encoding,
    Host, ...) unless the contract declares it."""
    allowed = {name.lower() for name in declared}
    for name, value in headers.items():
        if not name or not set(name) <= _TOKEN_CHARS:
            return False
        if name.lower() in _FRAMING_HEADERS and name.lower() not in allowed:
            return False
        text = value if isinstance(value, str) else str(value)
        if any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F for ch in text):
            return False
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            return False
    return True


def _class_of(status: int | str) -> str:
    return f"{str(status)[0]}XX"


def _response_entry(contract: Contract, op: OperationInfo, status: int) -> dict[str, Any] | None:
    responses = {str(k).upper(): v for k, v in (op.definition.get("responses") or {}).items()}
    for key in (str(status), _class_of(status), "DEFAULT"):
        if key in responses:
            entry = contract.resolve(responses[key])
            return entry if isinstance(entry, dict) else None
    return None


def _media_schema(contract: Contract, content: Any, content_type: str | None) -> Any:
    """The schema of ``content`` for ``content_type`` (exact, ``type/*`` or ``*/*``); ``None`` when undocumented."""
    if not isinstance(content, dict):
        return None
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    options = {str(k).lower(): v for k, v in content.items()}
    for key in (kind, kind.split("/", 1)[0] + "/*", "*/*"):
        media = options.get(key)
        if isinstance(media, dict):
            return contract.resolve(media.get("schema") or {})
    return None


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name) if hasattr(headers, "get") else None
    if isinstance(value, list):
        return str(value[0]) if value else None
    return value if isinstance(value, str) else None


def _parse_body(raw: Any, content_type: str | None) -> tuple[bool, Any]:
    """(understood, value) of a request or response body."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not raw:
        return True, None
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return True, json.loads(raw)
        except ValueError:
            return False, None
    if kind == "application/x-www-form-urlencoded":
        return True, dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    return False, None


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _wire_readings(values: list[str]) -> list[Any]:
    """What a server may read from a parameter sent as text: the text, a number, a boolean, JSON, a list."""
    def scalars(text: str) -> list[Any]:
        out: list[Any] = [text]
        for convert in (int, float):
            with contextlib.suppress(ValueError):
                out.append(convert(text))
        if text.lower() in ("true", "false"):
            out.append(text.lower() == "true")
        if text[:1] in "{[":
            with contextlib.suppress(ValueError):
                out.append(json.loads(text))
        return out

    if len(values) == 1:
        return [*scalars(values[0]), [values[0]]]
    return [values, [scalars(v)[-1] for v in values]]


# (where in the request, its jsonschema errors as (root schema, error), the parameter when it is one)
Problem = tuple[str, list[tuple[Any, Any]], dict[str, Any] | None]


class _Judge:
    """Validates one exchange against one contract document (the pinned one, or the relaxed one)."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    def errors(self, schema: Any, instance: Any) -> list[tuple[Any, Any]]:
        """``(schema, error)`` for each jsonschema error of ``instance`` (the schema is the error path's root)."""
        if not isinstance(schema, dict) or not schema:
            return []
        return [(schema, error) for error in self.contract.validator(schema).iter_errors(instance)]

    def least_errors(self, schema: Any, readings: list[Any]) -> list[tuple[Any, Any]]:
        """The errors of the reading the server most likely made: none if any reading is valid, else the fewest,
        and of those the one that got the type right ("0" read as the integer 0, then below a minimum)."""
        def rank(found: list[tuple[Any, Any]]) -> tuple[int, int]:
            return len(found), sum(1 for _, error in found if error.validator == "type")

        best: list[tuple[Any, Any]] | None = None
        for value in readings:
            found = self.errors(schema, value)
            if not found:
                return []
            if best is None or rank(found) < rank(best):
                best = found
        return best or []

    def parameters(self, op: OperationInfo) -> list[dict[str, Any]]:
        item = self.contract.document.get("paths", {}).get(op.path) or {}
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*(item.get("parameters") or []), *(op.definition.get("parameters") or [])]:
            param = self.contract.resolve(raw)
            if isinstance(param, dict) and "name" in param:
                merged[(str(param.get("in")), str(param["name"]))] = param
        return list(merged.values())

    def request_problems(self, op: OperationInfo, request: Any, path_parameters: Mapping[str, Any]) -> \
            list[Problem] | None:
        """``(where, jsonschema errors, the parameter)`` for each invalid part of the request as sent;
        ``None`` when the request cannot be judged (a body that does not parse)."""
        problems: list[Problem] = []
        url = urlsplit(str(request.url))
        query = parse_qs(url.query, keep_blank_values=True)
        headers = {str(k).lower(): str(v) for k, v in (request.headers or {}).items()}
        for param in self.parameters(op):
            name, where = str(param["name"]), str(param.get("in"))
            if where == "path":
                values = [str(path_parameters[name])] if name in path_parameters else None
            elif where == "query":
                values = query.get(name)
            elif where == "header":
                values = [headers[name.lower()]] if name.lower() in headers else None
            else:
                continue
            label = f"{where} parameter {name}"
            if values is None:
                if param.get("required"):
                    problems.append((f"{label} is missing", [], param))
                continue
            schema, readings = self.contract.resolve(param.get("schema") or {}), _wire_readings(values)
            if "content" in param:  # a serialized value, e.g. a JSON text
                schema = _media_schema(self.contract, param["content"], "application/json") or {}
                readings = [_json_or_text(v) for v in values] if len(values) > 1 else [_json_or_text(values[0])]
            found = self.least_errors(schema, readings)
            if found:
                problems.append((label, found, param))
        body = self.contract.resolve(op.definition.get("requestBody") or {})
        if isinstance(body, dict) and body:
            content_type = headers.get("content-type")
            understood, value = _parse_body(request.body, content_type)
            if not request.body:
                if body.get("required"):
                    problems.append(("the request body is missing", [], None))
            elif not understood:
                return None
            else:
                schema = _media_schema(self.contract, body.get("content"), content_type)
                if schema is None:
                    return None
                found = self.errors(schema, value)
                if found:
                    problems.append(("request body", found, None))
        return problems

    def response_errors(self, op: OperationInfo, status: int, content_type: str | None, body: bytes) -> \
            list[tuple[Any, Any]] | None:
        """jsonschema errors of the response body against its documented schema; ``None`` when not judged."""
        entry = _response_entry(self.contract, op, status)
        if entry is None:
            return None
        schema = _media_schema(self.contract, entry.get("content"), content_type)
        if schema is None:
            return None
        understood, value = _parse_body(body, content_type)
        if not understood:
            return None
        return self.errors(schema, value)


def _error_marks(contract: Contract, root: Any, error: Any) -> list[str]:
    """The assumptions a jsonschema error broke: a mark on the schema object holding the failing keyword, or on an
    object whose ``$ref`` led there. ``root`` is the schema the error's path starts from."""
    keyword = str(error.validator)
    out: list[str] = []
    node: Any = root

    def follow(node: Any) -> Any:
        mark = Mark.read(node)
        if mark is not None and mark.covers("$ref"):
            out.append(f"{keyword} (via $ref): {mark.why}")
        return contract.pointer(node["$ref"])

    try:
        for key in list(error.absolute_schema_path)[:-1]:
            while isinstance(node, dict) and key not in node and isinstance(node.get("$ref"), str):
                node = follow(node)
            node = node[key]
        while isinstance(node, dict) and keyword not in node and isinstance(node.get("$ref"), str):
            node = follow(node)
    except (KeyError, IndexError, TypeError, DocumentError):
        return out
    mark = Mark.read(node)
    if mark is not None and mark.covers(keyword):
        out.append(f"{keyword}: {mark.why}")
    for inner in getattr(error, "context", None) or ():  # an anyOf / oneOf: what its alternatives broke
        out += [text for text in _error_marks(contract, root, inner) if text not in out]
    return out


def _describe(problems: Sequence[Problem], contract: Contract) -> str:
    notes: list[str] = []
    for where, errors, param in problems:
        mark = Mark.read(param, "parameter") if param is not None else None
        if mark is not None:
            notes.append(f"{where}: {mark.why}")
        for root, error in errors:
            notes += [f"{where} {text}" for text in _error_marks(contract, root, error)]
    return "; ".join(dict.fromkeys(notes))


class Classifier:
    """Classifies the checks of one API that did not pass (see the module's docstring)."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.assumptions = contract.assumptions
        self.relaxed = self.assumptions.relaxed
        self.strict_judge = _Judge(contract)
        self.relaxed_judge = _Judge(self.relaxed)
        self._declared: dict[str, set[str]] = {}

    # -- shared -------------------------------------------------------------------------------------------------
    def _operation_mark(self, op: OperationInfo | None) -> Classification | None:
        mark = self.assumptions.operation(op) if op is not None else None
        if mark is None:
            return None
        return Classification(Severity.ASSUMPTION, f"the operation {op.label if op else ''} is assumed: {mark.why}")

    def _status_assumed(self, op: OperationInfo, expected: Iterable[int | str], actual: int) -> Classification | None:
        """``actual`` is in the class of an expected status whose response the contract marks as assumed."""
        for status in expected:
            mark = self.assumptions.response(op, status)
            if mark is not None and _class_of(status) == _class_of(actual):
                return Classification(Severity.ASSUMPTION,
                                      f"the documented {status} is assumed ({mark.why}); {actual} is of the same class")
        return None

    def _body_assumed(self, place: str, instance: Any) -> Classification | None:
        try:
            strict_schema = self.contract.resolve(self.contract.pointer(place))
            relaxed_schema = self.relaxed.resolve(self.relaxed.pointer(place))
        except DocumentError:  # a place the probe named wrongly is no assumption
            return None
        strict = self.strict_judge.errors(strict_schema, instance)
        if not strict or self.relaxed_judge.errors(relaxed_schema, instance):
            return None
        return self._schema_assumed(strict)

    def _schema_assumed(self, strict: list[tuple[Any, Any]]) -> Classification:
        """A warning naming the assumptions that the jsonschema errors ``strict`` (gone when relaxed) broke."""
        notes = [text for root, error in strict for text in _error_marks(self.contract, root, error)]
        return Classification(Severity.ASSUMPTION, "; ".join(dict.fromkeys(notes)) or _ONLY_ASSUMED)

    # -- probes -------------------------------------------------------------------------------------------------
    def parameter_place(self, operation: str, name: str) -> str | None:
        """The JSON pointer of the schema of ``operation``'s (``METHOD /path``) own parameter ``name``, for a probe
        to cite; ``None`` when the contract has no such parameter."""
        op = self.contract.find_operation(*operation.split(" ", 1)) if " " in operation else None
        if op is None:
            return None
        for i, raw in enumerate(op.definition.get("parameters") or []):
            param = self.contract.resolve(raw)
            if isinstance(param, dict) and param.get("name") == name:
                return f"{operation_pointer(op)}/parameters/{i}/schema"
        return None

    def probe(self, operation: str, error: BaseException, cites: Sequence[str] = (),
              answer: tuple[int, str | None, bytes] | None = None) -> Classification:
        """A probe's failed expectation on ``operation`` (``METHOD /path``), citing the contract places
        ``cites`` (JSON pointers) it rests on; ``answer`` (status, Content-Type, body) is what came back, judged
        against the operation's documented response when the violation names no place of its own."""
        op = self.contract.find_operation(*operation.split(" ", 1)) if " " in operation else None
        found = self._operation_mark(op)
        if found is not None:
            return found
        for place in cites:
            mark = self.assumptions.at(place)
            if mark is not None:
                return Classification(Severity.ASSUMPTION, f"the expectation rests on an assumption: {mark.why}")
        if isinstance(error, UnexpectedStatus) and op is not None:
            return self._status_assumed(op, error.statuses, error.status) or FAILURE
        if isinstance(error, BodyMismatch):
            return self._body_assumed(error.place, error.instance) or FAILURE
        if isinstance(error, ChunkMismatch) and op is not None:
            return self._chunk_assumed(op, error.chunk) or FAILURE
        if answer is not None and op is not None:
            return self._answer_assumed(op, *answer) or FAILURE
        return FAILURE

    def _chunk_assumed(self, op: OperationInfo, chunk: dict[str, Any]) -> Classification | None:
        """A streamed chunk the operation's documented chunk schema rejects and the relaxed one accepts."""
        relaxed_op = self.relaxed.find_operation(op.method, op.path)
        strict = self.contract.stream_media_types(op)
        relaxed = self.relaxed.stream_media_types(relaxed_op) if relaxed_op is not None else {}
        for kind, schema in strict.items():
            errors = self.strict_judge.errors(schema, chunk)
            if errors and kind in relaxed and not self.relaxed_judge.errors(relaxed[kind], chunk):
                return self._schema_assumed(errors)
        return None

    def _answer_assumed(self, op: OperationInfo, status: int, content_type: str | None,
                        body: bytes) -> Classification | None:
        """The answer breaks only assumed constraints of the operation's documented response for its status."""
        strict = self.strict_judge.response_errors(op, status, content_type, body)
        relaxed_op = self.relaxed.find_operation(op.method, op.path)
        if not strict or relaxed_op is None or self.relaxed_judge.response_errors(relaxed_op, status, content_type,
                                                                                   body) != []:
            return None
        return self._schema_assumed(strict)

    # -- schemathesis -------------------------------------------------------------------------------------------
    def http_layer(self, api: str, case: Any, response: Any) -> Classification | None:
        """An answer from below the service to something the contract does not declare (see the module)."""
        status = int(response.status_code)
        method = str(response.request.method).upper()
        path = str(case.operation.path)
        method_undeclared = self.contract.find_operation(method, path) is None
        if method_undeclared and status in _ROUTING_STATUSES:
            return Classification(Severity.HTTP_LAYER, f"{status} for method {method}, which the contract does not "
                                                       f"declare here: the routing layer's answer, not the service's")
        if status not in FRAMEWORK_STATUSES:
            return None
        try:
            check_error_body(api, status, _header(response.headers, "content-type"), response.content or b"")
            return None  # the service's own error body: the service answered
        except ContractViolation:
            pass
        undeclared = [f"method {method}"] if method_undeclared else []
        if route_missed(case.path_parameters):
            undeclared.append("a path no route matches")
        op = self.contract.find_operation(str(case.operation.method), path)
        declared = self.declared_headers(op) if op is not None else set()
        extra = sorted(str(name) for name in (case.headers or {}) if str(name).lower() not in declared)
        if extra:
            undeclared.append(f"header(s) {', '.join(extra)}")
        if not undeclared:
            return None
        return Classification(Severity.HTTP_LAYER, f"{status} without the service's error body, for "
                                                   f"{' and '.join(undeclared)} the contract does not declare")

    def declared_headers(self, op: OperationInfo) -> set[str]:
        """Header names a request to ``op`` may carry: its header parameters, API-key headers, standard ones."""
        known = self._declared.get(op.label)
        if known is not None:
            return known
        names = {str(p["name"]).lower() for p in self.strict_judge.parameters(op) if p.get("in") == "header"}
        schemes = (self.contract.document.get("components") or {}).get("securitySchemes") or {}
        for scheme in schemes.values():
            if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                names.add(str(scheme.get("name", "")).lower())
        self._declared[op.label] = names | _STANDARD_HEADERS
        return self._declared[op.label]

    def schemathesis(self, api: str, check: str, case: Any, response: Any) -> Classification:
        """What schemathesis' (or apigate's) check ``check`` failing on ``case`` / ``response`` means."""
        found = self.http_layer(api, case, response)
        if found is not None:
            return found
        op = self.contract.find_operation(str(case.operation.method), str(case.operation.path))
        if op is None:
            return FAILURE
        found = self._operation_mark(op)
        if found is not None:
            return found
        status = int(response.status_code)
        if check in _RESPONSE_CHECKS or check == "apigate_error_envelope":
            relaxed_op = self.relaxed.find_operation(op.method, op.path)
            if relaxed_op is not None and not op.documents_status(status) and relaxed_op.documents_status(status):
                documented = [s for s in (op.definition.get("responses") or {}) if str(s)[:1] == str(status)[0]]
                return self._status_assumed(op, documented, status) or FAILURE
        if check in ("response_schema_conformance", "apigate_error_envelope"):
            found = self._answer_assumed(op, status, _header(response.headers, "content-type"), response.content or b"")
            if found is not None:
                return found
        if check in _REFUSAL_CHECKS:
            return self._status_assumed(op, _REFUSAL_CHECKS[check], status) or FAILURE
        if check == "negative_data_rejection":
            return self._negative(op, case, response) or FAILURE
        if check == "apigate_stream":
            return self._stream(op, case, response) or FAILURE
        return FAILURE

    def _negative(self, op: OperationInfo, case: Any, response: Any) -> Classification | None:
        """A request the pinned contract calls invalid, valid once the assumptions are relaxed."""
        params = dict(case.path_parameters or {})
        strict = self.strict_judge.request_problems(op, response.request, params)
        relaxed_op = self.relaxed.find_operation(op.method, op.path)
        if not strict or relaxed_op is None:
            return None
        if self.relaxed_judge.request_problems(relaxed_op, response.request, params) != []:
            return None
        return Classification(Severity.ASSUMPTION, _describe(strict, self.contract) or _ONLY_ASSUMED)

    def _stream(self, op: OperationInfo, case: Any, response: Any) -> Classification | None:
        rules = stream_check_for(self.relaxed).get(op.label)
        if rules is None:
            return None
        query = case.query or {}
        flag = query.get("include_tool_errors")
        try:
            rules.check_body(_header(response.headers, "content-type"), response.content or b"",
                             include_tool_errors=flag is True or str(flag).lower() == "true")
        except AssertionError:
            return None
        return Classification(Severity.ASSUMPTION, "the stream breaks only assumed constraints of its chunk schema")
