"""The embedded CodeMie's chat, as the real server answers it: the body read before authentication, lax types,
camelCase precedence, the request model's rules and error texts, and streams in the default agent's thought style.

The expectations are the observed behaviour of the real backend (its FastAPI app served from source), restated
here as apigate's own fixtures; where the real server has a bug (a 500), the mock answers the documented status
and the test says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apigate.config import DEMO
from apigate.mocks._chat_request import lax_bool, lax_int

from ._asgi import CHAT, CODEMIE, ASGIClient, decode_ndjson, decode_sse, password_token

JSON = {"Content-Type": "application/json"}
UNKNOWN = f"{CODEMIE}/v1/assistants/00000000-0000-4000-8000-00000000a9e7/model"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- the body is read before authentication ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "headers", "status"),
    [
        (b'{"text": ', JSON, 422),  # not JSON: decided before auth (the documented 422; the real server: 500)
        (b'{"text": "\xff\xfe"}', JSON, 400),  # not text: FastAPI's own 400, before auth
        (b'{"top_k": null}', JSON, 401),  # parseable, bad fields: authentication first
        (b'{"output_schema": {"type": 5}}', JSON, 401),  # the output schema is validated after auth too
        (b'{"text": "hi"}', {"Content-Type": "text/plain"}, 401),  # not sent as JSON: read as bytes, checked later
        (b"", JSON, 401),
    ],
)
def test_the_body_is_decoded_before_authentication(mock: ASGIClient, raw: bytes, headers: dict[str, str],
                                                   status: int) -> None:
    r = mock.post(CHAT, content=raw, headers=headers)
    assert r.status_code == status, r.text
    if status == 400:
        assert r.json() == {"detail": "There was an error parsing the body"}
    elif status == 422:
        assert r.json()["error"]["details"][0]["type"] == "json_invalid"


def test_undecodable_bytes_are_400_with_fastapis_shape_also_with_a_token(mock: ASGIClient, token: str) -> None:
    r = mock.post(CHAT, content=b'{"text": "\xc3\x28"}', headers={**JSON, **bearer(token)})
    assert (r.status_code, r.json()) == (400, {"detail": "There was an error parsing the body"})


@pytest.mark.parametrize(
    ("raw", "headers", "message"),
    [
        (b"", JSON, "request: Field required"),
        (b"null", JSON, "request: Field required"),
        (b"[]", JSON, "request: Input should be a valid dictionary or object to extract fields from"),
        (b'"s"', JSON, "request: Input should be a valid dictionary or object to extract fields from"),
        # the real server answers these three with a 500 (a bug); the mock answers what a correct server does
        (b"123", JSON, "request: Input should be a valid dictionary or object to extract fields from"),
        (b'{"text": "hi"}', {"Content-Type": "text/plain"}, "request: Input should be a valid dictionary"),
        (b'{"text": "hi"}', {}, "request: Input should be a valid dictionary"),
    ],
)
def test_bodies_that_are_not_an_object_are_422(mock: ASGIClient, token: str, raw: bytes, headers: dict[str, str],
                                               message: str) -> None:
    r = mock.post(CHAT, content=raw, headers={**headers, **bearer(token)})
    assert r.status_code == 422
    assert set(r.json()["error"]) == {"message", "details"} and r.json()["error"]["message"].startswith(message)


# ---- lax types, as pydantic's defaults ----------------------------------------------------------------------------

ACCEPTED = [
    {"top_k": "10"}, {"top_k": 10.0}, {"top_k": True}, {"top_k": " 7 "}, {"topK": "1_0"},
    {"stream": 0}, {"stream": "false"}, {"stream": "no"}, {"stream": "OFF"}, {"stream": None}, {"stream": 0.0},
    {"background_task": 0}, {"save_history": "yes"}, {"disable_cache": 1}, {"version": None},
    {"history": "an earlier chat as text"}, {"history": [{"role": "User"}]},
    {"history": [{"role": "Assistant", "message": None}]},
    {"tools_config": [{"name": "t", "toolCreds": {"a": 1}}]},
    {"tools_config": [{"name": "t", "integrationId": "i"}]},
    {"sub_assistants_versions": {}},
    {"output_schema": {}}, {"file_name": "a.txt"}, {"file_names": [f"f{i}" for i in range(20)]},
    {"metadata": {"k": "v"}, "unknown_key": [1], "propagate_headers": False},
]


@pytest.mark.parametrize("body", ACCEPTED, ids=[json.dumps(b)[:40] for b in ACCEPTED])
def test_lax_values_are_accepted(mock: ASGIClient, token: str, body: dict[str, Any]) -> None:
    r = mock.post(CHAT, json={"text": "hi", **body}, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"  # none of these asks for a stream


REJECTED = [
    ({"top_k": None}, "top_k: Input should be a valid integer"),
    ({"top_k": 10.5}, "top_k: Input should be a valid integer, got a number with a fractional part"),
    ({"top_k": "ten"}, "top_k: Input should be a valid integer, unable to parse string as an integer"),
    ({"stream": 2}, "stream: Input should be a valid boolean, unable to interpret input"),
    ({"stream": " true"}, "stream: Input should be a valid boolean, unable to interpret input"),
    ({"text": 5}, "text: Input should be a valid string"),
    ({"conversation_id": None}, "conversation_id: Input should be a valid string"),
    ({"conversation_id": 5}, "conversation_id: Input should be a valid string"),
    ({"system_prompt": None}, "system_prompt: Input should be a valid string"),
    ({"save_history": None}, "save_history: Input should be a valid boolean"),
    ({"history": None}, "history.list[ChatMessage]: Input should be a valid list; history.str: Input should be a "
                        "valid string"),
    ({"history": [{"role": "user", "message": "x"}]},
     "history.list[ChatMessage][0].role: Input should be 'Assistant' or 'User'; history.str: Input should be a "
     "valid string"),
    ({"file_name": "a", "file_names": []},
     "request: Value error, Cannot provide both file_name and file_names. Use only file_names."),
    ({"file_names": [f"f{i}" for i in range(21)]}, "file_names: Too many files. Maximum count is 20"),
    ({"tools_config": [{"name": "t"}]}, "tools_config[0]: Value error, Either tool_creds or integration_id must "
                                        "be provided"),
    ({"tools_config": [{"name": "t", "tool_creds": {}}]}, "tools_config[0]: Value error, Either tool_creds or "
                                                          "integration_id must be provided"),
    ({"tools_config": [{"name": "t", "tool_creds": {"a": 1}, "integration_id": "i"}]},
     "tools_config[0]: Value error, Either tool_creds or integration_id must be provided, but not both"),
    ({"sub_assistants_versions": {"x": 0}},
     "request: Value error, Invalid version number for assistant 'x': 0. Version must be a positive integer."),
    ({"interactive_response": 5},
     "interactive_response: Input should be a valid dictionary or object to extract fields from"),
    ({"interactive_response": {}}, "interactive_response.request_id: Field required; interactive_response.kind: "
                                   "Field required; interactive_response.payload: Field required"),
    ({"interactive_response": {"request_id": "r", "kind": "wave", "payload": {}}},
     "interactive_response.kind: Input should be 'action', 'choice', 'form', 'submit' or 'text_fallback'"),
]


@pytest.mark.parametrize(("body", "message"), REJECTED, ids=[json.dumps(b)[:40] for b, _ in REJECTED])
def test_invalid_fields_are_422_with_the_servers_message(mock: ASGIClient, token: str, body: dict[str, Any],
                                                         message: str) -> None:
    r = mock.post(CHAT, json={"text": "hi", **body}, headers=bearer(token))
    assert r.status_code == 422
    error = r.json()["error"]
    assert set(error) == {"message", "details"} and error["message"] == message
    assert all({"type", "loc", "msg"} <= set(d) for d in error["details"])


def test_too_many_files_stops_validation_with_its_own_shape(mock: ASGIClient, token: str) -> None:
    body = {"text": 5, "file_names": [f"f{i}" for i in range(21)], "top_k": None}
    r = mock.post(f"{CHAT}?error_detail_level=bogus", json=body, headers=bearer(token))
    assert r.json()["error"]["details"] == [{"loc": ["file_names"], "msg": "Too many files. Maximum count is 20",
                                             "type": "value_error"}]


def test_query_errors_come_before_body_errors(mock: ASGIClient, token: str) -> None:
    r = mock.post(f"{CHAT}?include_tool_errors=maybe", json={"top_k": None}, headers=bearer(token))
    assert r.json()["error"]["message"] == ("query.include_tool_errors: Input should be a valid boolean, unable to "
                                            "interpret input; top_k: Input should be a valid integer")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"topK": 5, "top_k": None}, 200),  # camelCase read, snake_case ignored
        ({"topK": None, "top_k": 5}, 422),
        ({"conversationId": "c-camel", "conversation_id": None}, 200),
        ({"outputSchema": {}, "output_schema": {"type": 5}}, 200),
        ({"tools_config": [{"name": "t", "toolCreds": {"a": 1}, "tool_creds": {}}]}, 200),
        ({"toolsConfig": [{"name": "t"}], "tools_config": []}, 422),
    ],
)
def test_the_camel_case_spelling_wins(mock: ASGIClient, token: str, body: dict[str, Any], status: int) -> None:
    r = mock.post(CHAT, json={"text": "hi", **body}, headers=bearer(token))
    assert r.status_code == status, r.text


# ---- structured output --------------------------------------------------------------------------------------------

SCHEMA = {"type": "object", "required": ["answer", "n"],
          "properties": {"answer": {"type": "string"}, "n": {"type": "integer"}}}


@pytest.mark.parametrize("schema", [{"type": 5}, {"type": "object"}, {"properties": {}},
                                    {"type": "object", "properties": []},
                                    {"type": "object", "properties": {"a": {"type": "no-such-type"}}}])
def test_an_invalid_output_schema_is_a_domain_422(mock: ASGIClient, token: str, schema: dict[str, Any]) -> None:
    for url in (CHAT, UNKNOWN):  # validation comes before the assistant is looked up
        r = mock.post(url, json={"text": "hi", "output_schema": schema}, headers=bearer(token))
        assert r.status_code == 422
        assert r.json() == {"error": {"message": "Wrong JSON schema for structured output", "details": None,
                                      "help": None}}


def test_a_structured_answer_is_an_object_and_streams_as_its_json_text(mock: ASGIClient, token: str) -> None:
    plain = mock.post(CHAT, json={"text": "hi", "output_schema": SCHEMA}, headers=bearer(token)).json()
    assert plain["generated"] == {"answer": "example", "n": 0}
    r = mock.post(CHAT, json={"text": "hi", "stream": True, "outputSchema": SCHEMA}, headers=bearer(token))
    chunks = decode_ndjson(r.content)
    assert json.loads(chunks[-1]["generated"]) == {"answer": "example", "n": 0}
    assert chunks[-1]["generated"] == json.dumps({"answer": "example", "n": 0})  # json.dumps' spelling


# ---- other answers ------------------------------------------------------------------------------------------------

def test_an_interactive_response_must_answer_a_pending_request(mock: ASGIClient, token: str) -> None:
    # the mock never asks for input, so a well-formed answer answers nothing: the real server's domain 422
    body = {"text": "hi", "interactive_response": {"request_id": "r-1", "kind": "choice", "payload": {}}}
    r = mock.post(CHAT, json=body, headers=bearer(token))
    assert r.status_code == 422
    assert r.json() == {"error": {"message": "Unknown interactive request_id", "details": None, "help": None}}


def test_version_and_slug_answers(mock: ASGIClient, token: str) -> None:
    r = mock.post(CHAT, json={"text": "hi", "version": 1}, headers=bearer(token))
    assert r.status_code == 404 and r.json()["error"]["message"] == "Version not found"  # the demo has no version
    slug = f"{CODEMIE}/v1/assistants/slug/{DEMO.assistant_slug}/model"
    for query in ("", "?project=demo", "?project="):  # an empty project is ignored
        assert mock.post(slug + query, json={"text": "hi"}, headers=bearer(token)).status_code == 200


def test_background_task_without_text_is_answered(mock: ASGIClient, token: str) -> None:
    # the real server answers 500 here (a bug): the mock answers like a background task with text
    r = mock.post(CHAT, json={"text": None, "background_task": True}, headers=bearer(token))
    assert r.status_code == 200 and r.json()["generated"] == "Task is running in the background"
    assert r.json()["thoughts"] is None and isinstance(r.json()["taskId"], str)


def test_the_plain_answers_thought_is_the_default_agents(mock: ASGIClient, token: str) -> None:
    (thought,) = mock.post(CHAT, json={"text": "hi"}, headers=bearer(token)).json()["thoughts"]
    assert thought["in_progress"] is True and thought["author_type"] == "Tool" and thought["input_text"] == ""


def test_the_same_request_gets_the_same_status(mock: ASGIClient, token: str) -> None:
    bodies = [b for b in ACCEPTED[:6]] + [b for b, _ in REJECTED[:6]] + [{"conversation_id": "c-again"}]
    first = [mock.post(CHAT, json=b, headers=bearer(token)).status_code for b in bodies]
    again = [mock.post(CHAT, json=b, headers=bearer(token)).status_code for b in bodies]
    assert first == again


# ---- streams --------------------------------------------------------------------------------------------------------

STREAM_KEYS = ["time_elapsed", "generated_chunk", "generated", "thought", "context", "last", "debug",
               "workflow_execution_id", "workflow_state", "execution_error", "success", "agent_error", "tool_errors",
               "error_details", "interactive_request", "x_apigate_mock"]


@pytest.mark.parametrize("query", ["", "?include_tool_errors=true"])
def test_streams_thought_deltas_like_the_real_default_agent(mock: ASGIClient, token: str, query: str) -> None:
    text = "tell me about time to first token"
    r = mock.post(CHAT + query, json={"text": text, "stream": True}, headers=bearer(token))
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    assert b"}{" in r.content and b"\n" not in r.content  # back to back, no newline
    chunks = decode_ndjson(r.content)
    *progress, final = chunks
    assert all(list(c) == STREAM_KEYS for c in chunks) and all(c["success"] is None for c in chunks)
    answer = final["generated"]
    assert len(progress) == len(answer.split()) > 10  # one piece per word: many, token-sized
    assert all(c["generated_chunk"] is None and c["generated"] is None and c["last"] is False for c in progress)
    thoughts = [c["thought"] for c in progress]
    assert len({t["id"] for t in thoughts}) == 1 and all(t["in_progress"] is True for t in thoughts)
    assert {t["author_name"] for t in thoughts} == {"Codemie Thoughts"}
    assert "".join(t["message"] for t in thoughts) == answer and answer.endswith(text)
    assert final["last"] is True and final["generated_chunk"] == "" and final["thought"] is None
    assert final["debug"] == {} and isinstance(final["time_elapsed"], float)
    assert [c["x_apigate_mock"]["seq"] for c in chunks] == list(range(len(chunks)))  # no extra terminal chunk


@pytest.mark.parametrize("stream_format", ["ndjson", "sse"])
def test_the_generated_chunk_style_is_a_knob(make_mock: Callable[..., ASGIClient], stream_format: str) -> None:
    mock = make_mock(stream_deltas="generated_chunk", chunks=4, stream_format=stream_format)
    r = mock.post(CHAT, json={"text": "hi", "stream": "true"}, headers=bearer(password_token(mock)))
    chunks = decode_sse(r.content) if stream_format == "sse" else decode_ndjson(r.content)
    assert [c["last"] for c in chunks] == [False] * 4 + [True]
    assert all(c["thought"] is None for c in chunks)
    assert chunks[-1]["generated"] == "".join(c["generated_chunk"] for c in chunks[:-1])


def test_a_truthy_lax_stream_flag_streams(mock: ASGIClient, token: str) -> None:
    for flag in (1, "yes", "True", 1.0):
        r = mock.post(CHAT, json={"text": "hi", "stream": flag}, headers=bearer(token))
        assert r.headers["content-type"] == "application/x-ndjson", flag


# ---- the lax scalar rules agree with pydantic's (the library the real server validates with) ------------------

def _pydantic(kind: type, value: Any) -> Any:
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        return ("error", exc.errors()[0]["type"])


def _mine(check: Callable[..., Any], value: Any) -> Any:
    errors: list[dict[str, Any]] = []
    result = check(value, ("body", "x"), errors)
    return ("error", errors[0]["type"]) if errors else result


# numeric text as clients write it: optional blanks, an optional leading sign, digits (single underscores between
# them), an optional decimal part. (pydantic-core also reads a few odd spellings after leading zeros, e.g. "0-5" as
# -5 or "0__0" as 0; the mock refuses those, and no client sends them.)
NUMERIC_TEXT = st.builds(
    lambda blank, sign, digits, decimals, tail: f"{blank}{sign}{digits}{decimals}{tail}",
    st.sampled_from(["", " ", "\t", "\n", "\xa0", "\x1c"]), st.sampled_from(["", "+", "-", "--"]),
    st.from_regex(r"[1-9][0-9]{0,3}(_[0-9]{1,2}){0,2}|0|[0-9]{1,3}_?[0-9]|[1-9][0-9]{0,2}__[0-9]", fullmatch=True),
    st.sampled_from(["", ".0", ".00", ".", ".5", ".0.0", "e3"]), st.sampled_from(["", " ", "\n", "x"]),
)
SCALARS = st.one_of(
    st.booleans(), st.integers(-3, 3), st.integers(), st.floats(), st.sampled_from([2.0**63, -(2.0**63), 1e20, 0.5]),
    st.sampled_from(["true", "False", "YES", "n", "on", "Off", "1", "0", " 1", "t", "y", "", "١٠", "9" * 4301,
                     "ja", "truee", "\ufeff1"]),
    NUMERIC_TEXT, st.text(alphabet="abcdefnorstuy ", max_size=6), st.none(), st.lists(st.none(), max_size=1),
)


@settings(max_examples=400, deadline=None)
@given(value=SCALARS)
def test_lax_scalars_match_pydantic(value: Any) -> None:
    assert _mine(lax_bool, value) == _pydantic(bool, value)
    assert _mine(lax_int, value) == _pydantic(int, value)


# ---- the contract breaks of these rules (the self-test's catalogue) -------------------------------------------------

BENT = [  # (break, body, status on the faithful mock, status with the break)
    ("codemie.validation.strict", {"text": "hi", "top_k": "10"}, 200, 422),
    ("codemie.validation.snake_case_wins", {"text": "hi", "topK": 5, "top_k": None}, 200, 422),
    ("codemie.validation.empty_tool_creds", {"text": "hi", "tools_config": [{"name": "t", "tool_creds": {}}]}, 422, 200),
    ("codemie.validation.history_message_required", {"text": "hi", "history": [{"role": "User"}]}, 200, 422),
    ("codemie.bug.numeric_body_500", 123, 422, 500),
    ("codemie.bug.numeric_body_500", False, 422, 500),
    ("codemie.bug.background_without_text_500", {"text": None, "background_task": True}, 200, 500),
]


@pytest.mark.parametrize(("name", "body", "faithful", "broken"), BENT, ids=[f"{b[0]}-{b[1]}"[:60] for b in BENT])
def test_each_request_model_break_bends_its_rule(make_mock: Callable[..., ASGIClient], name: str, body: Any,
                                                 faithful: int, broken: int) -> None:
    for breaks, status in ((frozenset(), faithful), (frozenset({name}), broken)):
        mock = make_mock(breaks=breaks)
        assert mock.post(CHAT, json=body, headers=bearer(password_token(mock))).status_code == status, breaks


@pytest.mark.parametrize(("name", "raw", "headers", "status"), [
    ("codemie.bug.malformed_json_500", b'{"text": ', JSON, 500),  # before authentication too, as the real bug
    ("codemie.bug.content_type_500", b'{"text": "hi"}', {"Content-Type": "text/plain"}, 401),  # after it
    ("codemie.body.after_auth", b'{"text": "\xff"}', JSON, 401),
])
def test_body_breaks_without_a_token(make_mock: Callable[..., ASGIClient], name: str, raw: bytes,
                                     headers: dict[str, str], status: int) -> None:
    assert make_mock(breaks=frozenset({name})).post(CHAT, content=raw, headers=headers).status_code == status


def test_the_content_type_bug_answers_500_with_a_token(make_mock: Callable[..., ASGIClient]) -> None:
    mock = make_mock(breaks=frozenset({"codemie.bug.content_type_500"}))
    for headers in ({"Content-Type": "text/plain"}, {}):
        r = mock.post(CHAT, content=b'{"text": "hi"}', headers={**headers, **bearer(password_token(mock))})
        assert r.status_code == 500 and set(r.json()["error"]) == {"message", "details", "help"}


@pytest.mark.parametrize("name", ["codemie.stream.delta_mismatch", "codemie.stream.structured_prose"])
def test_stream_breaks(make_mock: Callable[..., ASGIClient], name: str) -> None:
    mock = make_mock(breaks=frozenset({name}), chunks=3)
    r = mock.post(CHAT, json={"text": "hi", "stream": True, "output_schema": SCHEMA},
                  headers=bearer(password_token(mock)))
    *progress, final = decode_ndjson(r.content)
    if name == "codemie.stream.delta_mismatch":  # generated_chunk deltas, and a final text that differs
        assert all(c["thought"] is None for c in progress)
        assert final["generated"] != "".join(c["generated_chunk"] for c in progress)
    else:  # prose where the JSON text of the object belongs
        assert final["generated"].startswith("Hello from")
