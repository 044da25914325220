"""The streamed-answer figures — time to first chunk, time to first answer text, gaps, chunks per second — from
summary.json through the gate (a rate's limit, in its unit) to summary.md and report.html."""

from __future__ import annotations

from typing import Any

from apigate.gate import default_thresholds, evaluate, parse_thresholds
from apigate.report.html import render_html
from apigate.report.markdown import render_markdown
from apigate.summary import STREAM_METRICS, parse_summary


def _stats(p50: float, unit: str = "ms") -> dict[str, Any]:
    return {"unit": unit, "count": 40, "min": p50 * 0.9, "mean": p50, "p50": p50, "p90": p50 * 1.1,
            "p95": p50 * 1.2, "p99": p50 * 1.3, "max": p50 * 1.5}


DOCUMENT = {
    "started_at": "2026-12-04T10:00:00Z", "duration_s": 10.0,
    "metrics": {"codemie.stream.ttfc": _stats(100.0), "codemie.stream.ttft": _stats(350.0),
                "codemie.stream.inter_chunk": _stats(20.0), "codemie.stream.total": _stats(600.0),
                "codemie.stream.chunks": _stats(12.0, "chunks"), "codemie.stream.chunks_per_s": _stats(0.5, "chunks/s"),
                "codemie.chat": _stats(30.0)},
    "requests": {"codemie.stream": {"count": 40, "failures": 0, "rps": 4.0}},
}


def test_the_default_gate_limits_time_to_first_answer_text_and_the_chunk_rate() -> None:
    summary = parse_summary(DOCUMENT)
    verdicts = {v.name: v for v in evaluate(summary, default_thresholds()).verdicts}
    assert verdicts["codemie.stream.ttft.p95 <= 5000"].status == "pass"
    rate = verdicts["codemie.stream.chunks_per_s.p50 >= 1"]
    assert rate.status == "fail" and rate.message == "0.5 chunks/s: breaks the limit by 0.5 chunks/s (-50.0%)"
    custom = parse_thresholds('[limits]\n"codemie.stream.chunks_per_s.p50" = ">= 0.2"\n')
    assert {v.name: v.status for v in evaluate(summary, custom).verdicts}["codemie.stream.chunks_per_s.p50 >= 0.2"] \
        == "pass"


def test_summary_md_shows_the_stream_figures_together_and_keeps_rates_out_of_the_latency_table() -> None:
    text = render_markdown(parse_summary(DOCUMENT))
    streams = text[text.index("### Streamed answers"):text.index("### Latency (ms)")]
    assert "| time to first answer text (first token) | codemie.stream.ttft | 40 | 350 | 420 | 455 | ms |" in streams
    assert "| chunks per second of a stream | codemie.stream.chunks_per_s | 40 | 0.50 | 0.60 | 0.65 | chunks/s |" \
        in streams
    assert [line.split(" | ")[1] for line in streams.splitlines() if line.startswith("| ") and "Metric" not in line] \
        == list(STREAM_METRICS)
    latency = text[text.index("### Latency (ms)"):]
    assert "codemie.stream.ttft" in latency and "chunks_per_s" not in latency and "stream.chunks |" not in latency


def test_report_html_has_a_streamed_answers_table() -> None:
    page = render_html(parse_summary(DOCUMENT))
    section = page[page.index("<h2>Streamed answers</h2>"):]
    section = section[:section.index("<h2>", 5)]
    assert section.count("<tr>") == len(STREAM_METRICS) + 1
    assert "<code>codemie.stream.ttft</code>" in section and "chunks/s" in section
    assert "Streamed answers" not in render_html(parse_summary({**DOCUMENT, "metrics": {"codemie.chat": _stats(3)}}))
