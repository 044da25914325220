"""CodeMie's explicit checks: the streamed answer over a real socket, inputs the fuzzer may miss, unknown ids.

* ``stream.*`` — one streamed ask read incrementally: documented Content-Type, framing, every chunk against the
  contract's chunk schema, exactly one terminal chunk, final text = concatenated deltas, nothing after the end, and
  that it truly streams: the headers arrive before the first chunk (checked when the answer takes long enough to
  tell, :data:`MIN_OBSERVABLE_MS`).
* ``chat.non_ascii_text`` — a valid ask with non-ASCII text is answered 200.
* ``validation.*`` — strict types the contract states (``top_k`` integer and not null, ``stream`` a JSON boolean)
  → 422 with the envelope.
* ``chat.unknown_assistant`` / ``assistant.unknown_id`` → 404 with the envelope.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx

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


def measure_stream(client: httpx.Client, url: str, headers: Mapping[str, str], body: Mapping[str, Any],
                   rules: StreamCheck) -> dict[str, Any]:
    """Send a streamed ask and read it incrementally; raise on any stream rule; return the timings (ms)."""
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
        sequence = StreamValidator(include_tool_errors=False)
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
        sequence.finish(decoder.offset)
    finally:
        response.close()
    first = arrivals[0] if arrivals else headers_at
    return {
        "headers_ms": (headers_at - sent) * 1000,
        "first_chunk_ms": (first - sent) * 1000,
        "last_chunk_ms": ((arrivals[-1] if arrivals else headers_at) - sent) * 1000,
        "chunks": len(arrivals),
    }


def probe_codemie(prober: Prober, target: Target, contract: Contract,
                  auth_headers: Callable[[], Mapping[str, str]]) -> None:
    base = target.codemie.url
    chat_url = f"{base}/v1/assistants/{target.codemie.assistant_id}/model"
    rules = stream_check_for(contract).get(CHAT_OP)

    if rules is None:
        prober.result.record(CHAT_OP, "stream.documented", AssertionError(
            "the contract documents no streamed media type for the chat answer"))
    else:
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

    def ok_json(exchange: Exchange) -> None:
        if exchange.status != 200:
            raise ContractViolation(f"answered {exchange.status}", expected=200,
                                    actual=exchange.content[:200].decode("utf-8", "replace"))

    prober.check(CHAT_OP, "chat.non_ascii_text",
                 lambda: prober.send("POST", chat_url, headers=auth_headers(),
                                     json_body={"text": "Grüße, señor — 你好, мир 👋"}), ok_json)
    for name, body in (("validation.top_k_null", {"text": "hi", "top_k": None}),
                       ("validation.top_k_string", {"text": "hi", "top_k": "10"}),
                       ("validation.stream_integer", {"text": "hi", "stream": 0}),
                       ("validation.history_role_case", {"text": "hi", "history": [{"role": "user",
                                                                                     "message": "x"}]})):
        prober.check(CHAT_OP, name, lambda body=body: prober.send("POST", chat_url, headers=auth_headers(),  # type: ignore[misc]
                                                                  json_body=body), prober.expect_error(422))
    prober.check(CHAT_OP, "chat.unknown_assistant",
                 lambda: prober.send("POST", f"{base}/v1/assistants/{UNKNOWN_ID}/model", headers=auth_headers(),
                                     json_body={"text": "hi"}), prober.expect_error(404))
    prober.check(BY_ID_OP, "assistant.unknown_id",
                 lambda: prober.send("GET", f"{base}/v1/assistants/id/{UNKNOWN_ID}", headers=auth_headers()),
                 prober.expect_error(404))
    prober.check(CHAT_OP, "auth.before_validation",
                 lambda: prober.send("POST", chat_url, json_body={"top_k": None}), prober.expect_error(401))


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


def _check_call(prober: Prober, op: str, name: str, action: Any, curl_line: str) -> None:
    try:
        action()
    except AssertionError as exc:
        prober.result.record(op, name, exc, curl=curl_line)
        return
    prober.result.record(op, name, None)
