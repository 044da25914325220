from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from apigate import errors
from apigate.clients import CodemieClient, KeycloakAuth, RetryPolicy, StreamValidator
from apigate.clients.codemie import asks_structured
from apigate.clients.stream import carries_text, chunks_per_second
from apigate.config import mock_target

from ._support import CLASSES, RETRIED, STATUSES, Clock, Sleeper, assert_no_secret

BASE = "https://codemie.test/code-assistant-api"
TOKEN_URL = "https://kc.test/auth/realms/codemie-prod/protocol/openid-connect/token"
AID = "05959338-06de-477d-9cc3-08369f858057"
PASSWORD = "pw-c0demie-s3cret"
ASK = f"{BASE}/v1/assistants/{AID}/model"
ASK_SLUG = f"{BASE}/v1/assistants/slug/demo-assistant/model"

ANSWER = {
    "generated": "Hello! How can I help?",
    "timeElapsed": 2.28,
    "tokensUsed": None,
    "thoughts": [{"id": "t1", "author_name": "Codemie Thoughts", "message": "thinking", "in_progress": False, "children": []}],
    "taskId": None,
    "success": True,
    "agentError": None,
    "toolErrors": None,
    "futureKey": {"kept": True},
}


def token_route(router: respx.MockRouter, count: int | None = None) -> respx.Route:
    n = 0

    def issue(request: httpx.Request) -> httpx.Response:
        nonlocal n
        n += 1
        return httpx.Response(200, json={"access_token": f"cm-access-{n:03d}-token", "expires_in": 300, "refresh_token": f"cm-refresh-{n:03d}-token", "refresh_expires_in": 1800})

    return router.post(TOKEN_URL).mock(side_effect=issue)


@pytest.fixture
def make_client(transport: httpx.BaseTransport, clock: Clock, sleeper: Sleeper) -> Iterator[Callable[..., CodemieClient]]:
    made: list[CodemieClient] = []

    def make(**kw: Any) -> CodemieClient:
        auth = KeycloakAuth(TOKEN_URL, "codemie-sdk", username="alice", password=PASSWORD, clock=clock, sleep=sleeper, transport=transport)
        client = CodemieClient(BASE, auth, transport=transport, sleep=sleeper, rng=lambda: 0.0, **kw)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def chunk(delta: str = "", *, generated: str | None = None, last: bool = False, **extra: Any) -> dict[str, Any]:
    """A chunk with the 15 keys of the current server."""
    return {
        "time_elapsed": 0.1 if last else None,
        "generated_chunk": delta,
        "generated": generated,
        "thought": None,
        "context": None,
        "last": last,
        "debug": None,
        "workflow_execution_id": None,
        "workflow_state": None,
        "execution_error": None,
        "success": True,
        "agent_error": None,
        "tool_errors": None,
        "error_details": None,
        "interactive_request": None,
        **extra,
    }


ANSWER_CHUNKS = [chunk("Hel"), chunk("lo, {wor"), chunk('ld} "\\"'), chunk(generated='Hello, {world} "\\"', last=True)]


def ndjson(chunks: list[dict[str, Any]], sep: str = "") -> bytes:
    return sep.join(json.dumps(c) for c in chunks).encode()


def sse(chunks: list[dict[str, Any]], eol: str = "\r\n", done: bool = True) -> bytes:
    out = ": ping" + eol + eol
    for c in chunks:
        out += "event: message" + eol + "data: " + json.dumps(c) + eol + eol
    if done:
        out += "data: [DONE]" + eol + eol
    return out.encode()


def pieces(body: bytes, size: int, fail: Exception | None = None) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]
    if fail is not None:
        raise fail


def stream_response(body: bytes, content_type: str = "application/x-ndjson", size: int = 7, fail: Exception | None = None) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, headers={"content-type": content_type}, content=pieces(body, size, fail))


# -- asking ------------------------------------------------------------------------------------------------------


def test_ask_sends_the_body_and_a_bearer_token_and_parses_the_answer(router, make_client) -> None:
    token_route(router)
    route = router.post(ASK).respond(json=ANSWER)
    answer = make_client().ask(AID, "hi", history=[{"role": "User", "message": "before"}], conversation_id="c-1")
    request = route.calls.last.request
    assert json.loads(request.content) == {"text": "hi", "stream": False, "history": [{"role": "User", "message": "before"}], "conversation_id": "c-1"}
    assert request.headers["authorization"] == "Bearer cm-access-001-token"
    assert answer.generated == "Hello! How can I help?" and answer.time_elapsed == 2.28 and answer.success
    assert answer.thoughts[0].author_name == "Codemie Thoughts"
    assert answer.raw["futureKey"] == {"kept": True}


