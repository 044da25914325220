"""Streamed CodeMie answers: splitting a byte stream into chunk objects, and checking their sequence.

Two framings, chosen by the response's Content-Type (:meth:`StreamDecoder.for_content_type`):

* ``application/x-ndjson`` (what the real server sends; also ``application/json``, ``application/ndjson``,
  ``application/jsonl``): JSON objects written back to back, with or without whitespace/newlines between them.
  :class:`NdjsonDecoder` finds each object's end with an incremental scanner (string/escape aware, linear in the
  input however it is cut into reads), then parses the object's bytes once.
* ``text/event-stream`` (what the doc page promises): :class:`SseDecoder` — ``data:`` lines (joined with ``\\n``
  when an event has several), CRLF, LF or CR line ends, ``:`` comments, ``event``/``id``/``retry`` fields ignored,
  ``data: [DONE]`` ends the stream.

Each decoded object comes with its *end offset*: the body offset just past its last byte (ndjson: the closing
brace; SSE: the first character of the line end that dispatched the event). Malformed input raises
:class:`~apigate.errors.StreamViolation` naming the byte offset — never another exception.

:class:`StreamValidator` checks the sequence, whichever of CodeMie's two delta styles the server uses:

* ``generated_chunk`` deltas (e.g. chain agents): progress chunks carry the next piece of text in ``generated_chunk``;
* thought deltas (the default agent, what the real server sends for a plain ask): ``generated_chunk`` is null and
  each progress chunk carries a ``thought`` whose ``message`` is the next piece (one thought ``id`` across the
  pieces of one LLM run; tool calls add thoughts with other ids).

Rules of both styles: every chunk is an object, ``last`` is a boolean or null, exactly one terminal ``last: true``
chunk ends the answer and nothing follows it (with ``include_tool_errors`` one more ``last: true`` chunk whose
``generated`` is null is tolerated: the backend's code has one, the observed server never sends it). The final
``generated`` — when it is a string, the final chunk reports no error and some piece carried text (a model that
streams no token sends only the final text) — must equal the streamed text:

* ``generated_chunk`` streams: the concatenated deltas;
* thought streams: the concatenated thought messages, but only where the facts say they are the answer — every
  thought of the stream is one and the same thought (one LLM run, no tool), at least one piece carried text, and
  the ask had no ``output_schema`` (then ``generated`` is the JSON text of the structured answer instead).

The backend escapes ``}{`` as ``}_{`` inside each streamed piece (so that its web UI can split objects); a streamed
text that matches the final one once that escape is undone is equal.
"""

from __future__ import annotations

import codecs
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from apigate.errors import ConnectionLostError, StreamCutOffError, StreamViolation, TransportError

__all__ = [
    "NDJSON_TYPES",
    "SSE_TYPES",
    "Chunk",
    "ChunkStream",
    "NdjsonDecoder",
    "SseDecoder",
    "StreamDecoder",
    "StreamResult",
    "StreamValidator",
    "carries_text",
    "chunk_text",
    "chunks_per_second",
    "media_type",
]

NDJSON_TYPES: Final = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/json"}
)
SSE_TYPES: Final = frozenset({"text/event-stream"})
MAX_OBJECT_BYTES: Final = 16 * 1024 * 1024

_WS_RUN: Final = re.compile(rb"[ \t\r\n]*")
# inside an object: everything up to the next brace or unterminated string, stepping over complete strings
_SKIP: Final = re.compile(rb'(?:[^{}"]++|"(?:[^"\\]++|\\.)*+")*+', re.DOTALL)
_INSIDE: Final = re.compile(rb'["\\]')  # what matters inside a string
_EOL: Final = re.compile(rb"[\r\n]")
_DECODE_ERRORS: Final = (ValueError, RecursionError)  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors


def chunk_text(obj: dict[str, Any]) -> str:
    """The piece of answer text a progress chunk adds: its ``generated_chunk``, else its thought's ``message``."""
    delta = obj.get("generated_chunk")
    if isinstance(delta, str) and delta:
        return delta
    thought = obj.get("thought")
    if isinstance(thought, dict):
        message = thought.get("message")
        if isinstance(message, str):
            return message
    return ""


