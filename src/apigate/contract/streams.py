"""The streamed-chat contract: documented Content-Type, every chunk parses and matches the chunk schema taken from
the contract, exactly one terminal chunk, nothing after the end, final text = the streamed text (in either delta
style: ``generated_chunk`` deltas, or the default agent's thought messages as far as the facts support it).

Framing and sequence rules are the clients' (:mod:`apigate.clients.stream`); what this module adds is the contract's
side: which media types are documented for the streamed answer and the JSON schema each chunk must match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from apigate.clients.stream import StreamDecoder, StreamValidator, media_type
from apigate.errors import ContractViolation, StreamViolation

__all__ = ["ChunkMismatch", "ChunkValidator", "StreamCheck", "StreamReport"]

ChunkValidator = Callable[[dict[str, Any]], Iterable[str]]  # error messages of one chunk (empty: valid)


class ChunkMismatch(StreamViolation):
    """A chunk does not match the contract's chunk schema; ``chunk`` is the chunk (judged again against the relaxed
    contract: :mod:`apigate.contract.classify`)."""

    def __init__(self, message: str, *, offset: int, chunk: dict[str, Any], expected: Any = None,
                 actual: Any = None) -> None:
        super().__init__(message, offset=offset, expected=expected, actual=actual)
        self.chunk = chunk


@dataclass(frozen=True)
class StreamReport:
    chunks: int
    final: dict[str, Any]
    text: str


@dataclass(frozen=True)
class StreamCheck:
    """The stream rules of one operation: documented stream media types and a validator per media type."""

    media_types: frozenset[str]  # e.g. {"application/x-ndjson", "text/event-stream"}
    validators: dict[str, ChunkValidator]  # media type -> validator of one decoded chunk object

    def check_content_type(self, content_type: str | None) -> str:
        kind = media_type(content_type)
        if kind not in self.media_types:
            raise ContractViolation(
                "streamed answer has an undocumented Content-Type",
                expected=sorted(self.media_types),
                actual=content_type,
            )
        return kind

    def decoder(self, content_type: str | None) -> tuple[StreamDecoder, ChunkValidator]:
        kind = self.check_content_type(content_type)
        return StreamDecoder.for_content_type(kind), self.validators[kind]

    def validate_chunk(self, validator: ChunkValidator, obj: dict[str, Any], offset: int, seq: int) -> None:
        errors = list(validator(obj))
        if errors:
            raise ChunkMismatch(f"chunk #{seq} does not match the chunk schema: {errors[0]}", offset=offset,
                                chunk=obj, expected="StreamChunk", actual=_keys(obj))

    def check_body(self, content_type: str | None, body: bytes, *, include_tool_errors: bool = False,
                   structured: bool = False) -> StreamReport:
        """Validate a whole streamed body (read at once, e.g. by schemathesis). ``structured``: the ask carried an
        ``output_schema`` (see :class:`~apigate.clients.stream.StreamValidator`)."""
        decoder, validator = self.decoder(content_type)
        sequence = StreamValidator(include_tool_errors=include_tool_errors, structured=structured)
        objects = decoder.feed(body)
        decoder.close()
        for seq, (obj, offset) in enumerate(objects):
            self.validate_chunk(validator, obj, offset, seq)
            sequence.add(obj, offset)
        final = sequence.finish(len(body))
        return StreamReport(chunks=sequence.count, final=final, text=sequence.text)


def _keys(obj: dict[str, Any]) -> str:
    return "{" + ", ".join(sorted(obj)[:8]) + (", ..." if len(obj) > 8 else "") + "}"