def test_ask_by_slug_with_project_and_query_options(router, make_client) -> None:
    token_route(router)
    route = router.post(ASK_SLUG).respond(json={**ANSWER, "success": False, "generated": "agent failed"})
    answer = make_client().ask_slug("demo-assistant", "hi", project="demo", include_tool_errors=True, error_detail_level="full", llm_model="gpt-4o", extra={"top_k": 3})
    request = route.calls.last.request
    assert dict(request.url.params) == {"include_tool_errors": "true", "error_detail_level": "full", "project": "demo"}
    assert json.loads(request.content) == {"text": "hi", "stream": False, "llm_model": "gpt-4o", "top_k": 3}
    assert answer.success is False


def test_token_is_reused_across_calls(router, make_client) -> None:
    tokens = token_route(router)
    router.post(ASK).respond(json=ANSWER)
    client = make_client()
    client.ask(AID, "a")
    client.ask(AID, "b")
    assert tokens.call_count == 1


def test_a_401_on_a_cached_token_reauthenticates_once_and_retries_once(router, make_client) -> None:
    tokens = token_route(router)
    route = router.post(ASK).mock(side_effect=[
        httpx.Response(200, json=ANSWER),
        httpx.Response(401, json={"error": {"message": "Token validation failed", "details": "Invalid or expired credentials", "help": "h"}}),
        httpx.Response(200, json=ANSWER),
    ])
    client = make_client()
    client.ask(AID, "first")
    client.ask(AID, "second")
    assert tokens.call_count == 2
    assert [c.request.headers["authorization"] for c in route.calls] == ["Bearer cm-access-001-token", "Bearer cm-access-001-token", "Bearer cm-access-002-token"]
    assert parse_qs(tokens.calls.last.request.content.decode())["grant_type"] == ["refresh_token"]


def test_a_second_401_is_raised(router, make_client) -> None:
    tokens = token_route(router)
    unauthorized = httpx.Response(401, json={"error": {"message": "Access denied", "details": "no read access", "help": None}})
    route = router.post(ASK).mock(side_effect=[httpx.Response(200, json=ANSWER), unauthorized, unauthorized])
    client = make_client()
    client.ask(AID, "first")
    with pytest.raises(errors.UnauthorizedError, match="Access denied"):
        client.ask(AID, "second")
    assert route.call_count == 3 and tokens.call_count == 2


def test_a_401_on_a_freshly_issued_token_is_not_retried(router, make_client) -> None:
    tokens = token_route(router)
    route = router.post(ASK).respond(401, json={"error": {"message": "Access denied", "details": "d", "help": "h"}})
    with pytest.raises(errors.UnauthorizedError):
        make_client().ask(AID, "hi")
    assert route.call_count == 1 and tokens.call_count == 1


def test_retry_unsafe_retries_a_chat(router, make_client) -> None:
    token_route(router)
    route = router.post(ASK).mock(side_effect=[httpx.Response(503, json={"error": {"message": "busy", "details": None, "help": None}}), httpx.Response(200, json=ANSWER)])
    assert make_client().ask(AID, "hi", retry_unsafe=True).generated == ANSWER["generated"]
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("failure", "calls", "cls"),
    [
        (httpx.ConnectError("refused"), 4, errors.ConnectError),  # never reached the server: safe to retry
        (httpx.ReadTimeout("timed out"), 1, errors.TransportTimeoutError),  # may have been processed: not retried
        (httpx.RemoteProtocolError("Server disconnected"), 1, errors.ConnectionLostError),
    ],
)
def test_chat_transport_failures(router, make_client, failure: Exception, calls: int, cls: type[Exception]) -> None:
    token_route(router)
    route = router.post(ASK).mock(side_effect=failure)
    with pytest.raises(cls):
        make_client().ask(AID, "hi")
    assert route.call_count == calls


