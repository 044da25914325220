"""Streams over loopback: they really stream (first chunk read before the last is sent), on the configured
schedule, in both framings; and the stream breaks are observable."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from apigate.config import DEMO
from apigate.mocks import MockSettings, running_mock
from apigate.mocks.serve import MockServer

from ._asgi import PASSWORD_FORM, decode_ndjson, decode_sse

FIRST_MS, INTERVAL_MS, CHUNKS = 120.0, 40.0, 5


def login(server: MockServer) -> dict[str, str]:
    r = httpx.post(f"{server.urls['keycloak']}/realms/{DEMO.realm}/protocol/openid-connect/token", data=PASSWORD_FORM)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def chat_url(server: MockServer) -> str:
    return f"{server.urls['codemie']}/v1/assistants/{DEMO.assistant_id}/model"


class Arrivals:
    """Reads a streamed body, noting when each complete JSON object arrived."""

    def __init__(self, sse: bool) -> None:
        self.sse = sse
        self.buffer = b""
        self.objects: list[tuple[dict[str, Any], float]] = []

    def feed(self, data: bytes) -> None:
        self.buffer += data
        now = time.time()
        if self.sse:
            *events, self.buffer = self.buffer.split(b"\r\n\r\n")
            self.objects += [(json.loads(e.removeprefix(b"data: ")), now) for e in events]
            return
        decoder, text, i = json.JSONDecoder(), self.buffer.decode(), 0
        while i < len(text):
            try:
                obj, end = decoder.raw_decode(text, i)
            except ValueError:
                break
            self.objects.append((obj, now))
            i = end
        self.buffer = text[i:].encode()


@pytest.fixture(scope="module", params=["ndjson", "sse"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[MockServer, bool]]:
    """A mock streaming in each framing; the flag says SSE."""
    settings = MockSettings(stream_format=request.param, first_chunk_ms=FIRST_MS, chunk_interval_ms=INTERVAL_MS,
                            chunks=CHUNKS)
    with running_mock(settings) as server:
        yield server, request.param == "sse"


@pytest.mark.slow
def test_first_chunk_arrives_before_the_last_is_sent(served: tuple[MockServer, bool]) -> None:
    server, sse = served
    headers = login(server)
    arrivals = Arrivals(sse)
    with httpx.Client(timeout=5) as client:
        sent = time.time()
        with client.stream("POST", chat_url(server), json={"text": "hi", "stream": True}, headers=headers) as r:
            headers_at = time.time()
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream" if sse else "application/x-ndjson")
            for data in r.iter_raw():
                arrivals.feed(data)
    chunks = [obj for obj, _ in arrivals.objects]
    first_at = arrivals.objects[0][1]
    last_sent = chunks[-1]["x_apigate_mock"]["sent_at"]
    # headers come at once, not with the first chunk (generous bound: a busy CI box may be slow to schedule)
    assert headers_at - sent < FIRST_MS / 1000 * 0.75
    assert first_at < last_sent  # read before the terminal chunk was even written
    assert first_at - sent > FIRST_MS / 1000 * 0.95  # never early: the first chunk waited for its delay
    assert [c["x_apigate_mock"]["seq"] for c in chunks] == list(range(CHUNKS + 1))
    assert [c["last"] for c in chunks] == [False] * CHUNKS + [True]
    assert chunks[-1]["generated"] == "".join(c["thought"]["message"] for c in chunks[:-1])  # thought deltas
    assert chunks[-1]["generated_chunk"] == "" and isinstance(chunks[-1]["time_elapsed"], float)
    core = {"time_elapsed", "generated_chunk", "generated", "thought", "context", "last", "debug",
            "workflow_execution_id", "workflow_state", "execution_error", "success", "agent_error", "tool_errors",
            "error_details", "interactive_request"}
    assert all(set(c) == core | {"x_apigate_mock"} for c in chunks)


@pytest.mark.slow
def test_chunks_are_written_on_schedule(served: tuple[MockServer, bool]) -> None:
    server, sse = served
    r = httpx.post(chat_url(server), json={"text": "hi", "stream": True}, headers=login(server), timeout=5)
    chunks = decode_sse(r.content) if sse else decode_ndjson(r.content)
    received = chunks[0]["x_apigate_mock"]["received_at"]
    for k, chunk in enumerate(chunks):
        stamp = chunk["x_apigate_mock"]
        assert stamp["received_at"] == received
        due = (FIRST_MS + k * INTERVAL_MS) / 1000
        # never early; late by at most a scheduling hiccup (the precise timer is ~0.1 ms typically)
        assert due - 0.0005 <= stamp["sent_at"] - received < due + 0.015, (k, stamp["sent_at"] - received)
