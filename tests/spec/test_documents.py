"""The pinned contracts are valid OpenAPI 3.1, pass apigate's lint rules, load in schemathesis, and state the facts.

The lint rules are plain functions returning a list of problems, so each one is also tested against a broken copy
of a document: a rule that cannot fail would prove nothing.
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import schemathesis
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from apigate.resources import contract_path

APIS = ("codemie", "keycloak", "basejump")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BODILESS_STATUSES = {"204", "304"}
COMPONENT_KINDS = ("schemas", "responses", "parameters", "requestBodies", "headers", "examples", "links")
# Each service's error bodies: every 4xx/5xx response must use one of these components.
ERROR_ENVELOPES = {
    "codemie": {"ErrorEnvelope", "UnprocessableEnvelope", "BadRequestEnvelope", "SlugNotFoundEnvelope"},
    "keycloak": {"OAuthError", "RealmNotFoundError", "EmptyBody", "BearerErrorBody"},
    "basejump": {"HTTPError", "UnprocessableError"},
}
PATH_PREFIXES = {
    "codemie": re.compile(r"^/v1/"),
    "keycloak": re.compile(r"^/realms/\{realm\}/"),
    "basejump": re.compile(r"^/(account|auth|connection|chat)/.*/$|^/(account|auth|connection|chat)/$"),
}

Document = dict[str, Any]
Rule = Callable[[Document, str], list[str]]


@functools.cache
def _parsed(api: str) -> Document:
    with contract_path(api).open(encoding="utf-8") as handle:
        document: Document = yaml.safe_load(handle)
    return document


def load(api: str) -> Document:
    """A fresh copy of the parsed document (tests may mutate it)."""
    return copy.deepcopy(_parsed(api))


@pytest.fixture(scope="module", params=APIS)
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def document(api: str) -> Document:
    return load(api)


# --- walking a document -----------------------------------------------------------------------------------------


def operations(document: Document) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    """Every (JSON pointer, value) of the document, depth first."""
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}/{index}")


def resolve(document: Document, ref: str) -> Any:
    if not ref.startswith("#/"):
        raise KeyError(f"external reference {ref!r}")
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def deref(document: Document, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(document, node["$ref"])
    return node


def refs(document: Document) -> Iterator[tuple[str, str]]:
    for where, node in walk(document):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            yield where, node["$ref"]


def responses(document: Document) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for path, method, operation in operations(document):
        for status, response in operation.get("responses", {}).items():
            yield path, method, str(status), deref(document, response)


def schema_validator(document: Document, schema: Any) -> jsonschema.protocols.Validator:
    """A JSON Schema 2020-12 validator for ``schema`` whose local ``#/components/...`` refs resolve in ``document``."""
    root = {"$id": "urn:apigate:contract", "allOf": [schema], "components": document.get("components", {})}
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


# --- lint rules ---------------------------------------------------------------------------------------------------


def rule_operation_ids_and_summaries(document: Document, api: str) -> list[str]:
    problems, seen = [], set()
    for path, method, operation in operations(document):
        label = f"{method.upper()} {path}"
        op_id = operation.get("operationId")
        if not op_id:
            problems.append(f"{label}: no operationId")
        elif op_id in seen:
            problems.append(f"{label}: duplicate operationId {op_id}")
        seen.add(op_id)
        if not operation.get("summary"):
            problems.append(f"{label}: no summary")
    return problems


def rule_security(document: Document, api: str) -> list[str]:
    problems = []
    schemes = document.get("components", {}).get("securitySchemes", {})
    top = document.get("security")
    requirements = [("document", top)] if top is not None else []
    for path, method, operation in operations(document):
        if "security" not in operation and top is None:
            problems.append(f"{method.upper()} {path}: neither declares nor inherits security")
        if "security" in operation:
            requirements.append((f"{method.upper()} {path}", operation["security"]))
    for where, requirement_list in requirements:
        for requirement in requirement_list:
            problems += [f"{where}: unknown security scheme {name}" for name in requirement if name not in schemes]
    return problems


def rule_refs_resolve(document: Document, api: str) -> list[str]:
    problems = []
    for where, ref in refs(document):
        try:
            resolve(document, ref)
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"{where}: $ref {ref} does not resolve ({exc})")
    return problems


