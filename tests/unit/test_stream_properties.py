"""Property tests of the stream parser: cutting a byte stream into reads never changes what comes out."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apigate.clients.stream import StreamDecoder, StreamValidator
from apigate.errors import StreamViolation

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12) | st.sampled_from(
    ['"', "\\", "{", "}", "}{", "\\\"}", "é€😀", "\n", "data: x", "[DONE]"]
)
scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False) | text
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=8)
objects = st.dictionaries(text, values, max_size=5)


def decode_all(content_type: str, body: bytes, cuts: list[int]) -> tuple[list[tuple[dict[str, Any], int]], bool]:
    decoder = StreamDecoder.for_content_type(content_type)
    out: list[tuple[dict[str, Any], int]] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(body)]:
        out.extend(decoder.feed(body[start:cut]))
        start = cut
    decoder.close()
    return out, decoder.done


def outcome(content_type: str, body: bytes, cuts: list[int]) -> Any:
    try:
        return decode_all(content_type, body, cuts)
    except StreamViolation as exc:
        return ("violation", exc.message, exc.offset)


@st.composite
def ndjson_bodies(draw: st.DrawFn) -> tuple[bytes, list[dict[str, Any]], list[int]]:
    objs = draw(st.lists(objects, max_size=6))
    body = b""
    ends = []
    for obj in objs:
        indent = draw(st.sampled_from([None, None, 1]))
        body += draw(st.sampled_from([b"", b"", b"\n", b" \r\n", b"\n\n"]))
        body += json.dumps(obj, ensure_ascii=draw(st.booleans()), indent=indent).encode()
        ends.append(len(body))
    body += draw(st.sampled_from([b"", b"\n"]))
    return body, objs, ends


@st.composite
def sse_bodies(draw: st.DrawFn) -> tuple[bytes, list[dict[str, Any]], bool]:
    objs = draw(st.lists(objects, max_size=6))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out = ""
    if draw(st.booleans()):
        out += ": keep-alive" + eol + eol
    for obj in objs:
        if draw(st.booleans()):
            out += "event: chunk" + eol + "id: 7" + eol
        if draw(st.booleans()):
            out += ": a comment" + eol
        dumped = json.dumps(obj, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 2])))
        for line in dumped.split("\n"):  # multi-line data is joined back with \n
            out += "data:" + draw(st.sampled_from([" ", ""])) + line + eol
        out += eol
    done = draw(st.booleans())
    if done:
        out += "data: [DONE]" + eol + eol
    return out.encode(), objs, done


cut_lists = st.lists(st.integers(min_value=0, max_value=10_000), max_size=30)


@SETTINGS
@given(sample=ndjson_bodies(), cuts=cut_lists)
def test_ndjson_any_cutting_yields_the_same_chunks(
    sample: tuple[bytes, list[dict[str, Any]], list[int]], cuts: list[int]
) -> None:
    body, objs, ends = sample
    cuts = [c % (len(body) + 1) for c in cuts]
    whole, _ = decode_all("application/x-ndjson", body, [])
    assert whole == list(zip(objs, ends, strict=True))
    assert decode_all("application/x-ndjson", body, cuts)[0] == whole
    # one byte per read: the worst cutting
    assert decode_all("application/x-ndjson", body, list(range(len(body))))[0] == whole


@SETTINGS
@given(sample=sse_bodies(), cuts=cut_lists)
def test_sse_any_cutting_yields_the_same_chunks(sample: tuple[bytes, list[dict[str, Any]], bool], cuts: list[int]) -> None:
    body, objs, done = sample
    cuts = [c % (len(body) + 1) for c in cuts]
    whole = decode_all("text/event-stream", body, [])
    assert [o for o, _ in whole[0]] == objs
    assert whole[1] is done
    assert decode_all("text/event-stream", body, cuts) == whole
    assert decode_all("text/event-stream", body, list(range(len(body)))) == whole


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    if draw(st.booleans()):
        body, _, _ = draw(ndjson_bodies())
        content_type = "application/x-ndjson"
    else:
        body, _, _ = draw(sse_bodies())
        content_type = "text/event-stream"
    data = bytearray(body)
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, len(data)))
        if op == "flip" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4) | st.sampled_from([b"{", b"}", b'"', b"\\", b"\xff"]))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 5))]
        else:
            del data[pos:]
    return content_type, bytes(data)


@SETTINGS
@given(sample=mutated(), cuts=cut_lists)
def test_malformed_input_is_a_violation_with_an_offset_never_a_crash(sample: tuple[str, bytes], cuts: list[int]) -> None:
    content_type, body = sample
    cuts = [c % (len(body) + 1) for c in cuts]
    whole = outcome(content_type, body, [])
    if isinstance(whole, tuple) and whole[0] == "violation":
        assert 0 <= whole[2] <= len(body)
    # the verdict (chunks, or the violation and its offset) does not depend on how the body was cut
    assert outcome(content_type, body, cuts) == whole


@SETTINGS
@given(content_type=st.sampled_from(["application/x-ndjson", "text/event-stream"]), body=st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(content_type: str, body: bytes) -> None:
    result = outcome(content_type, body, list(range(0, len(body), 7)))
    if isinstance(result, tuple) and result[0] == "violation":
        assert 0 <= result[2] <= len(body)
    else:
        violation = validate(result[0], len(body))
        assert violation is None or 0 <= violation.offset <= len(body)


def validate(objs: list[tuple[dict[str, Any], int]], end: int) -> StreamViolation | None:
    validator = StreamValidator()
    try:
        for obj, offset in objs:
            validator.add(obj, offset)
        validator.finish(end)
    except StreamViolation as exc:
        return exc
    return None


@SETTINGS
@given(deltas=st.lists(text, max_size=6), tamper=st.booleans())
def test_validator_accepts_consistent_sequences_and_names_the_offset_of_a_mismatch(deltas: list[str], tamper: bool) -> None:
    chunks = [{"generated_chunk": d, "generated": None, "last": False} for d in deltas]
    final = "".join(deltas) + ("!" if tamper else "")
    chunks.append({"generated_chunk": "", "generated": final, "last": True})
    offsets = list(range(10, 10 * (len(chunks) + 1), 10))
    violation = validate(list(zip(chunks, offsets, strict=True)), offsets[-1])
    if tamper and any(deltas):  # no piece carried text: nothing to compare the final text with
        assert violation is not None and violation.offset == offsets[-1]
        assert "differs" in violation.message
    else:
        assert violation is None


@SETTINGS
@given(pieces=st.lists(text, max_size=6), tamper=st.booleans(), ids=st.sampled_from([["t"], ["t", "u"]]))
def test_thought_streams_of_one_thought_must_add_up_to_the_final_text(pieces: list[str], tamper: bool,
                                                                      ids: list[str]) -> None:
    chunks = [{"generated_chunk": None, "generated": None, "last": False,
               "thought": {"id": ids[i % len(ids)], "message": p, "in_progress": True}} for i, p in enumerate(pieces)]
    final = "".join(pieces) + ("!" if tamper else "")
    chunks.append({"generated_chunk": "", "generated": final, "last": True, "thought": None})
    offsets = list(range(10, 10 * (len(chunks) + 1), 10))
    violation = validate(list(zip(chunks, offsets, strict=True)), offsets[-1])
    one_thought = len({c["thought"]["id"] for c in chunks[:-1]}) == 1
    if tamper and any(pieces) and one_thought:
        assert violation is not None and "thought messages" in violation.message
    else:  # several thoughts (tool calls): their text is not the answer, so it is not compared
        assert violation is None
