"""CodeMie's explicit checks: the streamed answer over a real socket, inputs the fuzzer may miss, unknown ids.

* ``stream.*`` — one streamed ask read incrementally: documented Content-Type, framing, every chunk against the
  contract's chunk schema, exactly one terminal chunk, the final text = the streamed text (either delta style),
  nothing after the end, and that it truly streams: the headers arrive before the first chunk (checked when the
  answer takes long enough to tell, :data:`MIN_OBSERVABLE_MS`); a structured ask (``output_schema``) ends with the
  JSON text of an object.
* ``lax.*`` — what the real server accepts because it reads its request model as pydantic's lax mode does:
  coerced values (``"top_k": "10"``, ``"stream": 0``), history items without a message, camelCase spellings, and
  camelCase winning over snake_case.
* ``validation.*`` — the request model's rules → 422 with the envelope (``top_k`` not null, the history role's
  case, ``tool_creds: {}`` counts as missing, ``file_name`` with ``file_names``, an invalid ``output_schema``, an
  ``interactive_response`` that is not an object).
* ``body.*`` — bodies the server cannot read: malformed JSON, a JSON number, no or another Content-Type (4xx; the
  real server answers 500 to each today — genuine bugs, reported), and bytes that are not text (400 with FastAPI's
  ``{"detail": ...}``, decided before authentication).
* ``chat.*`` — a non-ASCII ask, a background task without text (200; the real server: 500), an unknown assistant.
* ``auth.before_validation`` — a decodable body with bad fields and no token → 401 (authentication before
  validation).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx

from apigate.clients.codemie import asks_structured
from apigate.clients.stream import StreamValidator
from apigate.config import Target
from apigate.contract.documents import Contract
from apigate.contract.probe import Exchange, Prober, curl
from apigate.contract.state import stream_check_for
from apigate.contract.streams import StreamCheck
from apigate.errors import ConnectError, ContractViolation, StreamViolation
from apigate.redact import redact

__all__ = ["MIN_OBSERVABLE_MS", "measure_stream", "probe_codemie"]

CHAT_OP: Final = "POST /v1/assistants/{assistant_id}/model"
BY_ID_OP: Final = "GET /v1/assistants/id/{assistant_id}"
UNKNOWN_ID: Final = "00000000-0000-4000-8000-00000000a9e7"
MIN_OBSERVABLE_MS: Final = 20.0  # an answer faster than this cannot show whether it streams
STRUCTURED_SCHEMA: Final = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
BODY_PARSE_ERROR: Final = "There was an error parsing the body"


def measure_stream(client: httpx.Client, url: str, headers: Mapping[str, str], body: Mapping[str, Any],
                   rules: StreamCheck) -> dict[str, Any]:
    """Send a streamed ask and read it incrementally; raise on any stream rule; return the timings (ms) and the
    terminal chunk (``final``)."""
    request = client.build_request("POST", url, json=dict(body), headers=dict(headers))
    sent = time.perf_counter()
    try:
        response = client.send(request, stream=True)
    except httpx.ConnectError as exc:
        raise ConnectError(f"cannot connect to {redact(url)}: {redact(str(exc))}", method="POST", url=url) from exc
    try:
        headers_at = time.perf_counter()
        if response.status_code != 200:
            response.read()
            raise ContractViolation(f"streamed ask answered {response.status_code}", expected=200,
                                    actual=response.content[:160].decode("utf-8", "replace"))
        decoder, validator = rules.decoder(response.headers.get("content-type"))
        sequence = StreamValidator(include_tool_errors=False, structured=asks_structured(body))
        arrivals: list[float] = []
        try:
            for data in response.iter_raw():
                now = time.perf_counter()
                for obj, offset in decoder.feed(data):
                    rules.validate_chunk(validator, obj, offset, sequence.count)
                    sequence.add(obj, offset)
                    arrivals.append(now)
        except httpx.TransportError as exc:
            raise StreamViolation(f"the stream broke off: {type(exc).__name__}", offset=decoder.offset,
                                  expected="a complete stream", actual=str(exc)) from exc
        decoder.close()
        final = sequence.finish(decoder.offset)
    finally:
        response.close()
    first = arrivals[0] if arrivals else headers_at
    return {
        "headers_ms": (headers_at - sent) * 1000,
        "first_chunk_ms": (first - sent) * 1000,
        "last_chunk_ms": ((arrivals[-1] if arrivals else headers_at) - sent) * 1000,
        "chunks": len(arrivals),
        "final": final,
    }


def probe_codemie(prober: Prober, target: Target, contract: Contract,
                  auth_headers: Callable[[], Mapping[str, str]]) -> None:
    base = target.codemie.url
    chat_url = f"{base}/v1/assistants/{target.codemie.assistant_id}/model"
    _probe_streams(prober, chat_url, stream_check_for(contract).get(CHAT_OP), auth_headers)

    def post(body: Any = None, *, raw: bytes | None = None, headers: Mapping[str, str] | None = None,
             authed: bool = True, url: str = chat_url) -> Callable[[], Exchange]:
        sent = {**(auth_headers() if authed else {}), **(headers or {})}
        return lambda: prober.send("POST", url, headers=sent, body=raw, json_body=None if raw is not None else body)

    prober.check(CHAT_OP, "chat.non_ascii_text", post({"text": "Grüße, señor — 你好, мир 👋"}), _plain_answer)
    prober.check(CHAT_OP, "chat.background_without_text", post({"text": None, "background_task": True}),
                 _background_answer)
    accepted: list[tuple[str, dict[str, Any]]] = [
        ("lax.top_k_text", {"text": "hi", "top_k": "10"}),
        ("lax.top_k_integral_float", {"text": "hi", "top_k": 10.0}),
        ("lax.stream_zero", {"text": "hi", "stream": 0}),
        ("lax.stream_word", {"text": "hi", "stream": "no"}),
        ("lax.optional_booleans_as_numbers", {"text": "hi", "background_task": 0, "disable_cache": 1}),
        ("lax.history_message_optional", {"text": "hi", "history": [{"role": "User"},
                                                                   {"role": "Assistant", "message": None}]}),
        ("lax.camel_case", {"text": "hi", "topK": 5, "systemPrompt": "", "conversationId": str(uuid.uuid4())}),
        ("lax.camel_case_wins", {"text": "hi", "topK": 5, "top_k": None}),
        ("lax.tools_config_camel_case", {"text": "hi", "tools_config": [{"name": "t", "toolCreds": {"k": "v"}}]}),
    ]
    for name, body in accepted:
        prober.check(CHAT_OP, name, post(body), _plain_answer)
    refused: list[tuple[str, dict[str, Any]]] = [
        ("validation.top_k_null", {"text": "hi", "top_k": None}),
        ("validation.top_k_fraction", {"text": "hi", "top_k": 10.5}),
        ("validation.history_role_case", {"text": "hi", "history": [{"role": "user", "message": "x"}]}),
        ("validation.empty_tool_creds", {"text": "hi", "tools_config": [{"name": "t", "tool_creds": {}}]}),
        ("validation.file_name_and_file_names", {"text": "hi", "file_name": "a.txt", "file_names": []}),
        ("validation.output_schema", {"text": "hi", "output_schema": {"type": 5}}),
        ("validation.interactive_response", {"text": "hi", "interactive_response": 5}),
    ]
    for name, body in refused:
        prober.check(CHAT_OP, name, post(body), prober.expect_error(422))
    json_type = {"Content-Type": "application/json"}
    prober.check(CHAT_OP, "body.malformed_json", post(raw=b'{"text": ', headers=json_type), prober.expect_error(422))
    prober.check(CHAT_OP, "body.not_an_object", post(raw=b"123", headers=json_type), prober.expect_error(422))
    unreadable = prober.expect_error((400, 415, 422))  # a client error; which one is not published
    prober.check(CHAT_OP, "body.text_plain_content_type",
                 post(raw=b'{"text": "hi"}', headers={"Content-Type": "text/plain"}), unreadable)
    prober.check(CHAT_OP, "body.no_content_type", post(raw=b'{"text": "hi"}'), unreadable)
    prober.check(CHAT_OP, "body.undecodable_before_auth",
                 post(raw=b'{"text": "\xff\xfe"}', headers=json_type, authed=False), _fastapi_parse_error)
    prober.check(CHAT_OP, "chat.unknown_assistant", post({"text": "hi"}, url=f"{base}/v1/assistants/{UNKNOWN_ID}/model"),
                 prober.expect_error(404))
    prober.check(BY_ID_OP, "assistant.unknown_id",
                 lambda: prober.send("GET", f"{base}/v1/assistants/id/{UNKNOWN_ID}", headers=auth_headers()),
                 prober.expect_error(404))
    prober.check(CHAT_OP, "auth.before_validation", post({"top_k": None}, authed=False), prober.expect_error(401))


def _probe_streams(prober: Prober, chat_url: str, rules: StreamCheck | None,
                   auth_headers: Callable[[], Mapping[str, str]]) -> None:
    if rules is None:
        prober.result.record(CHAT_OP, "stream.documented", AssertionError(
            "the contract documents no streamed media type for the chat answer"))
        return
    ask = {"text": "Stream a short answer, please.", "stream": True}
    timings: dict[str, Any] = {}

    def streamed() -> None:
        timings.update(measure_stream(prober.client, chat_url, auth_headers(), ask, rules))

    _check_call(prober, CHAT_OP, "stream.rules", streamed, curl("POST", chat_url, auth_headers(), _json(ask)))
    if timings:
        def truly_streams() -> None:
            total = timings["last_chunk_ms"] - timings["headers_ms"]
            if total < MIN_OBSERVABLE_MS:
                prober.notes.append(f"{CHAT_OP}: stream.headers_before_first_chunk not judged: the whole "
                                    f"answer took {total:.1f} ms")
                return
            gap = timings["first_chunk_ms"] - timings["headers_ms"]
            if gap < 1.0:
                raise ContractViolation(
                    "the answer does not stream: headers and the first chunk arrived together",
                    expected="headers before the first chunk",
                    actual=f"headers at {timings['headers_ms']:.1f} ms, first chunk at "
                           f"{timings['first_chunk_ms']:.1f} ms")

        _check_call(prober, CHAT_OP, "stream.headers_before_first_chunk", truly_streams,
                    curl("POST", chat_url, auth_headers(), _json(ask)))

    structured_ask = {"text": "Answer in the given structure.", "stream": True, "output_schema": STRUCTURED_SCHEMA}

    def structured() -> None:
        final = measure_stream(prober.client, chat_url, auth_headers(), structured_ask, rules)["final"]
        generated = final.get("generated")
        try:
            value = json.loads(generated) if isinstance(generated, str) else None
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise ContractViolation("a streamed structured answer does not end with the JSON text of an object",
                                    expected="generated: JSON text of an object", actual=str(generated)[:120])

    _check_call(prober, CHAT_OP, "stream.structured_output", structured,
                curl("POST", chat_url, auth_headers(), _json(structured_ask)))


def _plain_answer(exchange: Exchange) -> None:
    """200 with a JSON answer (not a stream)."""
    if exchange.status != 200:
        raise ContractViolation(f"answered {exchange.status}", expected=200,
                                actual=exchange.content[:200].decode("utf-8", "replace"))
    kind = (exchange.content_type or "").split(";", 1)[0].strip().lower()
    if kind != "application/json" or not isinstance(exchange.json(), dict):
        raise ContractViolation("the answer is not a JSON object", expected="application/json",
                                actual=exchange.content_type)


def _background_answer(exchange: Exchange) -> None:
    _plain_answer(exchange)
    task_id = exchange.json().get("taskId")
    if not isinstance(task_id, str) or not task_id:
        raise ContractViolation("a background task was answered without a taskId", expected="taskId: string",
                                actual=task_id)


def _fastapi_parse_error(exchange: Exchange) -> None:
    """400 with FastAPI's own body, before authentication (the server reads the body first)."""
    body: Any = None
    with contextlib.suppress(ValueError):
        body = json.loads(exchange.content)
    if exchange.status != 400 or not (isinstance(body, dict) and isinstance(body.get("detail"), str)):
        raise ContractViolation(f"an undecodable body without a token answered {exchange.status}",
                                expected={"status": 400, "body": {"detail": BODY_PARSE_ERROR}},
                                actual=exchange.content[:160].decode("utf-8", "replace"))


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _check_call(prober: Prober, op: str, name: str, action: Any, curl_line: str) -> None:
    try:
        action()
    except AssertionError as exc:
        prober.record(op, name, exc, curl=curl_line)  # a warning when only assumed constraints are broken
        return
    prober.result.record(op, name, None)