def rule_responses_have_schemas(document: Document, api: str) -> list[str]:
    problems = []
    for path, method, status, response in responses(document):
        if status in BODILESS_STATUSES:
            continue
        content = response.get("content") or {}
        if not content:
            problems.append(f"{method.upper()} {path} {status}: no content")
        problems += [
            f"{method.upper()} {path} {status} {media_type}: no schema"
            for media_type, media in content.items()
            if "schema" not in media
        ]
    return problems


def rule_error_envelopes(document: Document, api: str) -> list[str]:
    problems = []
    allowed = {f"#/components/schemas/{name}" for name in ERROR_ENVELOPES[api]}
    for path, method, status, response in responses(document):
        if not (status.startswith(("4", "5")) or status in {"4XX", "5XX", "default"}):
            continue
        for media_type, media in (response.get("content") or {}).items():
            ref = media.get("schema", {}).get("$ref")
            if ref not in allowed:
                problems.append(f"{method.upper()} {path} {status} {media_type}: {ref or 'inline schema'} is not an envelope")
    return problems


def _examples(document: Document) -> Iterator[tuple[str, Any, Any]]:
    """(where, schema, example value) for every example of a media type or a parameter."""
    for where, node in walk(document):
        if not isinstance(node, dict) or "schema" not in node or ("example" not in node and "examples" not in node):
            continue
        if "example" in node:
            yield f"{where}/example", node["schema"], node["example"]
        examples = node.get("examples", {})
        if isinstance(examples, dict):
            for name, example in examples.items():
                example = deref(document, example)
                if "value" in example:
                    yield f"{where}/examples/{name}", node["schema"], example["value"]


def rule_examples_validate(document: Document, api: str) -> list[str]:
    problems = []
    for where, schema, value in _examples(document):
        errors = sorted(schema_validator(document, schema).iter_errors(value), key=lambda error: error.path)
        problems += [f"{where}: {error.message}" for error in errors[:3]]
    return problems


def rule_no_unused_components(document: Document, api: str) -> list[str]:
    used = {ref for _, ref in refs(document)}
    problems = []
    components = document.get("components", {})
    for kind in COMPONENT_KINDS:
        for name in components.get(kind, {}):
            if f"#/components/{kind}/{name}" not in used:
                problems.append(f"components/{kind}/{name} is never referenced")
    requirement_lists = [document.get("security", [])] + [op.get("security", []) for _, _, op in operations(document)]
    used_schemes = {name for requirement_list in requirement_lists for requirement in requirement_list for name in requirement}
    problems += [
        f"components/securitySchemes/{name} is never used"
        for name in components.get("securitySchemes", {})
        if name not in used_schemes
    ]
    return problems


def rule_links_target_operations(document: Document, api: str) -> list[str]:
    problems = []
    by_id = {operation.get("operationId"): (path, document["paths"][path], operation)
             for path, _, operation in operations(document)}
    for where, node in walk(document):
        if not where.endswith("/links") or not isinstance(node, dict):
            continue
        for name, link in node.items():
            link = deref(document, link)
            target = by_id.get(link.get("operationId"))
            if target is None:
                problems.append(f"{where}/{name}: operationId {link.get('operationId')!r} does not exist")
                continue
            path, item, operation = target
            declared = {deref(document, p)["name"] for p in [*item.get("parameters", []), *operation.get("parameters", [])]}
            problems += [
                f"{where}/{name}: {path} has no parameter {parameter}"
                for parameter in link.get("parameters", {})
                if parameter.split(".")[-1] not in declared
            ]
    return problems


def rule_path_conventions(document: Document, api: str) -> list[str]:
    return [f"{path}: does not follow the {api} path convention"
            for path in document.get("paths", {}) if not PATH_PREFIXES[api].match(path)]


RULES: dict[str, Rule] = {
    "operation ids and summaries": rule_operation_ids_and_summaries,
    "security": rule_security,
    "refs resolve": rule_refs_resolve,
    "responses have schemas": rule_responses_have_schemas,
    "error envelopes": rule_error_envelopes,
    "examples validate": rule_examples_validate,
    "no unused components": rule_no_unused_components,
    "links target operations": rule_links_target_operations,
    "path conventions": rule_path_conventions,
}


# --- the documents ------------------------------------------------------------------------------------------------


