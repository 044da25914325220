from __future__ import annotations

import pytest

import apigate.clients
from apigate.clients import NdjsonDecoder, SseDecoder, StreamDecoder, StreamValidator
from apigate.errors import StreamViolation


@pytest.mark.parametrize(
    ("content_type", "cls"),
    [
        ("application/x-ndjson", NdjsonDecoder),
        ("Application/X-NDJSON; charset=utf-8", NdjsonDecoder),
        ("application/json", NdjsonDecoder),
        ("text/event-stream;charset=UTF-8", SseDecoder),
    ],
)
def test_framing_is_chosen_by_content_type(content_type: str, cls: type) -> None:
    assert type(StreamDecoder.for_content_type(content_type)) is cls


@pytest.mark.parametrize("content_type", ["text/plain", "", None, "application/octet-stream"])
def test_other_content_types_are_violations(content_type: str | None) -> None:
    with pytest.raises(StreamViolation) as info:
        StreamDecoder.for_content_type(content_type)
    assert info.value.offset == 0


def test_ndjson_objects_split_and_glued_across_reads() -> None:
    decoder = NdjsonDecoder()
    assert decoder.feed(b'{"a": "}{\\"') == []
    assert decoder.feed(b'"}{"b": 1}\n{"c"') == [({"a": '}{"'}, 13), ({"b": 1}, 21)]
    assert decoder.feed(b": [1, {}]}") == [({"c": [1, {}]}, 36)]
    decoder.close()


def test_ndjson_top_level_non_object_names_its_offset() -> None:
    with pytest.raises(StreamViolation, match="expected a JSON object") as info:
        NdjsonDecoder().feed(b'{"a": 1}\n  [1]')
    assert info.value.offset == 11


def test_sse_multiline_data_comments_fields_and_done() -> None:
    decoder = SseDecoder()
    out = decoder.feed(b'\xef\xbb\xbf: hello\r\nretry: 10\r\nid: 1\r\nevent: x\r\ndata: {"a":\r\ndata:1}\r\n\r\n')
    assert out == [({"a": 1}, 63)]  # just past the CR that dispatched the event
    assert not decoder.done
    assert decoder.feed(b"data: [DONE]\n\n") == []
    assert decoder.done
    decoder.close()


def test_sse_cr_split_from_its_lf_is_one_line_end() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b'data: {"a": 1}\r') == []
    assert decoder.feed(b"\n\r") == [({"a": 1}, 17)]
    assert decoder.feed(b"\n") == []
    decoder.close()


def test_validator_rules() -> None:
    v = StreamValidator()
    v.add({"generated_chunk": "a", "last": False})
    v.add({"thought": {"id": "t", "message": "x"}, "last": None})
    with pytest.raises(StreamViolation, match="not a boolean"):
        v.add({"last": "yes"}, 9)
    v.add({"generated_chunk": "", "generated": "a", "last": True}, 20)
    assert v.ended and v.finish()["generated"] == "a"
    with pytest.raises(StreamViolation, match="after the terminal") as info:
        v.add({"last": True, "generated": None}, 30)
    assert info.value.offset == 30


def test_an_error_final_chunk_need_not_match_the_deltas() -> None:
    v = StreamValidator()
    v.add({"generated_chunk": "partial", "last": False})
    v.add({"generated": "LLM rate limit exceeded", "execution_error": "llm_error", "last": True})
    assert v.finish()["execution_error"] == "llm_error"


def test_finish_without_terminal_chunk() -> None:
    with pytest.raises(StreamViolation, match="without a terminal") as info:
        StreamValidator().finish(123)
    assert info.value.offset == 123 and "at byte 123" in str(info.value)


def test_public_names_are_all_importable() -> None:
    for name in apigate.clients.__all__:
        assert getattr(apigate.clients, name) is not None
    assert len(set(apigate.clients.__all__)) == len(apigate.clients.__all__)