def test_an_undecodable_body_is_a_transport_error_not_an_httpx_one(router, make_client) -> None:
    # a gateway answering "Content-Encoding: gzip" with a body that is not gzip: httpx raises DecodingError, which is
    # not an httpx.TransportError; it must still become an apigate error (and is not retried: it would fail again)
    token_route(router)

    def broken(status: int) -> Callable[[httpx.Request], httpx.Response]:
        headers = {"content-encoding": "gzip", "content-type": "application/json"}
        return lambda request: httpx.Response(status, headers=headers, stream=httpx.ByteStream(b"not gzip"))

    users = router.get(f"{BASE}/v1/user").mock(side_effect=broken(200))
    with pytest.raises(errors.TransportError, match="undecodable response body") as info:
        make_client().get_user()
    assert type(info.value) is errors.TransportError and users.call_count == 1
    router.get(f"{BASE}/v1/assistants").mock(side_effect=broken(502))
    with pytest.raises(errors.TransportError, match="undecodable"):
        make_client().list_assistants()


# -- streaming ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 5, 64, 100_000])
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-ndjson", ndjson(ANSWER_CHUNKS)),
        ("application/x-ndjson; charset=utf-8", ndjson(ANSWER_CHUNKS, "\n")),
        ("application/json", ndjson(ANSWER_CHUNKS, "\r\n")),
        ("text/event-stream; charset=utf-8", sse(ANSWER_CHUNKS)),
        ("text/event-stream", sse(ANSWER_CHUNKS, "\n", done=False)),
        ("text/event-stream", sse(ANSWER_CHUNKS, "\r")),
    ],
)
def test_stream_yields_the_same_chunks_for_both_framings(router, make_client, content_type: str, body: bytes, size: int) -> None:
    token_route(router)
    route = router.post(ASK).mock(side_effect=stream_response(body, content_type, size))
    with make_client().stream(AID, "hi") as chunks:
        seen = [c.data for c in chunks]
        result = chunks.result()
        assert chunks.ttfc is not None and chunks.ttfc >= 0
    assert seen == ANSWER_CHUNKS
    assert result.generated == 'Hello, {world} "\\"'
    assert len(result.inter_chunk) == 3 and result.total >= result.ttfc >= 0
    assert [c.offset for c in result.chunks] == sorted(c.offset for c in result.chunks)
    assert result.size == len(body)
    request = route.calls.last.request
    assert json.loads(request.content) == {"text": "hi", "stream": True}
    assert "application/x-ndjson" in request.headers["accept"]


def test_stream_by_slug(router, make_client) -> None:
    token_route(router)
    router.post(ASK_SLUG).mock(side_effect=stream_response(ndjson(ANSWER_CHUNKS)))
    with make_client().stream_slug("demo-assistant", "hi", project="p") as chunks:
        assert chunks.result().final["last"] is True


def test_chunk_arrival_times_are_taken_per_read(router, make_client) -> None:
    token_route(router)
    router.post(ASK).mock(side_effect=stream_response(ndjson(ANSWER_CHUNKS), size=10_000))
    with make_client().stream(AID, "hi") as chunks:
        result = chunks.result()
    # all four chunks arrived in one read: one arrival time, and it is after sending
    assert len({c.arrived_at for c in result.chunks}) == 1
    assert result.chunks[0].arrived_at >= result.sent_at