def test_document_is_valid_openapi_3_1(document: Document) -> None:
    assert document["openapi"].startswith("3.1.")
    validate(document)


@pytest.mark.parametrize("rule", RULES.values(), ids=list(RULES))
def test_document_passes_lint_rule(document: Document, api: str, rule: Rule) -> None:
    assert rule(document, api) == []


def test_document_loads_in_schemathesis(api: str) -> None:
    schema = schemathesis.openapi.from_path(str(contract_path(api)))
    labels = [result.ok().label for result in schema.get_all_operations()]
    assert len(labels) == sum(1 for _ in operations(load(api)))


def test_basejump_links_build_a_state_machine() -> None:
    schema = schemathesis.openapi.from_path(str(contract_path("basejump")))
    transitions = schema.as_state_machine()._transitions.operations
    outgoing = {label: {link.target.label for link in item.outgoing} for label, item in transitions.items()}
    chain = ["POST /account/user/", "POST /auth/token/", "POST /auth/access_token/", "POST /account/team/",
             "POST /connection/database/", "POST /connection/{conn_uuid}/team/", "POST /chat/team/{team_uuid}/",
             "POST /chat/{chat_uuid}/message/"]
    for source, target in itertools.pairwise(chain):
        assert target in outgoing[source], f"no link {source} -> {target}"


# --- every rule catches what it is for ----------------------------------------------------------------------------


def _break(api: str, mutate: Callable[[Document], None]) -> Document:
    document = load(api)
    mutate(document)
    return document


