"""``summary.md``: a short Markdown verdict for a CI job summary or a pull-request comment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from apigate.gate import GateResult
from apigate.loadsummary import LoadDetails, held_problems, load_details
from apigate.redact import redact
from apigate.report._common import delta, ms, run_line, verdict_title
from apigate.summary import ApiContract, ContractFinding, Summary
from apigate.verdict import Severity

__all__ = ["render_markdown"]

_ICON = {"pass": "✅", "fail": "❌", "skip": "➖"}
_MAX_FAILURES = 10


def _cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


_CONTRACT_SECTIONS: Final[tuple[tuple[str, Callable[[ApiContract], Sequence[ContractFinding]]], ...]] = (
    ("Warnings (assumed constraints, HTTP-layer answers: they fail only a --strict run)", lambda api: api.warnings),
    ("Known failures (accepted)", lambda api: api.known),
    ("Fixed (accept entries that no longer occur: remove them)", lambda api: api.fixed),
)


def _finding(api: str, f: ContractFinding) -> str:
    note = f" — {_cell(f.note)}" if f.note else ""
    return f"**contract {_cell(api)}** `{_cell(f.operation)}` {_cell(f.check)}: {_cell(f.reason)}{note}"


def _listed(title: str, items: Sequence[str]) -> list[str]:
    if not items:
        return []
    out = ["", f"### {title}", ""]
    out += [f"- {item}" for item in items[:_MAX_FAILURES]]
    if len(items) > _MAX_FAILURES:
        out.append(f"- … and {len(items) - _MAX_FAILURES} more (see report.html / junit.xml)")
    return out


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

    lines += _load_lines(load_details(summary))

    if summary.requests:
        lines += ["", "### Requests", "", "| Request | Count | Failures | req/s |", "|---|--:|--:|--:|"]
        for r in summary.requests.values():
            rate = f" ({r.failure_rate * 100:.2f}%)" if r.failures else ""
            lines.append(f"| {_cell(r.name)} | {r.count} | {r.failures}{rate} | {r.rps:.1f} |")

    if summary.contract is not None:
        lines += ["", "### Contract", "", "| API | Result | Checks | Failures | Warnings | Known | Seed |",
                  "|---|---|--:|--:|--:|--:|--:|"]
        for api in summary.contract.values():
            seed = "" if api.seed is None else str(api.seed)
            lines.append(f"| {_cell(api.api)} | {'✅ passed' if api.passed else '❌ failed'} | {api.checks} | "
                         f"{len(api.failures)} | {len(api.warnings)} | {len(api.known)} | {seed} |")

    failures = [f"**{_cell(f.name)}**: {_cell(f.reason)} (×{f.count})" for f in summary.failures]
    if summary.contract is not None:
        failures += [_finding(api.api, f) for api in summary.contract.values() for f in api.failures]
        failures += [_finding(api.api, f) for api in summary.contract.values() for f in api.accept_entries
                     if f.severity is Severity.EXPIRED]
    lines += _listed("Failures", failures)
    if summary.contract is not None:
        for title, pick in _CONTRACT_SECTIONS:
            lines += _listed(title, [_finding(api.api, f) for api in summary.contract.values() for f in pick(api)])
    return redact("\n".join(lines)) + "\n"


def _load_lines(details: LoadDetails) -> list[str]:
    """The sweep's per-level table and capacity, a shaped run's per-phase table, users and the open model."""
    lines: list[str] = []
    sweep = details.sweep
    if sweep is not None and sweep.levels:
        metrics = [m for m in sweep.slo_metrics if any(m in lv.summary.metrics for lv in sweep.levels)]
        lines += ["", "### Sweep", "", f"**Capacity: {_cell(sweep.capacity.describe(sweep.unit))}** — SLOs: "
                  f"{_cell(', '.join(sweep.slos) or 'none')}", ""]
        lines.append(f"| {sweep.unit} | Result | req/s | goodput/s | good | " + "".join(f"{_cell(m)} p95 | " for m in metrics)
                     + "Why |")
        lines.append("|--:|---|--:|--:|--:|" + "--:|" * len(metrics) + "---|")
        for lv in sweep.levels:
            result = "✅ pass" if lv.passed else "❌ fail" if lv.held else "➖ not held"
            level = f"{lv.level:g}" + (" (refined)" if lv.refinement else "")
            p95 = "".join(f" {ms(lv.summary.metrics[m].p95) if m in lv.summary.metrics else '–'} |" for m in metrics)
            lines.append(f"| {level} | {result} | {lv.throughput_rps:.1f} | {lv.goodput_rps:.1f} | "
                         f"{lv.goodput_share:.1%} |{p95} {_cell('; '.join(lv.violations)) or '–'} |")
        if sweep.stopped_early:
            lines += ["", f"Stopped early: {_cell(sweep.stopped_early)}."]
        lines += ["", "The latency table above is the capacity level's (the first level's when none passed)."]
    elif details.phases:
        names = list(dict.fromkeys(m for p in details.phases for m in p.metrics if not m.endswith(".from_send")))
        lines += ["", "### Per phase (ms)", "", "| Phase | s | req/s | Failures | " + "".join(f"{_cell(m)} p95 | "
                                                                                      for m in names),
                  "|---|---|--:|--:|" + "--:|" * len(names)]
        for p in details.phases:
            p95 = "".join(f" {ms(p.metrics[m].get('p95')) if m in p.metrics else '–'} |" for m in names)
            lines.append(f"| {_cell(p.label)} | {p.start_s:g}–{p.end_s:g} | {p.rps:.1f} | {p.failures} |{p95}")
    users, om = details.users, details.open_model
    notes = []
    if om is not None and sweep is None:
        notes.append(f"Open model: {om.rate:g} requests/s ({om.arrivals}), pool of {om.pool} users: {om.sent} sent, "
                     f"{om.late} late (> {om.late_after_ms:g} ms), {om.unsent} never sent, worst lateness "
                     f"{om.worst_lateness_ms:.1f} ms.")
    if users is not None and sweep is None and users.active_fraction is not None:
        notes.append(f"Users: {users.requested} requested, set up and sending {users.active_fraction:.1%} of their "
                     f"time; {users.stopped_count} stopped before the end.")
    if users is not None:
        notes += [f"Stopped: {_cell(s.user)}: {_cell(s.reason)} (×{s.count})" for s in users.stopped[:_MAX_FAILURES]]
    if sweep is None:
        notes += [f"**Load not held**: {_cell(p)}" for p in held_problems(details)]
    if notes:
        lines += ["", "### Load", ""] + [f"- {n}" for n in notes]
    return lines
