"""``summary.md``: a short Markdown verdict for a CI job summary or a pull-request comment."""

from __future__ import annotations

from apigate.gate import GateResult
from apigate.redact import redact
from apigate.report._common import delta, ms, run_line, verdict_title
from apigate.summary import Summary

__all__ = ["render_markdown"]

_ICON = {"pass": "✅", "fail": "❌", "skip": "➖"}
_MAX_FAILURES = 10


def _cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(summary: Summary, gate: GateResult | None = None, baseline: Summary | None = None) -> str:
    """The Markdown verdict: headline, gate checks, streamed answers, latency table (with baseline deltas), requests,
    contract, failures."""
    title, ok = verdict_title(summary, gate)
    icon = "✅" if ok else "❌" if ok is False else "ℹ️"
    lines = [f"## {icon} apigate: {title}", "", run_line(summary)]
    if summary.target:
        lines += ["", "Target: " + ", ".join(f"{k} `{v}`" for k, v in summary.target.items())]
    if baseline is not None:
        lines += ["", f"Baseline: {baseline.source}"]

    if gate is not None:
        judged = [v for v in gate.verdicts if v.status != "skip"]
        failed_first = sorted(judged, key=lambda v: v.status != "fail")
        lines += ["", "### Gate", "", "| | Check | Detail |", "|---|---|---|"]
        lines += [f"| {_ICON[v.status]} | {_cell(v.name)} | {_cell(v.message)} |" for v in failed_first]
        skipped = len(gate.verdicts) - len(judged)
        if skipped:
            lines += ["", f"{skipped} check{'s' if skipped != 1 else ''} skipped (not measured or not in the baseline)."]
        lines += [f"> {_cell(note)}" for note in gate.notes]

    streams = summary.stream_metrics()
    if streams:
        lines += ["", "### Streamed answers", "", "| Figure | Metric | n | p50 | p95 | p99 | unit |",
                  "|---|---|--:|--:|--:|--:|---|"]
        lines += [f"| {_cell(what)} | {_cell(m.name)} | {m.count} | {ms(m.p50)} | {ms(m.p95)} | {ms(m.p99)} | {m.unit} |"
                  for what, m in streams]

    if summary.metrics:
        lines += ["", "### Latency (ms)", ""]
        if baseline is not None:
            lines += ["| Metric | n | p50 | p95 | p99 | Δ p50 | Δ p95 | Δ p99 |", "|---|--:|--:|--:|--:|--:|--:|--:|"]
        else:
            lines += ["| Metric | n | p50 | p95 | p99 |", "|---|--:|--:|--:|--:|"]
        for name, m in summary.metrics.items():
            if m.unit != "ms":  # counts and rates: in their own section
                continue
            row = f"| {_cell(name)} | {m.count} | {ms(m.p50)} | {ms(m.p95)} | {ms(m.p99)} |"
            if baseline is not None:
                b = baseline.metrics.get(name)
                row += "".join(f" {delta(m.stat(s), b.stat(s) if b else None)} |" for s in ("p50", "p95", "p99"))
            lines.append(row)

    if summary.requests:
        lines += ["", "### Requests", "", "| Request | Count | Failures | req/s |", "|---|--:|--:|--:|"]
        for r in summary.requests.values():
            rate = f" ({r.failure_rate * 100:.2f}%)" if r.failures else ""
            lines.append(f"| {_cell(r.name)} | {r.count} | {r.failures}{rate} | {r.rps:.1f} |")

    if summary.contract is not None:
        lines += ["", "### Contract", "", "| API | Result | Checks | Failures |", "|---|---|--:|--:|"]
        for api in summary.contract.values():
            lines.append(f"| {_cell(api.api)} | {'✅ passed' if api.passed else '❌ failed'} | {api.checks} | "
                         f"{len(api.failures)} |")

    failures = [f"**{_cell(f.name)}**: {_cell(f.reason)} (×{f.count})" for f in summary.failures]
    if summary.contract is not None:
        failures += [f"**contract {_cell(api.api)}** `{_cell(f.operation)}` {_cell(f.check)}: {_cell(f.reason)}"
                     for api in summary.contract.values() for f in api.failures]
    if failures:
        lines += ["", "### Failures", ""]
        lines += [f"- {f}" for f in failures[:_MAX_FAILURES]]
        if len(failures) > _MAX_FAILURES:
            lines.append(f"- … and {len(failures) - _MAX_FAILURES} more (see report.html / junit.xml)")
    return redact("\n".join(lines)) + "\n"
