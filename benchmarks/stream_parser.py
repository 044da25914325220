"""Throughput of the stream parser (decoder + sequence validator) for both framings.

Realistic CodeMie chunks (the 15 keys of the current server plus the mock's ``x_apigate_mock`` stamp, text deltas
of 5-60 characters, some non-ASCII), encoded as the real server does (objects back to back, no separator) and as
SSE (``data: {json}\\r\\n\\r\\n``). Each body is fed in reads of one chunk (how a live stream arrives), 4 KiB and
64 KiB; ``json.loads`` of the same objects, one by one, is printed as the floor a JSON-based parser cannot beat.

    python benchmarks/stream_parser.py [--chunks 20000] [--repeat 5]

Numbers are best-of-``repeat`` wall times on this machine; compare the ratios, not the absolute values.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from typing import Any

from apigate.clients.stream import StreamDecoder, StreamValidator

WORDS = ["the", "answer", "is", "42", "données", "über", "naïve", "函数", "code", "assistant", "stream", "{brace}", 'q"uote']


def make_chunks(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    chunks: list[dict[str, Any]] = []
    text: list[str] = []
    now = time.time()
    for i in range(n - 1):
        delta = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8)))
        text.append(delta)
        chunks.append(_chunk(delta, None, False, i, now))
    chunks.append(_chunk("", "".join(text), True, n - 1, now))
    return chunks


def _chunk(delta: str, generated: str | None, last: bool, seq: int, now: float) -> dict[str, Any]:
    return {
        "time_elapsed": 1.23 if last else None,
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
        "x_apigate_mock": {"seq": seq, "received_at": now, "sent_at": now + seq * 0.02},
    }


def encode(chunks: list[dict[str, Any]], framing: str) -> list[bytes]:
    """One bytes object per chunk, as the server writes them."""
    if framing == "ndjson":
        return [json.dumps(c, ensure_ascii=False).encode() for c in chunks]
    return [b"data: " + json.dumps(c, ensure_ascii=False).encode() + b"\r\n\r\n" for c in chunks]


def reads_of(pieces: list[bytes], size: int | None) -> list[bytes]:
    if size is None:
        return pieces
    body = b"".join(pieces)
    return [body[i : i + size] for i in range(0, len(body), size)]


def parse(content_type: str, reads: list[bytes]) -> int:
    decoder = StreamDecoder.for_content_type(content_type)
    validator = StreamValidator()
    count = 0
    for data in reads:
        for obj, offset in decoder.feed(data):
            validator.add(obj, offset)
            count += 1
    decoder.close()
    validator.finish(decoder.offset)
    return count


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    chunks = make_chunks(args.chunks)
    print(f"stream parser: {args.chunks} chunks, best of {args.repeat}")
    print(f"{'framing':<8} {'reads':<12} {'body MB':>8} {'chunks/s':>12} {'MB/s':>8} {'x json.loads':>13}")
    ndjson_pieces = encode(chunks, "ndjson")
    floor = best(lambda: [json.loads(p) for p in ndjson_pieces], args.repeat)
    for framing, content_type in (("ndjson", "application/x-ndjson"), ("sse", "text/event-stream")):
        pieces = encode(chunks, framing)
        size_mb = sum(map(len, pieces)) / 1e6
        for label, size in (("1 chunk", None), ("4 KiB", 4096), ("64 KiB", 65536)):
            reads = reads_of(pieces, size)
            assert parse(content_type, reads) == len(chunks)
            elapsed = best(lambda reads=reads, ct=content_type: parse(ct, reads), args.repeat)
            print(
                f"{framing:<8} {label:<12} {size_mb:>8.2f} {len(chunks) / elapsed:>12,.0f} {size_mb / elapsed:>8.1f}"
                f" {elapsed / floor:>12.2f}x"
            )
    print(f"{'floor':<8} {'json.loads':<12} {sum(map(len, ndjson_pieces)) / 1e6:>8.2f} {len(chunks) / floor:>12,.0f}"
          f" {sum(map(len, ndjson_pieces)) / 1e6 / floor:>8.1f} {1:>12.2f}x")


if __name__ == "__main__":
    main()