def test_tool_errors_chunk_is_allowed_only_when_asked(router, make_client) -> None:
    token_route(router)
    body = ndjson([*ANSWER_CHUNKS, chunk(generated=None, last=True, tool_errors=[{"tool": "x"}])])
    router.post(ASK).mock(side_effect=stream_response(body))
    client = make_client()
    with client.stream(AID, "hi", include_tool_errors=True) as chunks:
        result = chunks.result()
    assert result.extra_final is not None and result.extra_final["tool_errors"] == [{"tool": "x"}]
    with client.stream(AID, "hi") as chunks, pytest.raises(errors.StreamViolation, match="after the terminal chunk"):
        chunks.result()


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (ndjson(ANSWER_CHUNKS[:-1]), "application/x-ndjson", "without a terminal"),
        (ndjson([*ANSWER_CHUNKS, chunk("more")]), "application/x-ndjson", "after the terminal chunk"),
        (ndjson([*ANSWER_CHUNKS[:-1], chunk(generated="something else", last=True)]), "application/x-ndjson", "differs"),
        (ndjson(ANSWER_CHUNKS)[:-5], "application/x-ndjson", "inside a JSON object"),
        (ndjson(ANSWER_CHUNKS).replace(b'"last": true', b'"last": tru'), "application/x-ndjson", "malformed JSON"),
        (b"data: " + ndjson(ANSWER_CHUNKS), "application/x-ndjson", "expected a JSON object"),
        (sse(ANSWER_CHUNKS[:-1]), "text/event-stream", "without a terminal"),
        (sse(ANSWER_CHUNKS) + b"data: {}\r\n\r\n", "text/event-stream", "after \\[DONE\\]"),
        (sse(ANSWER_CHUNKS, done=False)[:-2], "text/event-stream", "inside an SSE event"),
    ],
)
def test_stream_violations_name_the_offset(router, make_client, body: bytes, content_type: str, message: str) -> None:
    token_route(router)
    router.post(ASK).mock(side_effect=stream_response(body, content_type))
    with make_client().stream(AID, "hi") as chunks, pytest.raises(errors.StreamViolation, match=message) as info:
        chunks.result()
    assert 0 <= info.value.offset <= len(body)
    assert isinstance(info.value, errors.ContractViolation) and isinstance(info.value, AssertionError)
    with pytest.raises(errors.StreamViolation):  # asking again reports the same failure
        chunks.result()


def test_a_wrong_stream_content_type_is_a_violation(router, make_client) -> None:
    token_route(router)
    router.post(ASK).mock(side_effect=stream_response(ndjson(ANSWER_CHUNKS), "text/plain"))
    with pytest.raises(errors.StreamViolation, match="Content-Type") as info, make_client().stream(AID, "hi"):
        pass
    assert info.value.actual == "text/plain"


def test_a_stream_cut_off_is_a_stream_cut_off_error(router, make_client) -> None:
    token_route(router)
    body = ndjson(ANSWER_CHUNKS[:2])
    router.post(ASK).mock(side_effect=stream_response(body, fail=httpx.RemoteProtocolError("peer closed connection without sending complete message body")))
    with make_client().stream(AID, "hi") as chunks:
        first = next(chunks)
        with pytest.raises(errors.StreamCutOffError) as info:
            chunks.result()
    assert first.delta == "Hel"
    assert info.value.offset == len(body) and "2 chunk(s)" in str(info.value)
    assert isinstance(info.value.__cause__, errors.ConnectionLostError)


def test_an_undecodable_stream_is_a_transport_error(router, make_client) -> None:
    token_route(router)
    headers = {"content-type": "application/x-ndjson", "content-encoding": "gzip"}
    router.post(ASK).mock(side_effect=lambda request: httpx.Response(200, headers=headers, content=pieces(b"{not gzip}", 4)))
    with make_client().stream(AID, "hi") as chunks, pytest.raises(errors.TransportError, match="undecodable"):
        chunks.result()
    assert chunks.error is not None and not chunks.complete


def test_a_read_timeout_mid_stream_is_a_timeout(router, make_client) -> None:
    token_route(router)
    router.post(ASK).mock(side_effect=stream_response(ndjson(ANSWER_CHUNKS[:1]), fail=httpx.ReadTimeout("read timed out")))
    with make_client().stream(AID, "hi") as chunks, pytest.raises(errors.TransportTimeoutError):
        chunks.result()


def test_a_stream_401_on_a_cached_token_retries_once(router, make_client) -> None:
    tokens = token_route(router)
    router.post(ASK).mock(side_effect=[
        httpx.Response(200, json=ANSWER),
        httpx.Response(401, json={"error": {"message": "Authentication failed", "details": "d", "help": "h"}}),
        stream_response(ndjson(ANSWER_CHUNKS))(httpx.Request("POST", ASK)),
    ])
    client = make_client()
    client.ask(AID, "x")
    with client.stream(AID, "hi") as chunks:
        assert chunks.result().generated == 'Hello, {world} "\\"'
    assert tokens.call_count == 2


# -- neighbours --------------------------------------------------------------------------------------------------


