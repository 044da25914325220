"""Streamed CodeMie chat: time to first chunk and to first answer text, every gap between chunks, total time, chunk
count and rate.

Per request (``rawhttp`` reads the socket as bytes arrive; ``apigate.clients.stream`` splits and checks chunks):

* ``codemie.stream.ttfc`` — request written → the first complete chunk object arrived. Arrival is the kernel's
  receive timestamp of the packet that completed it (Linux ``SO_TIMESTAMPNS``, plain HTTP), so a busy load
  generator does not add its own scheduling delay; elsewhere (TLS, other systems) the moment the read returned.
  ``client.stream.read_lag`` is how long after arrival the first chunk was actually read (the generator's lag);
* ``codemie.stream.ttft`` — request written → the first chunk carrying answer text (a non-empty thought message or
  ``generated_chunk``, or the terminal ``generated``): what LLM benchmarks call time to first token. The first
  chunk may be an empty thought that only announces the LLM run; either delta style counts;
* ``codemie.stream.inter_chunk`` — the gap between each pair of consecutive chunks (the terminal one included);
* ``codemie.stream.total`` — request written → the terminal ``last: true`` chunk;
* ``codemie.stream.chunks`` — chunks in the answer (a count, not ms);
* ``codemie.stream.chunks_per_s`` — the stream's chunk rate: chunks after the first per second until the terminal one
  (streams of two chunks or more).

A stream that breaks its contract (bad Content-Type or framing, a sequence error, no terminal chunk, cut off)
is a failure of ``codemie.stream`` with the reason. When the server is the embedded mock, its per-chunk stamps
(``x_apigate_mock``) give the truth: ``truth.stream.ttfc`` (received → first chunk written, server clock),
``truth.stream.inter_chunk``, ``truth.stream.ttfc_error`` (client TTFC minus the server's, per request) and its two
legs, ``truth.stream.request_leg`` (request written → server received) and ``truth.stream.delivery_leg`` (first
chunk written → read by the client), from the shared host clock.
Run alone with ``locust -f load/stream.py`` or through ``apigate load --scenario stream``.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

from locust import User, task

from apigate.clients.stream import StreamDecoder, StreamValidator, carries_text, chunks_per_second
from apigate.errors import StreamViolation
from common import RECORDING, TARGET, KeycloakTokens, auth_headers, fail, sample
from rawhttp import Connection, ConnectionClosed, HTTPParseError

NAME = "codemie.stream"
BODY = json.dumps({"text": "Explain time to first chunk in three sentences.", "stream": True}).encode()
HEADERS = {"Content-Type": "application/json", "Accept": "application/x-ndjson, text/event-stream"}


class StreamFailure(Exception):
    pass


class CodemieStreamUser(User):
    """One open stream at a time per user, on a kept-alive connection."""

    weight = 1
    services = ("keycloak",)
    host = TARGET.codemie.url

    def on_start(self) -> None:
        self.auth = KeycloakTokens(headers=HEADERS)
        parts = urlsplit(TARGET.codemie.url)
        self.conn = Connection(f"{parts.scheme}://{parts.netloc}", timeout=300.0)
        self.path = f"{parts.path}/v1/assistants/{TARGET.codemie.assistant_id}/model"

    def on_stop(self) -> None:
        self.conn.close()

    def _failed(self, reason: str, started: float) -> None:
        fail(NAME, reason)
        self.environment.events.request.fire(
            request_type="STREAM", name=NAME, response_time=(time.perf_counter() - started) * 1000.0,
            response_length=0, exception=StreamFailure(reason), context={},
        )

    @task
    def stream(self) -> None:
        headers = auth_headers(self, self.auth, NAME)
        if headers is None:
            return
        started = time.perf_counter()
        try:
            resp = self.conn.request("POST", self.path, headers=headers, body=BODY)
        except (OSError, ConnectionClosed) as exc:
            self._failed(f"connection error: {type(exc).__name__}", started)
            return
        except HTTPParseError as exc:  # the connection is closed already
            self._failed(f"contract: bad HTTP response: {exc}", started)
            return
        sent = resp.sent_at
        if resp.status != 200:
            try:
                resp.read()
            except (OSError, ConnectionClosed, HTTPParseError):
                self.conn.close()
            self._failed(f"HTTP {resp.status}", sent)
            return
        arrivals: list[float] = []
        stamps: list[Any] = []
        size = 0
        end_at = 0.0
        end_count = 0  # chunks up to the terminal one
        text_at = 0.0
        read_lag = 0.0
        try:
            decoder = StreamDecoder.for_content_type(resp.content_type)
            validator = StreamValidator()
            for data, now in resp.iter_body():
                size += len(data)
                for obj, offset in decoder.feed(data):
                    validator.add(obj, offset)
                    if not arrivals:
                        read_lag = self.conn.read_lag
                    arrivals.append(now)
                    stamps.append(obj.get("x_apigate_mock"))
                    if not text_at and carries_text(obj):
                        text_at = now
                    if validator.ended and not end_at:
                        end_at, end_count = now, len(arrivals)
            decoder.close()
            validator.finish(decoder.offset)
        except StreamViolation as exc:
            self.conn.close()
            self._failed(f"contract: {exc.message}", sent)
            return
        except HTTPParseError as exc:  # bad chunked transfer coding
            self.conn.close()
            self._failed(f"contract: bad HTTP framing: {exc}", sent)
            return
        except ConnectionClosed:
            reason = "cut off after the terminal chunk" if end_at else "cut off before the terminal chunk"
            self._failed(reason, sent)
            return
        except OSError as exc:
            self.conn.close()
            self._failed(f"connection error: {type(exc).__name__}", sent)
            return
        self._record(sent, arrivals, end_at, end_count, text_at, stamps, size)
        if self.conn.kernel_stamps:
            RECORDING.add_sample("client.stream.read_lag", read_lag * 1000.0)

    def _record(self, sent: float, arrivals: list[float], end_at: float, end_count: int, text_at: float,
                stamps: list[Any], size: int) -> None:
        """One valid stream's samples (times: ``perf_counter`` seconds; ``end_count``: chunks up to the terminal)."""
        rec = RECORDING
        ttfc = (arrivals[0] - sent) * 1000.0
        total = (end_at - sent) * 1000.0
        sample("codemie.stream.ttfc", ttfc, sent)  # open model: from the intended send time too
        if text_at:
            sample("codemie.stream.ttft", (text_at - sent) * 1000.0, sent)
        sample("codemie.stream.total", total, sent)
        rec.add_sample("codemie.stream.chunks", float(len(arrivals)))
        rate = chunks_per_second(arrivals[0], end_at, end_count)
        if rate is not None:
            rec.add_sample("codemie.stream.chunks_per_s", rate)
        prev = arrivals[0]
        for t in arrivals[1:]:
            rec.add_sample("codemie.stream.inter_chunk", (t - prev) * 1000.0)
            prev = t
        rec.add_request(NAME, time.time())
        first = stamps[0]
        if isinstance(first, dict) and "sent_at" in first and "received_at" in first:
            truth = (float(first["sent_at"]) - float(first["received_at"])) * 1000.0
            rec.add_sample("truth.stream.ttfc", truth)
            rec.add_sample("truth.stream.ttfc_error", ttfc - truth)
            # where the difference goes (same host clock): request leg and first-chunk delivery leg
            offset = time.time() - time.perf_counter()
            rec.add_sample("truth.stream.request_leg", (float(first["received_at"]) - (sent + offset)) * 1000.0)
            rec.add_sample("truth.stream.delivery_leg", ((arrivals[0] + offset) - float(first["sent_at"])) * 1000.0)
            prev_s = float(first["sent_at"])
            for s in stamps[1:]:
                if isinstance(s, dict) and "sent_at" in s:
                    rec.add_sample("truth.stream.inter_chunk", (float(s["sent_at"]) - prev_s) * 1000.0)
                    prev_s = float(s["sent_at"])
        fire = self.environment.events.request.fire
        fire(request_type="STREAM", name=NAME, response_time=total, response_length=size, exception=None,
             context={})
        fire(request_type="STREAM", name="codemie.stream.ttfc", response_time=ttfc, response_length=0,
             exception=None, context={})
        if text_at:
            fire(request_type="STREAM", name="codemie.stream.ttft", response_time=(text_at - sent) * 1000.0,
                 response_length=0, exception=None, context={})
