"""What a check that did not pass means (failure, or a warning from an assumption or the HTTP layer), decided on
recorded exchanges without a server: the same objects schemathesis hands to a check, and the probes' violations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from apigate.contract.checks import apigate_error_envelope
from apigate.contract.classify import BodyMismatch, Classifier, UnexpectedStatus, well_formed_headers
from apigate.contract.documents import load_contract
from apigate.contract.state import RunState, activate, stream_check_for
from apigate.errors import ContractViolation
from apigate.verdict import Severity

BASE = "http://127.0.0.1:9/api/v1"
UUID = "9b2f1f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass
class Response:
    status_code: int
    content: bytes
    request: Request
    headers: dict[str, list[str]] = field(default_factory=lambda: {"content-type": ["application/json"]})


@dataclass
class Operation:
    method: str
    path: str
    schema: Any = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Case:
    operation: Operation
    method: str = ""
    path_parameters: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)


def exchange(method: str, path: str, status: int, answer: Any = None, *, query: dict[str, str] | None = None,
             body: Any = None, params: dict[str, str] | None = None, sent_method: str | None = None,
             headers: dict[str, str] | None = None, raw: bytes | None = None,
             content_type: str = "application/json") -> tuple[Case, Response]:
    url_path = path
    for name, value in (params or {}).items():
        url_path = url_path.replace(f"{{{name}}}", value)
    url = BASE + url_path + (f"?{urlencode(query)}" if query else "")
    sent = {"content-type": "application/json"} if body is not None else {}
    request = Request(sent_method or method, url, {**sent, **(headers or {})},
                      json.dumps(body).encode() if body is not None else None)
    content = raw if raw is not None else json.dumps(answer).encode()
    case = Case(Operation(method, path), method=sent_method or method, path_parameters=dict(params or {}),
                headers=dict(headers or {}))
    return case, Response(status, content, request, {"content-type": [content_type]})


@pytest.fixture(scope="module")
def basejump() -> Classifier:
    return Classifier(load_contract("basejump"))


def test_accepting_an_empty_team_name_breaks_only_an_assumption(basejump: Classifier) -> None:
    case, response = exchange("POST", "/account/team/", 200, {"team_uuid": UUID}, query={"team_name": ""})
    verdict = basejump.schemathesis("basejump", "negative_data_rejection", case, response)
    assert verdict.severity is Severity.ASSUMPTION
    assert "minLength" in verdict.note and "empty team name" in verdict.note


def test_accepting_an_unknown_role_is_a_failure(basejump: Classifier) -> None:
    case, response = exchange("POST", "/account/user/", 200, {"user_uuid": UUID},
                              query={"username": "u", "role": "SUPERUSER"})
    assert basejump.schemathesis("basejump", "negative_data_rejection", case, response).severity is Severity.FAILURE


@pytest.mark.parametrize(("body", "severity"), [
    ({"prompt": "hi", "timestamp": ""}, Severity.ASSUMPTION),  # format: date-time is assumed
    ({"prompt": 3}, Severity.FAILURE),  # prompt must be a string: documented
    ({}, Severity.FAILURE),  # prompt is required: documented
])
def test_chat_prompt_bodies(basejump: Classifier, body: Any, severity: Severity) -> None:
    case, response = exchange("POST", "/chat/{chat_uuid}/message/", 200, {}, body=body, params={"chat_uuid": UUID})
    assert basejump.schemathesis("basejump", "negative_data_rejection", case, response).severity is severity


def test_history_item_content_object_is_an_assumption(basejump: Classifier) -> None:
    case, response = exchange("POST", "/chat/team/{team_uuid}/", 200, {"chat_uuid": UUID},
                              body={"messages": [{"role": "user", "content": {}}]}, params={"team_uuid": UUID})
    verdict = basejump.schemathesis("basejump", "negative_data_rejection", case, response)
    assert verdict.severity is Severity.ASSUMPTION and "history item" in verdict.note


def test_lax_port_is_an_assumption_but_a_word_is_not(basejump: Classifier) -> None:
    spec = {"database_type": "postgres", "host": "h", "database_name": "d", "username": "u", "password": "p",
            "data_source_desc": "s", "database_desc": "d"}
    for port, severity in (("5432", Severity.ASSUMPTION), ("five", Severity.FAILURE)):
        case, response = exchange("POST", "/connection/database/", 200, {}, body={**spec, "port": port})
        assert basejump.schemathesis("basejump", "negative_data_rejection", case, response).severity is severity


def test_answer_bodies_against_assumed_and_documented_schemas(basejump: Classifier) -> None:
    case, response = exchange("POST", "/connection/{conn_uuid}/team/", 200, None, body={"team_uuids": []},
                              params={"conn_uuid": UUID})
    verdict = basejump.schemathesis("basejump", "response_schema_conformance", case, response)
    assert verdict.severity is Severity.ASSUMPTION and "only status 200" in verdict.note
    case, response = exchange("POST", "/account/team/", 200, {"team_uuid": UUID, "team_name": 7},
                              query={"team_name": "t"})
    assert basejump.schemathesis("basejump", "response_schema_conformance", case, response).severity \
        is Severity.ASSUMPTION
    case, response = exchange("POST", "/account/team/", 200, {"team_uuid": UUID.upper()}, query={"team_name": "t"})
    assert basejump.schemathesis("basejump", "response_schema_conformance", case, response).severity \
        is Severity.FAILURE  # lower-case uuids are documented


@pytest.mark.parametrize(("status", "severity"), [(409, Severity.ASSUMPTION), (500, Severity.FAILURE)])
def test_undocumented_status_of_an_assumed_class(basejump: Classifier, status: int, severity: Severity) -> None:
    case, response = exchange("POST", "/account/team/", status, {"detail": "x"}, query={"team_name": "t"})
    assert basejump.schemathesis("basejump", "status_code_conformance", case, response).severity is severity


@pytest.mark.parametrize(("status", "severity"), [(403, Severity.ASSUMPTION), (200, Severity.FAILURE)])
def test_missing_credentials_refused_with_another_status(basejump: Classifier, status: int,
                                                         severity: Severity) -> None:
    case, response = exchange("POST", "/account/team/", status, {"detail": "Not authenticated"},
                              query={"team_name": "t"})
    assert basejump.schemathesis("basejump", "missing_required_header", case, response).severity is severity


def test_anything_on_an_assumed_operation_is_a_warning(basejump: Classifier) -> None:
    case, response = exchange("POST", "/auth/access-token/", 404, {"detail": "Not Found"}, query={"user_uuid": UUID})
    verdict = basejump.schemathesis("basejump", "positive_data_acceptance", case, response)
    assert verdict.severity is Severity.ASSUMPTION and "dashes" in verdict.note


# --- the HTTP layer ---------------------------------------------------------------------------------------------

def test_a_plain_400_for_an_undeclared_header_is_the_http_layer() -> None:
    codemie = Classifier(load_contract("codemie"))
    case, response = exchange("GET", "/v1/llm_models", 400, raw=b"Invalid HTTP request received.",
                              content_type="text/plain", headers={"|;": "x", "content-length": "HWj6JXwK"})
    for check in ("status_code_conformance", "apigate_error_envelope", "content_type_conformance"):
        verdict = codemie.schemathesis("codemie", check, case, response)
        assert verdict.severity is Severity.HTTP_LAYER and "|;" in verdict.note, check


def test_fastapi_405_for_an_undeclared_method_is_the_http_layer() -> None:
    keycloak = Classifier(load_contract("keycloak"))
    path = "/realms/{realm}/protocol/openid-connect/token"
    case, response = exchange("POST", path, 405, {"detail": "Method Not Allowed"}, sent_method="TRACE",
                              params={"realm": "codemie-prod"})
    verdict = keycloak.http_layer("keycloak", case, response)
    assert verdict is not None and verdict.severity is Severity.HTTP_LAYER and "method TRACE" in verdict.note


@pytest.mark.parametrize(("path", "status", "answer", "severity"), [
    # Keycloak 26's JAX-RS routing: its own body, no Allow header; the discovery path answers 404
    ("/realms/{realm}/protocol/openid-connect/token", 405, {"error": "HTTP 405 Method Not Allowed"},
     Severity.HTTP_LAYER),
    ("/realms/{realm}/.well-known/openid-configuration", 404, {"error": "Unable to find matching target resource"},
     Severity.HTTP_LAYER),
    # anything but a refusal of the method is the service's doing
    ("/realms/{realm}/protocol/openid-connect/token", 200, {"access_token": "x"}, Severity.FAILURE),
    ("/realms/{realm}/protocol/openid-connect/token", 500, {"error": "unknown_error"}, Severity.FAILURE),
])
def test_a_routing_refusal_of_an_undeclared_method_is_the_http_layer(path: str, status: int, answer: Any,
                                                                      severity: Severity) -> None:
    keycloak = Classifier(load_contract("keycloak"))
    declared = "POST" if "token" in path else "GET"
    case, response = exchange(declared, path, status, answer, sent_method="TRACE", params={"realm": "codemie-prod"})
    verdict = keycloak.schemathesis("keycloak", "unsupported_method", case, response)
    assert verdict.severity is severity, verdict
    # a declared method refused the same way is the service's answer
    case, response = exchange(declared, path, status, answer, params={"realm": "codemie-prod"})
    assert keycloak.http_layer("keycloak", case, response) is None


def test_the_services_own_error_body_is_not_the_http_layer() -> None:
    keycloak = Classifier(load_contract("keycloak"))
    case, response = exchange("POST", "/realms/{realm}/protocol/openid-connect/token", 400,
                              {"error": "invalid_request", "error_description": "Missing form parameter"},
                              sent_method="TRACE", params={"realm": "codemie-prod"})
    assert keycloak.http_layer("keycloak", case, response) is None
    # a declared method and path, no extra header: a framework status is the service's answer, judged as such
    case, response = exchange("GET", "/realms/{realm}/protocol/openid-connect/certs", 413, raw=b"too large",
                              content_type="text/plain", params={"realm": "codemie-prod"})
    assert keycloak.schemathesis("keycloak", "status_code_conformance", case, response).severity is Severity.FAILURE


def test_error_envelope_is_demanded_only_where_the_contract_documents_the_status() -> None:
    contract = load_contract("keycloak")
    path = "/realms/{realm}/protocol/openid-connect/token"
    with activate("keycloak", RunState(contract, stream_check_for(contract))):
        schema = type("Schema", (), {"raw_schema": contract.raw()})()
        case, response = exchange("POST", path, 405, {"detail": "Method Not Allowed"}, sent_method="TRACE",
                                  params={"realm": "codemie-prod"})
        case.operation.schema = schema
        assert apigate_error_envelope(None, response, case) is None  # TRACE is not declared
        case, response = exchange("POST", path, 400, {"detail": "Bad"}, params={"realm": "codemie-prod"})
        case.operation.schema = schema
        with pytest.raises(ContractViolation, match="Keycloak"):
            apigate_error_envelope(None, response, case)  # 400 is documented for the token endpoint


@pytest.mark.parametrize(("headers", "ok"), [
    ({"Authorization": "Bearer x", "X-Trace": "a\tb"}, True),
    ({"|;": "x"}, False),
    ({"content-length": "HWj6JXwK"}, False),
    ({"Transfer-Encoding": "chunked"}, False),
    ({"Host": "evil"}, False),
    ({"X-Bad": "a\r\nInjected: 1"}, False),
    ({"X-Bad": "\x7f"}, False),
    ({"X-Bad": "snow ☃"}, False),
    ({"": "empty name"}, False),
])
def test_well_formed_headers(headers: dict[str, str], ok: bool) -> None:
    assert well_formed_headers(headers) is ok


def test_a_declared_framing_header_may_be_generated() -> None:
    assert well_formed_headers({"Expect": "100-continue"}, {"expect"})


# --- probes -----------------------------------------------------------------------------------------------------

def test_probe_refused_with_another_status_of_an_assumed_class(basejump: Classifier) -> None:
    op = "POST /account/team/"
    assert basejump.probe(op, UnexpectedStatus("answered 403", expected=[401], actual=403)).severity \
        is Severity.ASSUMPTION
    assert basejump.probe(op, UnexpectedStatus("answered 200", expected=[401], actual=200)).severity \
        is Severity.FAILURE  # must be rejected: documented
    assert basejump.probe(op, ContractViolation("not Basejump's error body")).severity is Severity.FAILURE


def test_probe_body_mismatch_on_an_assumed_schema(basejump: Classifier) -> None:
    place = "#/components/schemas/TeamMembership"
    assert basejump.probe("POST /account/user/{user_uuid}/team/{team_uuid}/",
                          BodyMismatch("null", place=place, instance=None)).severity is Severity.ASSUMPTION
    message = "#/components/schemas/Message"
    assert basejump.probe("POST /chat/{chat_uuid}/message/", BodyMismatch("bad", place=message, instance={
        "msg_type": "answer"})).severity is Severity.FAILURE


def test_probe_citing_an_assumed_place(basejump: Classifier) -> None:
    verdict = basejump.probe("POST /account/team/", ContractViolation("x"), ["#/components/responses/Forbidden"])
    assert verdict.severity is Severity.ASSUMPTION and "non-member" in verdict.note


def test_an_unexpected_status_where_the_contract_is_not_assumed_stays_a_failure() -> None:
    keycloak = Classifier(load_contract("keycloak"))
    operation = "POST /realms/{realm}/protocol/openid-connect/token"
    assert keycloak.assumptions.response(keycloak.contract.operation(*operation.split(" ")), 401) is None
    classification = keycloak.probe(operation, UnexpectedStatus("answered 403", expected=[401], actual=403))
    assert classification.severity is Severity.FAILURE


def test_cases_malformed_at_the_http_level_are_not_sent() -> None:
    from apigate.contract.engine import _sendable

    fine = Case(Operation("GET", "/v1/llm_models"), headers={"X-Trace": "1"})
    broken = Case(Operation("GET", "/v1/llm_models"), headers={"|;": "x", "content-length": "HWj6JXwK"})
    assert _sendable(None, fine) and not _sendable(None, broken)


def test_a_json_query_parameter_is_judged_by_its_content_schema() -> None:
    codemie = Classifier(load_contract("codemie"))
    if not codemie.assumptions.marks:
        pytest.skip("the CodeMie contract marks no assumptions")
    for filters, severity in (({"search": 5}, Severity.ASSUMPTION), ({"categories": 5}, Severity.ASSUMPTION),
                              ([1], Severity.FAILURE)):  # the value types are assumed; "an object" is documented
        case, response = exchange("GET", "/v1/assistants", 200, {"data": []}, query={"filters": json.dumps(filters)})
        assert codemie.schemathesis("codemie", "negative_data_rejection", case, response).severity is severity


def test_a_number_below_an_assumed_minimum_names_the_assumption() -> None:
    codemie = Classifier(load_contract("codemie"))
    if not codemie.assumptions.marks:
        pytest.skip("the CodeMie contract marks no assumptions")
    case, response = exchange("GET", "/v1/assistants", 200, {"data": []}, query={"per_page": "0"})
    classification = codemie.schemathesis("codemie", "negative_data_rejection", case, response)
    assert classification.severity is Severity.ASSUMPTION and "minimum: the server declares no bound" in \
        classification.note


def test_a_streamed_chunk_against_assumed_and_documented_parts_of_the_chunk_schema() -> None:
    from apigate.contract.streams import ChunkMismatch

    codemie = Classifier(load_contract("codemie"))
    chat = "POST /v1/assistants/{assistant_id}/model"
    thought = {"id": "t", "message": "Hello", "author_type": "Assistant", "output_format": "html"}
    chunk = {"generated_chunk": None, "generated": None, "thought": thought, "last": False, "time_elapsed": None}
    if not any(m.pointer.endswith("/Thought/properties/author_type") for m in codemie.assumptions.marks):
        pytest.skip("the CodeMie contract does not mark the thought's author_type enum")
    assumed = codemie.probe(chat, ChunkMismatch("chunk #0 does not match", offset=0, chunk=chunk))
    assert assumed.severity is Severity.ASSUMPTION and "enum" in assumed.note
    broken = {k: v for k, v in chunk.items() if k != "last"}  # a required key of every chunk: documented
    assert codemie.probe(chat, ChunkMismatch("chunk #0", offset=0, chunk=broken)).severity is Severity.FAILURE