def carries_text(obj: dict[str, Any]) -> bool:
    """Whether a chunk carries answer text: a non-empty delta or thought message, or a terminal ``generated``.

    The first such chunk is what LLM benchmarks call the first token (time to first answer text, TTFT); the first
    chunk of any kind may be an empty thought that only announces the LLM run (time to first chunk, TTFC).
    """
    if chunk_text(obj):
        return True
    generated = obj.get("generated")
    return obj.get("last") is True and isinstance(generated, str | dict) and bool(generated)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One streamed chunk: the decoded object, when its last byte was read, and its end offset in the body."""

    data: dict[str, Any]
    arrived_at: float  # time.perf_counter() when the read holding the chunk's last byte returned
    offset: int

    @property
    def last(self) -> bool:
        return self.data.get("last") is True

    @property
    def delta(self) -> str:
        """The ``generated_chunk`` text delta ("" when absent or not a string)."""
        value = self.data.get("generated_chunk")
        return value if isinstance(value, str) else ""

    @property
    def thought(self) -> dict[str, Any] | None:
        """The thought update this chunk carries (the default agent streams its answer this way), if any."""
        value = self.data.get("thought")
        return value if isinstance(value, dict) else None

    @property
    def text(self) -> str:
        """The piece of answer text this chunk adds, in either delta style (see :func:`chunk_text`)."""
        return chunk_text(self.data)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class StreamDecoder:
    """Incremental decoder of a streamed body into JSON objects. Subclasses implement one framing."""

    framing: ClassVar[str] = ""

    def __init__(self) -> None:
        self.offset = 0  # body bytes fed so far
        self.done = False  # an explicit end marker (SSE [DONE]) was seen

    @staticmethod
    def for_content_type(content_type: str | None) -> StreamDecoder:
        kind = media_type(content_type)
        if kind in NDJSON_TYPES:
            return NdjsonDecoder()
        if kind in SSE_TYPES:
            return SseDecoder()
        raise StreamViolation(
            "unsupported stream Content-Type",
            offset=0,
            expected=sorted(NDJSON_TYPES | SSE_TYPES),
            actual=content_type,
        )

    def feed(self, data: bytes) -> list[tuple[dict[str, Any], int]]:
        """The objects completed by ``data``, each with its end offset."""
        raise NotImplementedError

    def close(self) -> None:
        """End of body: raise :class:`StreamViolation` when an incomplete object is left over."""
        raise NotImplementedError


class NdjsonDecoder(StreamDecoder):
    """Concatenated or newline-separated JSON objects (``{..}{..}``, ``{..}\\n{..}``).

    Inside an object one regular expression skips everything but braces, stepping over complete strings, so the
    Python loop runs once per brace. A string cut by the end of a read is continued by a linear string scanner, so
    an object cut into many reads is never re-scanned from its start.
    """

    framing = "ndjson"

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()
        self._base = 0  # body offset of _buf[0]
        self._start = 0  # index in _buf where the current object starts
        self._scan = 0  # index in _buf up to which the current object has been scanned
        self._depth = 0  # brace depth; 0 = between objects
        self._in_string = False
        self._escape = False

    def feed(self, data: bytes) -> list[tuple[dict[str, Any], int]]:
        out: list[tuple[dict[str, Any], int]] = []
        if not data:
            return out
        buf = self._buf
        buf += data
        self.offset += len(data)
        i = self._scan
        n = len(buf)
        depth = self._depth
        while i < n:
            if depth == 0:
                i = _WS_RUN.match(buf, i).end()  # type: ignore[union-attr]  # always matches
                if i == n:
                    break
                if buf[i] != 0x7B:  # "{"
                    raise StreamViolation(
                        "expected a JSON object", offset=self._base + i, expected="'{'", actual=_show(buf[i : i + 20])
                    )
                self._start = i
                depth = 1
                i += 1
                continue
            if self._in_string:
                if self._escape:
                    self._escape = False
                    i += 1
                    continue
                m = _INSIDE.search(buf, i)
                if m is None:
                    i = n
                    break
                i = m.end()
                if buf[m.start()] == 0x5C:  # backslash
                    self._escape = True
                else:
                    self._in_string = False
                continue
            i = _SKIP.match(buf, i).end()  # type: ignore[union-attr]  # always matches
            if i == n:
                break
            ch = buf[i]
            i += 1
            if ch == 0x7B:
                depth += 1
            elif ch == 0x7D:
                depth -= 1
                if depth == 0:
                    out.append((self._parse(bytes(buf[self._start : i]), self._base + self._start), self._base + i))
            else:  # a string that does not end in this buffer
                self._in_string = True
        self._depth = depth
        # drop what is consumed: everything before the current object (or all, between objects)
        keep = self._start if depth else i
        if keep:
            del buf[:keep]
            self._base += keep
            i -= keep
            self._start = 0
        self._scan = i
        if depth and len(buf) > MAX_OBJECT_BYTES:
            raise StreamViolation(
                "JSON object too large", offset=self._base, expected=MAX_OBJECT_BYTES, actual=len(buf)
            )
        return out

    def _parse(self, raw: bytes, start: int) -> dict[str, Any]:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StreamViolation(
                "invalid UTF-8 in a chunk", offset=start + exc.start, expected="UTF-8", actual=_show(raw)
            ) from None
        try:
            obj = json.loads(text)
        except _DECODE_ERRORS as exc:
            pos = getattr(exc, "pos", 0) or 0
            raise StreamViolation(
                f"malformed JSON chunk: {getattr(exc, 'msg', type(exc).__name__)}",
                offset=start + len(text[:pos].encode("utf-8")),
                expected="a JSON object",
                actual=_show(raw),
            ) from None
        if not isinstance(obj, dict):  # pragma: no cover - the scanner only cuts {...}
            raise StreamViolation("expected a JSON object", offset=start, expected="object", actual=_show(raw))
        return obj

    def close(self) -> None:
        rest = bytes(self._buf)
        if self._depth or rest.strip():
            raise StreamViolation(
                "stream ended inside a JSON object", offset=self.offset, expected="'}'", actual=_show(rest[-40:])
            )


class SseDecoder(StreamDecoder):
    """Server-Sent Events whose ``data`` is one JSON object per event (``[DONE]`` ends the stream)."""

    framing = "sse"

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()
        self._base = 0  # body offset of _buf[0]
        self._skip_lf = False  # the previous read ended with CR: a leading LF belongs to it
        self._data: list[str] = []
        self._data_start = -1  # body offset of the event's first data line
        self._first = True
        self._searched = 0  # bytes at the start of _buf known to hold no line end (a long line is scanned once)

    def feed(self, data: bytes) -> list[tuple[dict[str, Any], int]]:
        out: list[tuple[dict[str, Any], int]] = []
        if not data:
            return out
        self.offset += len(data)
        buf = self._buf
        buf += data
        pos = 0
        if self._skip_lf:
            self._skip_lf = False
            if buf[0] == 0x0A:
                pos = 1
        if self._first and len(buf) - pos >= 3:
            self._first = False
            if buf[pos : pos + 3] == codecs.BOM_UTF8:
                pos += 3
        n = len(buf)
        search_from = max(pos, self._searched)
        while pos < n:
            if self._first:  # fewer than 3 bytes so far: wait for a possible BOM to complete
                break
            m = _EOL.search(buf, max(pos, search_from))
            if m is None:
                break
            end = m.start()
            after = end + 1  # a chunk's offset is just past the line end's first character
            nxt = after
            if buf[end] == 0x0D:
                if after < n:
                    if buf[after] == 0x0A:
                        nxt = after + 1
                else:
                    self._skip_lf = True
            obj = self._line(bytes(buf[pos:end]), self._base + pos)
            if obj is not None:
                out.append((obj, self._base + after))
            pos = nxt
        del buf[:pos]
        self._base += pos
        self._searched = 0 if self._first else len(buf)
        if len(buf) > MAX_OBJECT_BYTES:
            raise StreamViolation("SSE line too long", offset=self._base, expected=MAX_OBJECT_BYTES, actual=len(buf))
        return out

    def _line(self, raw: bytes, start: int) -> dict[str, Any] | None:
        if not raw:
            return self._dispatch()
        if raw[0] == 0x3A:  # ":" comment
            return None
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StreamViolation(
                "invalid UTF-8 in an SSE line", offset=start + exc.start, expected="UTF-8", actual=_show(raw)
            ) from None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            if self.done:
                raise StreamViolation("data after [DONE]", offset=start, expected="end of stream", actual=_show(raw))
            if not self._data:
                self._data_start = start
            self._data.append(value)
        # event / id / retry / unknown fields: ignored (the event type does not change how data is read)
        return None

    def _dispatch(self) -> dict[str, Any] | None:
        if not self._data:
            return None
        text = "\n".join(self._data)
        start = self._data_start
        self._data = []
        if text.strip() == "[DONE]":
            self.done = True
            return None
        try:
            obj = json.loads(text)
        except _DECODE_ERRORS as exc:
            raise StreamViolation(
                f"malformed JSON in an SSE event: {getattr(exc, 'msg', type(exc).__name__)}",
                offset=start,
                expected="a JSON object",
                actual=text[:80],
            ) from None
        if not isinstance(obj, dict):
            raise StreamViolation("SSE data is not a JSON object", offset=start, expected="object", actual=text[:80])
        return obj

    def close(self) -> None:
        if self._data:
            raise StreamViolation(
                "stream ended inside an SSE event (no blank line after its data)",
                offset=self.offset,
                expected="blank line",
                actual="EOF",
            )
        rest = bytes(self._buf)
        if rest.startswith(b"data"):
            raise StreamViolation(
                "stream ended inside an SSE data line", offset=self.offset, expected="line end", actual=_show(rest)
            )


class StreamValidator:
    """Checks a CodeMie chunk sequence. Feed every object with :meth:`add`, then call :meth:`finish`.

    ``structured``: the ask carried an ``output_schema`` (the final ``generated`` is then the JSON text of the
    structured answer, not the streamed thought text). ``check_generated=False`` skips the final-text rule.
    """

    def __init__(self, *, include_tool_errors: bool = False, check_generated: bool = True,
                 structured: bool = False) -> None:
        self.include_tool_errors = include_tool_errors
        self.check_generated = check_generated
        self.structured = structured
        self.count = 0
        self.final: dict[str, Any] | None = None
        self.extra_final: dict[str, Any] | None = None
        self._deltas: list[str] = []
        self._thoughts: list[str] = []
        self._thought_ids: set[Any] = set()

    @property
    def ended(self) -> bool:
        return self.final is not None

    @property
    def style(self) -> str:
        """``generated_chunk`` or ``thought``: how the answer text was streamed ("" when no piece carried text)."""
        if any(self._deltas):
            return "generated_chunk"
        return "thought" if any(self._thoughts) else ""

    @property
    def text(self) -> str:
        """The streamed answer text so far: the ``generated_chunk`` deltas, or the thought messages."""
        return "".join(self._thoughts if self.style == "thought" else self._deltas)

    def add(self, obj: dict[str, Any], offset: int = 0) -> None:
        self.count += 1
        if self.final is not None:
            if (
                self.include_tool_errors
                and self.extra_final is None
                and obj.get("last") is True
                and obj.get("generated") is None
            ):
                self.extra_final = obj
                return
            raise StreamViolation(
                "data after the terminal chunk", offset=offset, expected="end of stream", actual=_keys(obj)
            )
        last = obj.get("last")
        if last is True:
            self.final = obj
            self._check_final(obj, offset)
            return
        if last not in (False, None):
            raise StreamViolation("'last' is not a boolean", offset=offset, expected="true/false", actual=last)
        delta = obj.get("generated_chunk")
        if isinstance(delta, str):
            self._deltas.append(delta)
        thought = obj.get("thought")
        if isinstance(thought, dict):
            message = thought.get("message")
            self._thought_ids.add(_hashable(thought.get("id")))
            if isinstance(message, str):
                self._thoughts.append(message)

    def _check_final(self, obj: dict[str, Any], offset: int) -> None:
        if not self.check_generated:
            return
        generated = obj.get("generated")
        failed = obj.get("execution_error") or obj.get("agent_error") or obj.get("success") is False
        if not isinstance(generated, str) or failed:
            return
        style = self.style
        if not style:
            return  # no piece carried text (e.g. a model that does not stream tokens): nothing to compare
        if style == "thought" and (self.structured or len(self._thought_ids) != 1):
            return  # tool thoughts or a structured answer: the thought text is not the answer
        streamed = self.text
        if _same_text(streamed, generated):
            return
        what = "thought messages" if style == "thought" else "generated_chunk deltas"
        raise StreamViolation(
            f"final 'generated' differs from the concatenated {what}",
            offset=offset,
            expected=_clip(streamed),
            actual=_clip(generated),
        )

    def finish(self, offset: int = 0) -> dict[str, Any]:
        """The terminal chunk; :class:`StreamViolation` when the stream had none."""
        if self.final is None:
            raise StreamViolation(
                "stream ended without a terminal 'last: true' chunk",
                offset=offset,
                expected="a chunk with last: true",
                actual=f"{self.count} chunk(s), none terminal",
            )
        return self.final


def _same_text(streamed: str, generated: str) -> bool:
    """Equal, or equal once the backend's per-piece ``}{`` → ``}_{`` escape is undone."""
    return streamed == generated or ("}_{" in streamed and streamed.replace("}_{", "}{") == generated)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def chunks_per_second(first_at: float, end_at: float, chunks: int) -> float | None:
    """A stream's chunk rate: the chunks after the first, per second between the first and the terminal chunk's
    arrival (None with fewer than two chunks or no time between them)."""
    span = end_at - first_at
    return (chunks - 1) / span if chunks > 1 and span > 0 else None