BREAKS: dict[str, tuple[str, Callable[[Document], None]]] = {
    "operation ids and summaries": ("codemie", lambda d: d["paths"]["/v1/user"]["get"].pop("operationId")),
    "security": ("keycloak", lambda d: (d.pop("security"), d["paths"]["/realms/{realm}/protocol/openid-connect/certs"]["get"].pop("security"))),
    "refs resolve": ("basejump", lambda d: d["components"]["schemas"].pop("CreatedChat")),
    "responses have schemas": ("codemie", lambda d: d["paths"]["/v1/info"]["get"]["responses"]["200"].pop("content")),
    "error envelopes": ("basejump", lambda d: d["components"]["responses"]["NotFound"]["content"]["application/json"].update(schema={"type": "object"})),
    "examples validate": ("keycloak", lambda d: d["components"]["responses"]["RealmNotFound"]["content"]["application/json"]["examples"]["unknownRealm"].update(value={"error": "nope"})),
    "no unused components": ("codemie", lambda d: d["components"]["schemas"].update(Orphan={"type": "string"})),
    "links target operations": ("basejump", lambda d: d["paths"]["/chat/team/{team_uuid}/"]["post"]["responses"]["200"]["links"]["SendMessage"].update(operationId="send_message")),
    "path conventions": ("basejump", lambda d: d["paths"].update({"/chat/history": d["paths"].pop("/chat/{chat_uuid}/message/")})),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_lint_rule_reports_a_broken_document(name: str) -> None:
    api, mutate = BREAKS[name]
    assert RULES[name](_break(api, mutate), api) != []


def test_validator_rejects_an_invalid_document() -> None:
    broken = _break("codemie", lambda d: d["paths"]["/v1/info"]["get"].update(responses={"200": {"content": {}}}))
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


# --- the documents state the facts: probes of what the services accept and send -----------------------------------


def _accepts(api: str, schema_name: str, instance: Any) -> bool:
    return schema_validator(_parsed(api), {"$ref": f"#/components/schemas/{schema_name}"}).is_valid(instance)


CODEMIE_REQUEST_PROBES = [  # what the real server was observed to accept (True) or refuse with 422 (False)
    ({}, True),
    ({"text": "hi", "llmModel": "gpt-4o", "stream": False}, True),
    ({"text": None, "stream": None, "llm_model": None, "file_names": None, "unknown_key": 1}, True),
    ({"history": "plain string history"}, True),
    ({"history": [{"role": "User", "message": "hi"}, {"role": "Assistant", "message": "hello"}]}, True),
    ({"history": [{"role": "User"}, {"role": "Assistant", "message": None}]}, True),
    ({"history": [{"role": "user", "message": "hi"}]}, False),
    ({"stream": 0}, True),
    ({"stream": "false"}, True),
    ({"stream": "no"}, True),
    ({"stream": 2}, False),
    ({"stream": "maybe"}, False),
    ({"top_k": "10"}, True),
    ({"top_k": 10.0}, True),
    ({"top_k": True}, True),
    ({"top_k": 10.5}, False),
    ({"top_k": "ten"}, False),
    ({"top_k": None}, False),
    ({"text": 5}, False),
    ({"conversation_id": None}, False),
    ({"conversation_id": 5}, False),
    ({"system_prompt": None}, False),
    ({"save_history": None}, False),
    ({"history": None}, False),
    ({"file_names": ["f"] * 20}, True),
    ({"file_names": ["f"] * 21}, False),
    ({"file_name": "a", "file_names": []}, False),
    ({"tools_config": [{"name": "jira", "integration_id": "abc"}]}, True),
    ({"tools_config": [{"name": "jira", "tool_creds": {"token": "x"}}]}, True),
    ({"tools_config": [{"name": "jira", "tool_creds": {}, "integration_id": "abc"}]}, True),  # {} counts as missing
    ({"tools_config": [{"name": "jira"}]}, False),
    ({"tools_config": [{"name": "jira", "tool_creds": {}}]}, False),
    ({"tools_config": [{"name": "jira", "integration_id": "abc", "tool_creds": {"token": "x"}}]}, False),
    ({"sub_assistants_versions": {"a": 0}}, False),
    ({"sub_assistants_versions": {"a": 2, "b": "3"}}, True),
    ({"output_schema": {}}, True),
    ({"output_schema": {"type": "object", "properties": {"a": {"type": "string"}}}}, True),
    ({"output_schema": {"type": 5}}, False),
    ({"interactive_response": {"request_id": "r", "kind": "choice", "payload": {}}}, True),
    ({"interactive_response": 5}, False),
    ({"interactive_response": {}}, False),
]


@pytest.mark.parametrize(("body", "valid"), CODEMIE_REQUEST_PROBES)
def test_codemie_request_body_is_as_strict_as_the_server(body: dict[str, Any], valid: bool) -> None:
    assert _accepts("codemie", "AssistantChatRequest", body) is valid


CHUNK = {"generated_chunk": "Hel", "generated": None, "thought": None, "last": False, "time_elapsed": None}
THOUGHT = {"id": "t1", "message": "x", "in_progress": True, "children": [{"id": "t2", "children": []}]}
THOUGHT_PIECE = {**CHUNK, "generated_chunk": None, "success": None,
                 "thought": {"id": "t1", "parent_id": None, "metadata": {}, "in_progress": True, "input_text": "",
                             "message": "Hello ", "author_type": "Tool", "author_name": "Codemie Thoughts",
                             "output_format": "text", "error": False, "interrupted": False, "aborted": False,
                             "children": []}}
CHAT_RESPONSE = {"generated": "hi", "timeElapsed": 2.28, "tokensUsed": None, "thoughts": [THOUGHT], "taskId": None,
                 "success": True, "agentError": None, "toolErrors": None}
CODEMIE_RESPONSE_PROBES = [
    ("StreamChunk", CHUNK, True),
    ("StreamChunk", {**CHUNK, "x_apigate_mock": {"seq": 0}, "a2ui": None, "execution_error": None}, True),
    ("StreamChunk", {**CHUNK, "thought": THOUGHT, "generated_chunk": ""}, True),
    ("StreamChunk", THOUGHT_PIECE, True),
    ("StreamChunk", {**CHUNK, "last": True, "generated": {"answer": 1}}, False),  # a structured answer is JSON text
    ("StreamChunk", {**CHUNK, "last": True, "generated": "Hello", "generated_chunk": "", "time_elapsed": 0.4}, True),
    ("StreamChunk", {key: value for key, value in CHUNK.items() if key != "last"}, False),
    ("StreamChunk", {**CHUNK, "thought": {"message": "no id"}}, False),
    ("StreamEvent", {"data": "{}", "event": "message"}, True),
    ("ChatResponse", CHAT_RESPONSE, True),
    ("ChatResponse", {**CHAT_RESPONSE, "generated": {"answer": 42}}, True),
    ("ChatResponse", {key: value for key, value in CHAT_RESPONSE.items() if key != "toolErrors"}, False),
    ("ChatResponse", {**CHAT_RESPONSE, "tokensUsed": 1.5}, False),
    ("ChatResponse", {**CHAT_RESPONSE, "thoughts": [{"id": "t", "children": [{"no_id": 1}]}]}, False),
    ("ErrorEnvelope", {"error": {"message": "Assistant not found", "details": "x", "help": None}}, True),
    ("ErrorEnvelope", {"error": {"message": "m", "details": [{"a": 1}], "help": "h"}}, True),
    ("ErrorEnvelope", {"error": {"message": "m", "details": None}}, False),
    ("ErrorEnvelope", {"detail": "Not Found"}, False),
    ("UnprocessableEnvelope", {"error": {"message": "history[0].role: bad", "details": [
        {"type": "enum", "loc": ["body", "history", 0, "role"], "msg": "bad"}]}}, True),
    ("UnprocessableEnvelope", {"error": {"message": "Wrong JSON schema for structured output", "details": "x",
                                         "help": None}}, True),
    ("UnprocessableEnvelope", {"error": {"message": "m", "details": "x"}}, False),
]


@pytest.mark.parametrize(("name", "instance", "valid"), CODEMIE_RESPONSE_PROBES)
def test_codemie_response_schemas(name: str, instance: Any, valid: bool) -> None:
    assert _accepts("codemie", name, instance) is valid


def test_codemie_stream_media_types_and_public_info() -> None:
    document = load("codemie")
    content = document["components"]["responses"]["ChatAnswer"]["content"]
    assert set(content) == {"application/json", "application/x-ndjson", "text/event-stream"}
    assert document["paths"]["/v1/info"]["get"]["security"] == []
    assert document["security"] == [{"BearerAuth": []}]
    assert document["info"]["title"] == "Codemie"


KEYCLOAK_PROBES = [
    ("TokenRequest", {"grant_type": "password", "client_id": "codemie-sdk", "username": "demo", "password": "p"}, True),
    ("TokenRequest", {"grant_type": "client_credentials", "client_id": "api-demo", "client_secret": "s"}, True),
    ("TokenRequest", {"grant_type": "refresh_token", "client_id": "codemie-sdk", "refresh_token": "r"}, True),
    ("TokenRequest", {"grant_type": "password", "client_id": "codemie-sdk", "password": "p"}, False),
    ("TokenRequest", {"grant_type": "implicit", "client_id": "codemie-sdk"}, False),
    ("TokenRequest", {"client_id": "codemie-sdk", "username": "demo", "password": "p"}, False),
    ("TokenResponse", {"access_token": "a", "expires_in": 28500, "refresh_expires_in": 0, "token_type": "Bearer",
                       "not-before-policy": 0, "scope": "profile email"}, True),
    ("TokenResponse", {"access_token": "a", "expires_in": 0, "refresh_expires_in": 0, "token_type": "Bearer",
                       "not-before-policy": 0, "scope": ""}, False),
    ("TokenResponse", {"access_token": "a", "refresh_expires_in": 0, "token_type": "Bearer",
                       "not-before-policy": 0, "scope": ""}, False),
    ("OAuthError", {"error": "invalid_grant", "error_description": "Invalid user credentials"}, True),
    ("OAuthError", {"error": "invalid_grant"}, False),
    ("RealmNotFoundError", {"error": "Realm does not exist"}, True),
    ("Jwks", {"keys": [{"kid": "k", "kty": "RSA", "alg": "RS256", "use": "sig", "n": "AQAB", "e": "AQAB"}]}, True),
    ("Jwks", {"keys": [{"kid": "k", "kty": "RSA", "alg": "RS256", "use": "sig"}]}, False),
    ("Jwks", {"keys": [{"kid": "k", "kty": "RSA", "alg": "RSA-OAEP", "use": "enc", "n": "x", "e": "y"}]}, False),
]


@pytest.mark.parametrize(("name", "instance", "valid"), KEYCLOAK_PROBES)
def test_keycloak_schemas(name: str, instance: Any, valid: bool) -> None:
    assert _accepts("keycloak", name, instance) is valid


UUID = "0b0f4d1e-9a53-4c1e-8e4c-2f9d8f1a6b7c"
MESSAGE = {"role": "assistant", "msg_type": "response", "content": "There are 6 teams",
           "timestamp": "2025-04-10T10:30:00Z", "msg_uuid": UUID, "prompt_uuid": UUID,
           "initial_prompt": "How many teams are there?", "prompt_time": "2025-04-10T10:29:58Z",
           "parent_msg_uuid": UUID, "verified": False, "result_type": None, "thumbs_up": None}
CONNECTION = {"database_type": "postgres", "host": "h", "database_name": "d", "username": "u", "password": "p",
              "data_source_desc": "s", "database_desc": "d"}
BASEJUMP_PROBES = [
    ("Message", MESSAGE, True),
    ("Message", {**MESSAGE, "msg_type": "error"}, True),
    ("Message", {**MESSAGE, "msg_type": "warning"}, False),
    ("Message", {**MESSAGE, "result_type": "table"}, False),
    # "UTC ISO-8601": with or without an offset (pydantic writes the core's naive datetimes without one)
    ("Message", {**MESSAGE, "timestamp": "2023-04-20T10:30:00", "prompt_time": "2023-04-20T10:29:58.123456"}, True),
    ("Message", {**MESSAGE, "prompt_time": "2023-04-20T12:29:58+02:00"}, True),
    ("Message", {**MESSAGE, "timestamp": "2023-04-20"}, False),
    ("Message", {**MESSAGE, "prompt_time": "yesterday"}, False),
    ("Message", {**MESSAGE, "timestamp": None}, False),
    ("DatabaseConnectionRequest", CONNECTION, True),
    ("DatabaseConnectionRequest", {**CONNECTION, "port": None, "ssl_mode": "verify-full", "ssl_root_cert": None}, False),
    ("DatabaseConnectionRequest", {**CONNECTION, "port": None, "ssl_mode": "verify-full", "ssl_root_cert": "PEM"}, True),
    ("DatabaseConnectionRequest", {**CONNECTION, "database_type": "mssql"}, False),
    ("DatabaseConnectionRequest", {**CONNECTION, "include_default_schema": False}, False),
    ("DatabaseConnectionRequest", {**CONNECTION, "include_default_schema": False, "schemas": [{"schema_nm": "hr"}]}, True),
    ("DatabaseConnectionRequest", {**CONNECTION, "ssl_mode": "disable"}, False),
    ("UserRole", "SUB_MEMBER", True),
    ("UserRole", "owner", False),
    ("UnprocessableError", {"detail": [{"loc": ["query", "role"], "msg": "bad", "type": "enum"}]}, True),
    ("UnprocessableError", {"detail": "Validation failed"}, True),
    ("HTTPError", {"detail": "A higher level of access is required"}, True),
    ("HTTPError", {"error": "x"}, False),
    ("CreatedUser", {"user_uuid": UUID, "username": "new_user", "role": "ADMIN", "email_address": None}, True),
    ("CreatedUser", {"user_uuid": UUID.upper()}, False),
]


@pytest.mark.parametrize(("name", "instance", "valid"), BASEJUMP_PROBES)
def test_basejump_schemas(name: str, instance: Any, valid: bool) -> None:
    assert _accepts("basejump", name, instance) is valid


def test_basejump_security_schemes_per_step() -> None:
    document = load("basejump")
    expected = {
        "/account/user/": "ClientSecret", "/auth/token/": "ClientSecret", "/auth/access_token/": "RefreshToken",
        "/auth/access-token/": "RefreshToken", "/account/team/": "AccessToken", "/connection/database/": "AccessToken",
        "/connection/{conn_uuid}/team/": "AccessToken", "/account/user/{user_uuid}/team/{team_uuid}/": "AccessToken",
        "/chat/team/{team_uuid}/": "AccessToken", "/chat/{chat_uuid}/message/": "AccessToken",
    }
    actual = {path: next(iter(operation["security"][0])) for path, _, operation in operations(document)}
    assert actual == expected
    assert document["components"]["securitySchemes"]["ClientSecret"] == {
        **document["components"]["securitySchemes"]["ClientSecret"], "type": "apiKey", "in": "header",
        "name": "client-secret"}


def test_contracts_folder_holds_exactly_the_documents_and_readme() -> None:
    folder = Path(contract_path("codemie")).parent
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(f"{api}.openapi.yaml" for api in APIS), "README.md"])
