"""The streamed CodeMie answer: really streamed, chunk by chunk, on a precise schedule, shaped as the real server's.

Chunk ``k`` (0-based, the terminal chunk included) is written at
``received + added_latency_ms + first_chunk_ms + k * chunk_interval_ms`` (``received``: when the request reached
the mock), so delays never accumulate. Every chunk carries the 15 keys of the current server plus
``x_apigate_mock: {"seq": k, "received_at": <unix>, "sent_at": <unix>}`` (``time.time()`` values).

Delta style (``MockSettings.stream_deltas``), as the real server's agents stream:

* ``thought`` (default; the real default agent): each progress chunk has ``generated_chunk: null``,
  ``generated: null`` and a ``thought`` whose ``message`` is the next word-sized piece of the answer, the same
  thought ``id`` and ``in_progress: true`` in every piece;
* ``generated_chunk``: each progress chunk carries the next piece in ``generated_chunk`` (other agent types).

Then exactly one terminal chunk: ``generated_chunk: ""``, ``generated`` = the whole answer (for an ask with
``output_schema``, the JSON text of the structured answer), ``last: true``, ``time_elapsed`` in seconds,
``debug: {}``, ``thought: null``. ``success`` is null in every chunk. No further chunk follows, also with
``include_tool_errors=true`` (the real server never sends the one its code describes).

Framing: ``application/x-ndjson`` objects back to back without a newline (the real server), or
``text/event-stream`` events ``data: {json}\\r\\n\\r\\n`` (the public doc page).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Final

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from apigate.mocks._common import abort_connection, client_gone, received_at
from apigate.mocks.settings import MockSettings
from apigate.mocks.timing import sleep_until

__all__ = ["ChatStream", "split_answer", "thought"]

CONTENT_TYPES: Final = {"ndjson": b"application/x-ndjson", "sse": b"text/event-stream; charset=utf-8"}
_WORD: Final = re.compile(r"\s*\S+\s*")


def split_answer(answer: str, parts: int | None) -> list[str]:
    """Deltas whose concatenation is ``answer``: one per word (``parts`` None, the real server's token-sized
    pieces), or exactly ``parts`` non-empty ones (padded with words when the answer is too short)."""
    if parts is None:
        return _WORD.findall(answer) or ([answer] if answer else [])
    if parts <= 0:
        return []
    words = answer.split(" ")
    while len(words) < parts:
        words.append("…")
    size, extra = divmod(len(words), parts)
    deltas, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        deltas.append(" ".join(words[start:end]) + (" " if end < len(words) else ""))
        start = end
    return deltas


def thought(thought_id: str, message: str, settings: MockSettings) -> dict[str, Any]:
    """A thought of the default agent, as the real server writes it (streamed pieces and the plain answer's).
    ``--variant independent`` writes author and format values outside the backend's enums (free strings there)."""
    other = settings.alternative("codemie.thought_values")
    return {
        "id": thought_id, "parent_id": None, "metadata": {}, "in_progress": True, "input_text": "",
        "message": message, "author_type": "Assistant" if other else "Tool", "author_name": "Codemie Thoughts",
        "output_format": "html" if other else "text", "error": False, "interrupted": False, "aborted": False,
        "children": [],
    }


def _chunk(**values: Any) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "time_elapsed": None, "generated_chunk": None, "generated": None, "thought": None, "context": None,
        "last": False, "debug": None, "workflow_execution_id": None, "workflow_state": None, "execution_error": None,
        "success": None, "agent_error": None, "tool_errors": None, "error_details": None, "interactive_request": None,
    }
    chunk.update(values)
    return chunk


class ChatStream(Response):
    """An ASGI response that writes the chunks of one streamed answer as they become due.

    ``deltas``: the pieces of the answer; ``final``: the terminal ``generated`` (their concatenation, or the JSON
    text of a structured answer); ``thought_id``: the id the thought pieces share.
    """

    def __init__(self, settings: MockSettings, deltas: list[str], *, final: str, thought_id: str, cut: bool) -> None:
        self.settings = settings
        self.deltas = deltas
        self.final = final
        self.thought_id = thought_id
        self.cut = cut
        self.status_code = 200
        self.background = None
        self.body = b""

    def plan(self) -> list[dict[str, Any]]:
        s = self.settings
        tampered = s.broken("codemie.stream.final_mismatch") or s.broken("codemie.stream.delta_mismatch")
        if s.stream_deltas == "thought" and not s.broken("codemie.stream.delta_mismatch"):
            chunks = [_chunk(thought=thought(self.thought_id, d, s)) for d in self.deltas]
        else:
            chunks = [_chunk(generated_chunk=d) for d in self.deltas]
        if s.broken("codemie.stream.no_terminal"):
            return chunks
        full = self.final + (" (edited)" if tampered else "")
        chunks.append(_chunk(generated_chunk="", generated=full, last=True, time_elapsed=0.0, debug={}))
        if s.broken("codemie.stream.after_end"):
            chunks.append(_chunk(generated_chunk="late delta"))
        return chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        s = self.settings
        sse = s.stream_format == "sse"
        content_type = b"text/plain; charset=utf-8" if s.broken("codemie.stream.content_type") else \
            CONTENT_TYPES[s.stream_format]
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", content_type), (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]})
        received_perf, received_unix = received_at(scope)
        start = received_perf + (s.added_latency_ms + s.first_chunk_ms) / 1000
        interval = s.chunk_interval_ms / 1000
        chunks = self.plan()
        cut_at = (len(self.deltas) + 1) // 2 if self.cut else -1
        for seq, chunk in enumerate(chunks):
            if seq == cut_at:
                await abort_connection(scope, reset=False)
                return
            await sleep_until(start + seq * interval)
            if client_gone(scope):
                return
            if chunk["time_elapsed"] is not None:
                chunk["time_elapsed"] = round(time.perf_counter() - received_perf, 6)
            chunk["x_apigate_mock"] = {"seq": seq, "received_at": received_unix, "sent_at": time.time()}
            data = json.dumps(chunk, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            await send({"type": "http.response.body", "body": b"data: " + data + b"\r\n\r\n" if sse else data,
                        "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