@dataclass(frozen=True)
class StreamResult:
    """A complete, valid streamed answer. Times are ``time.perf_counter()`` seconds."""

    final: dict[str, Any]  # the terminal chunk
    chunks: tuple[Chunk, ...]
    sent_at: float
    size: int  # body bytes
    extra_final: dict[str, Any] | None = None  # include_tool_errors: the second last:true chunk
    text: str = ""  # the streamed answer text (generated_chunk deltas or thought messages)
    style: str = ""  # "generated_chunk", "thought", or "" when no piece carried text

    @property
    def generated(self) -> Any:
        return self.final.get("generated")

    @property
    def structured(self) -> Any:
        """The structured answer of an ask with ``output_schema``: the final ``generated`` parsed from its JSON text
        (as the real server streams it); :class:`StreamViolation` when it is not JSON."""
        generated = self.generated
        if not isinstance(generated, str):
            return generated
        try:
            return json.loads(generated)
        except ValueError:
            raise StreamViolation("final 'generated' is not the JSON text of a structured answer",
                                  offset=self.size, expected="JSON text", actual=_clip(generated)) from None

    @property
    def ttfc(self) -> float:
        """Request sent -> first complete chunk parsed."""
        return self.chunks[0].arrived_at - self.sent_at

    @property
    def ttft(self) -> float | None:
        """Request sent -> first chunk carrying answer text (:func:`carries_text`); None when none did."""
        first = next((c for c in self.chunks if carries_text(c.data)), None)
        return first.arrived_at - self.sent_at if first is not None else None

    @property
    def total(self) -> float:
        """Request sent -> terminal chunk parsed."""
        return self._end.arrived_at - self.sent_at

    @property
    def inter_chunk(self) -> tuple[float, ...]:
        """Gaps between consecutive chunks up to the terminal one."""
        end = next(i for i, c in enumerate(self.chunks) if c.last)
        return tuple(b.arrived_at - a.arrived_at for a, b in zip(self.chunks[:end], self.chunks[1 : end + 1], strict=True))

    @property
    def chunks_per_second(self) -> float | None:
        """Chunks per second up to the terminal chunk (see :func:`chunks_per_second`)."""
        end = self._end
        return chunks_per_second(self.chunks[0].arrived_at, end.arrived_at, self.chunks.index(end) + 1)

    @property
    def _end(self) -> Chunk:
        return next(c for c in self.chunks if c.last)