def test_list_assistants_get_one_models_user_info(router, make_client) -> None:
    token_route(router)
    listing = router.get(f"{BASE}/v1/assistants").respond(json={
        "data": [{"id": AID, "name": "Demo", "slug": "demo-assistant", "project": "demo", "created_by": {"id": "u"}}],
        "pagination": {"page": 0, "per_page": 12, "total": 1, "pages": 1},
    })
    router.get(f"{BASE}/v1/assistants/id/{AID}").respond(json={"id": AID, "name": "Demo", "system_prompt": "be nice", "llm_model_type": "gpt-4o"})
    router.get(f"{BASE}/v1/llm_models").respond(json=[{"base_name": "gpt-4o", "label": "GPT-4o", "enabled": True, "default": True, "features": {"streaming": True}}])
    router.get(f"{BASE}/v1/user").respond(json={"user_id": "u-1", "username": "demo", "projects": [{"name": "demo", "display_name": "Demo", "is_project_admin": True}], "is_admin": False})
    info = router.get(f"{BASE}/v1/info").respond(json={"message": "Codemie", "version": "1.0"})
    client = make_client()
    page = client.list_assistants(filters={"project": "demo"}, per_page=5)
    assert page.items[0].slug == "demo-assistant" and page.total == 1
    assert dict(listing.calls.last.request.url.params) == {"scope": "visible_to_user", "minimal_response": "false", "page": "0", "per_page": "5", "filters": '{"project": "demo"}'}
    assert client.get_assistant(AID).raw["system_prompt"] == "be nice"
    assert client.list_models()[0].default is True
    user = client.get_user()
    assert user.projects[0].is_project_admin and user.username == "demo"
    assert client.info()["message"] == "Codemie"
    assert "authorization" not in info.calls.last.request.headers


def test_from_target_logs_in_at_the_targets_keycloak(router, transport) -> None:
    target = mock_target("http://mock.test")
    tokens = router.post(target.keycloak.token_url).respond(json={"access_token": "tok-from-target-1", "expires_in": 300})
    router.get("http://mock.test/code-assistant-api/v1/user").respond(json={"user_id": "u"})
    with CodemieClient.from_target(target, transport=transport) as client:
        assert client.get_user().user_id == "u"
    assert tokens.call_count == 1


# -- every error status on every method family -------------------------------------------------------------------

def codemie_error(status: int) -> dict[str, Any]:
    if status == 422:
        return {"error": {"message": "history[0].role: Input should be 'User' or 'Assistant'", "details": [{"loc": ["body", "history", 0, "role"], "msg": "bad"}]}}
    return {"error": {"message": f"message {status}", "details": f"details {status}", "help": f"help {status}"}}


FAMILIES: dict[str, tuple[str, str, Callable[[CodemieClient], Any], bool]] = {
    # name: (method, url, call, retried on 429/5xx)
    "ask": ("POST", ASK, lambda c: c.ask(AID, "hi"), False),
    "ask_slug": ("POST", ASK_SLUG, lambda c: c.ask_slug("demo-assistant", "hi"), False),
    "stream": ("POST", ASK, lambda c: c.stream(AID, "hi").__enter__(), False),
    "list_assistants": ("GET", f"{BASE}/v1/assistants", lambda c: c.list_assistants(), True),
    "get_assistant": ("GET", f"{BASE}/v1/assistants/id/{AID}", lambda c: c.get_assistant(AID), True),
    "list_models": ("GET", f"{BASE}/v1/llm_models", lambda c: c.list_models(), True),
    "get_user": ("GET", f"{BASE}/v1/user", lambda c: c.get_user(), True),
}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("status", STATUSES)
def test_every_error_status_on_every_method(router, make_client, sleeper, status: int, family: str) -> None:
    method, url, call, retried = FAMILIES[family]
    token_route(router)
    body = codemie_error(status)
    route = router.request(method, url).respond(status, json=body, headers={"x-correlation-id": "corr-9"})
    with pytest.raises(errors.HTTPError) as info:
        call(make_client())
    exc = info.value
    assert type(exc) is CLASSES[status]
    assert exc.status == status and exc.service == "codemie" and exc.request_id == "corr-9"
    assert exc.message == body["error"]["message"] and exc.details == body["error"]["details"]
    assert exc.help == body["error"].get("help") and exc.body == body and exc.method == method
    attempts = 4 if retried and status in RETRIED else 1
    assert route.call_count == attempts == exc.attempts and len(sleeper.delays) == attempts - 1
    assert_no_secret(exc, PASSWORD, "cm-access-001-token", "cm-refresh-001-token")


