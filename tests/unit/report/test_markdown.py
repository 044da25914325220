from __future__ import annotations

from apigate.gate import GateResult
from apigate.report import render_markdown
from apigate.summary import Summary
from report.conftest import SECRET, check_snapshot


def test_markdown_snapshot(run: Summary, baseline: Summary, gate: GateResult) -> None:
    check_snapshot("summary.md", render_markdown(run, gate, baseline))


def test_markdown_verdict_and_tables(run: Summary, baseline: Summary, gate: GateResult) -> None:
    text = render_markdown(run, gate, baseline)
    first = text.splitlines()[0]
    assert first.startswith("## ❌ apigate: FAILED")
    assert "| ❌ | regression codemie.stream.ttfc |" in text
    assert "| ❌ | codemie.stream.ttfc.p95 <= 400 |" in text
    assert "| codemie.stream.ttfc | 1000 | 452 | 470 | 517 | +302.0 ms (+201.3%) |" in text
    assert "no terminal chunk \\| client_secret=***" in text  # table pipes escaped, secret gone
    assert SECRET not in text and "abc.def" not in text


def test_markdown_without_gate_or_baseline(baseline: Summary) -> None:
    text = render_markdown(baseline)
    assert text.startswith("## ℹ️ apigate: contract PASSED")
    assert "### Gate" not in text and "Δ p50" not in text