class ChunkStream:
    """Iterator of validated :class:`Chunk` objects read from ``reads`` (the body, in arrival-sized pieces).

    ``sent_at`` is when the request was sent; ``structured``: the ask carried an ``output_schema``. Iterating reads to the end of the body: after the terminal chunk it
    still checks that nothing follows. Raises :class:`StreamViolation` (framing or sequence, including a body that
    ends cleanly without a terminal chunk) or :class:`StreamCutOffError` (the connection was lost before the
    terminal chunk); ``reads`` is expected to raise apigate transport errors, not httpx ones.
    """

    def __init__(
        self,
        reads: Iterable[bytes],
        content_type: str | None,
        *,
        sent_at: float,
        include_tool_errors: bool = False,
        check_generated: bool = True,
        structured: bool = False,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.decoder = StreamDecoder.for_content_type(content_type)
        self.validator = StreamValidator(include_tool_errors=include_tool_errors, check_generated=check_generated,
                                         structured=structured)
        self.content_type = content_type
        self.sent_at = sent_at
        self.chunks: list[Chunk] = []
        self.complete = False
        self.error: StreamViolation | TransportError | None = None
        self._reads = reads
        self._clock = clock
        self._gen = self._run()

    @property
    def framing(self) -> str:
        return self.decoder.framing

    def __iter__(self) -> Iterator[Chunk]:
        return self

    def __next__(self) -> Chunk:
        return next(self._gen)

    def _run(self) -> Iterator[Chunk]:
        try:
            yield from self._read()
        except (StreamViolation, TransportError) as exc:
            self.error = exc
            raise

    def _read(self) -> Iterator[Chunk]:
        clock = self._clock
        decoder = self.decoder
        validator = self.validator
        try:
            for data in self._reads:
                arrived = clock()
                for obj, offset in decoder.feed(data):
                    validator.add(obj, offset)
                    chunk = Chunk(obj, arrived, offset)
                    self.chunks.append(chunk)
                    yield chunk
        except ConnectionLostError as exc:
            if validator.ended:
                raise
            raise StreamCutOffError(
                f"stream cut off after {decoder.offset} bytes and {len(self.chunks)} chunk(s), before its terminal "
                f"chunk: {exc.args[0] if exc.args else exc}",
                method=exc.method,
                url=exc.url,
                offset=decoder.offset,
            ) from exc
        decoder.close()
        validator.finish(decoder.offset)
        self.complete = True

    @property
    def ttfc(self) -> float | None:
        """Seconds from sending the request to the first complete chunk (None before it arrived)."""
        return self.chunks[0].arrived_at - self.sent_at if self.chunks else None

    def result(self) -> StreamResult:
        """Read the rest of the stream and return the validated answer."""
        for _ in self._gen:
            pass
        if self.error is not None:
            raise self.error
        final = self.validator.final
        assert final is not None  # finish() passed
        return StreamResult(
            final=final,
            chunks=tuple(self.chunks),
            sent_at=self.sent_at,
            size=self.decoder.offset,
            extra_final=self.validator.extra_final,
            text=self.validator.text,
            style=self.validator.style,
        )


def _show(raw: bytes | bytearray) -> str:
    return bytes(raw[:80]).decode("utf-8", "replace")


def _clip(text: str) -> str:
    return text if len(text) <= 120 else text[:57] + " ... " + text[-57:]


def _keys(obj: dict[str, Any]) -> str:
    return "{" + ", ".join(sorted(obj)[:8]) + ("" if len(obj) <= 8 else ", ...") + "}"