def test_fastapi_default_404_and_retry_after_on_reads(router, make_client, sleeper) -> None:
    token_route(router)
    router.get(f"{BASE}/v1/assistants/id/nope").respond(404, json={"detail": "Not Found"})
    route = router.get(f"{BASE}/v1/user").mock(side_effect=[
        httpx.Response(503, json=codemie_error(503), headers={"Retry-After": "2"}),
        httpx.Response(200, json={"user_id": "u"}),
    ])
    client = make_client(retry=RetryPolicy(max_attempts=2))
    with pytest.raises(errors.NotFoundError) as info:
        client.get_assistant("nope")
    assert info.value.message == "Not Found"
    assert client.get_user().user_id == "u"
    assert route.call_count == 2 and sleeper.delays == [2.0]


def test_client_repr_shows_no_secret(router, make_client) -> None:
    shown = repr(make_client())
    assert PASSWORD not in shown and "codemie.test" in shown


# -- the two delta styles of the real server: thought deltas (the default agent) and generated_chunk deltas ----

THOUGHT_ID = "4a080b14-9ddf-45b8-92c7-47d68705397d"


def validate(stream: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    validator = StreamValidator(**options)
    for i, obj in enumerate(stream):
        validator.add(obj, i)
    return validator.finish(len(stream))


def thought_chunk(message: str, thought_id: str = THOUGHT_ID, **thought: Any) -> dict[str, Any]:
    """A progress chunk of the default agent: no generated_chunk, the piece in the thought's message."""
    body = {"id": thought_id, "parent_id": None, "metadata": {}, "in_progress": True, "input_text": "",
            "message": message, "author_type": "Tool", "author_name": "Codemie Thoughts", "output_format": "text",
            "error": False, "interrupted": False, "aborted": False, "children": [], **thought}
    return {**chunk(None, thought=body), "generated_chunk": None, "success": None}  # type: ignore[arg-type]


def final_chunk(generated: str, **extra: Any) -> dict[str, Any]:
    return {**chunk("", generated=generated, last=True, debug={}), "success": None, **extra}


PIECES = ["Hello ", "from ", "the ", "mock. ", "You ", "asked: ", "hi"]
THOUGHT_STREAM = [*(thought_chunk(p) for p in PIECES), final_chunk("".join(PIECES))]


def test_a_thought_stream_is_read_and_its_text_is_the_thought_messages(router, make_client) -> None:
    token_route(router)
    router.post(ASK).mock(side_effect=stream_response(ndjson(THOUGHT_STREAM), size=50))
    with make_client().stream(AID, "hi") as chunks:
        seen = list(chunks)
        result = chunks.result()
    assert [c.text for c in seen[:-1]] == PIECES and all(c.delta == "" for c in seen)
    assert seen[0].thought is not None and seen[0].thought["id"] == THOUGHT_ID and seen[-1].thought is None
    assert result.style == "thought" and result.text == result.generated == "".join(PIECES)
    assert result.ttft is not None and result.ttft == result.ttfc  # the first piece carries text
    assert result.chunks_per_second is not None and result.chunks_per_second > 0


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        ([*THOUGHT_STREAM[:-1], final_chunk("Hello from somewhere else")], "concatenated thought messages"),
        ([thought_chunk("Hel"), chunk("lo"), final_chunk("Help")], "concatenated generated_chunk deltas"),
        ([*THOUGHT_STREAM, chunk("late")], "after the terminal chunk"),
        (THOUGHT_STREAM[:-1], "without a terminal"),
        ([thought_chunk("a"), {**thought_chunk("b"), "last": "no"}, final_chunk("ab")], "not a boolean"),
    ],
)
def test_thought_stream_rules(stream: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(errors.StreamViolation, match=message):
        validate(stream)


@pytest.mark.parametrize(
    ("stream", "structured"),
    [
        # tool calls: several thoughts (the tool's output, another LLM run): their text is not the answer
        ([thought_chunk("calling the tool"), thought_chunk("tool output", "tool-1"), thought_chunk("The answer", "t2"),
          final_chunk("The answer")], False),
        # a structured answer: generated is the JSON text of the object, not the thought text
        ([thought_chunk("thinking"), final_chunk('{"answer": "x"}')], True),
        # a model that streams no token: only the final chunk carries the text
        ([thought_chunk(""), thought_chunk("", in_progress=False), final_chunk("Hello")], False),
        ([final_chunk("Hello")], False),
        # an answer that failed after streaming started: the final text is the error
        ([thought_chunk("Hel"), final_chunk("LLM error", execution_error="stacktrace")], False),
        # the backend escapes "}{" inside each piece for its web UI
        ([chunk('{"a": 1}_{"b": 2}'), final_chunk('{"a": 1}{"b": 2}')], False),
    ],
)
def test_the_final_text_is_compared_only_where_the_facts_say_it_is_the_streamed_text(
        stream: list[dict[str, Any]], structured: bool) -> None:
    assert validate(stream, structured=structured)["last"] is True


def test_the_include_tool_errors_chunk_may_be_absent_and_is_tolerated_when_present() -> None:
    for stream in (THOUGHT_STREAM, [*THOUGHT_STREAM, final_chunk(None, tool_errors=[])]):  # type: ignore[arg-type]
        validator = StreamValidator(include_tool_errors=True)
        for obj in stream:
            validator.add(obj)
        validator.finish()
        assert (validator.extra_final is not None) == (len(stream) > len(THOUGHT_STREAM))


def test_time_to_first_answer_text_skips_chunks_without_text(router, make_client) -> None:
    token_route(router)
    stream = [thought_chunk(""), *THOUGHT_STREAM]  # the LLM run is announced by an empty thought first
    router.post(ASK).mock(side_effect=stream_response(ndjson(stream), size=1))
    with make_client().stream(AID, "hi") as chunks:
        result = chunks.result()
    assert result.ttft is not None and result.ttft > result.ttfc
    assert result.ttft == result.chunks[1].arrived_at - result.sent_at


def test_carries_text() -> None:
    assert carries_text(thought_chunk("x")) and carries_text(chunk("x")) and carries_text(final_chunk("x"))
    assert not carries_text(thought_chunk("")) and not carries_text(chunk("")) and not carries_text(final_chunk(""))
    assert not carries_text({**chunk(""), "generated": "not final yet"})


def test_chunks_per_second() -> None:
    assert chunks_per_second(1.0, 1.5, 11) == pytest.approx(20.0)
    assert chunks_per_second(1.0, 1.0, 3) is None and chunks_per_second(1.0, 2.0, 1) is None


def test_structured_stream_answer_is_parsed_from_its_json_text(router, make_client) -> None:
    token_route(router)
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    text = json.dumps({"answer": "x"})
    stream = [thought_chunk(text[:5]), thought_chunk(text[5:]), final_chunk(text)]
    route = router.post(ASK).mock(side_effect=stream_response(ndjson(stream)))
    with make_client().stream(AID, "hi", output_schema=schema) as chunks:
        result = chunks.result()
    assert result.structured == {"answer": "x"}
    assert json.loads(route.calls.last.request.content)["output_schema"] == schema
    router.post(ASK).mock(side_effect=stream_response(ndjson([final_chunk("plain prose")])))
    with make_client().stream(AID, "hi") as chunks, pytest.raises(errors.StreamViolation, match="JSON text"):
        _ = chunks.result().structured


@pytest.mark.parametrize(
    ("body", "structured"),
    [
        ({"output_schema": {"type": "object", "properties": {}}}, True),
        ({"output_schema": {}}, False),  # an empty schema is ignored by the server
        ({"outputSchema": {}, "output_schema": {"type": "object"}}, False),  # camelCase wins
        ({"outputSchema": {"type": "object"}, "output_schema": None}, True),
        ({"text": "hi"}, False),
    ],
)
def test_asks_structured_reads_the_body_as_the_server_does(body: dict[str, Any], structured: bool) -> None:
    assert asks_structured(body) is structured


def test_history_items_may_omit_the_message(router, make_client) -> None:
    token_route(router)
    route = router.post(ASK).respond(json={"generated": "ok", "timeElapsed": 0.1, "tokensUsed": None,
                                           "thoughts": None, "taskId": None, "success": True, "agentError": None,
                                           "toolErrors": None})
    make_client().ask(AID, "hi", history=[{"role": "User"}, {"role": "Assistant", "message": None}])
    assert json.loads(route.calls.last.request.content)["history"] == [{"role": "User"},
                                                                       {"role": "Assistant", "message": None}]
