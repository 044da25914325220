"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) with the plots.

Sections: verdict banner; gate checks; the streamed-answer figures (TTFC, time to first answer text, gaps, chunk
rate); for sweeps the capacity, latency against load and the per-level table;
latency percentiles per metric (p50/p90/p95/p99, baseline bars beside the current ones); the time-to-first-chunk
distribution (histogram and CDF from the raw samples); p50/p95 over time per window and requests/s and failures/s
over time, with ramp/step/level boundaries marked; users over time (and stopped users, the open model's arrivals);
per-phase results; the history trend; requests, failures and contract results as tables.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Final

from apigate.gate import GateResult, Verdict
from apigate.history import HistoryRun
from apigate.loadsummary import LoadDetails, held_problems, load_details
from apigate.report import svg
from apigate.report._common import delta, ms, redact_markup, run_line, verdict_title
from apigate.summary import ContractFinding, Summary
from apigate.verdict import Severity

__all__ = ["render_html"]

TTFC: Final = "codemie.stream.ttfc"
_PCTS: Final = ("p50", "p90", "p95", "p99")
_CSS: Final = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f3f4f6;
       color: #111827; font-size: 14px; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px; }
.banner { border-radius: 10px; padding: 16px 20px; color: white; background: #4b5563; }
.banner.ok { background: #15803d; } .banner.bad { background: #b91c1c; }
.banner p { margin: 2px 0; opacity: .95; }
.card { background: white; border-radius: 10px; padding: 14px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 12px; }
.grid .card { padding: 6px; } .grid.wide { grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); }
svg.chart { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; background: white; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { background: #f9fafb; font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #15803d; font-weight: 600; } .fail { color: #b91c1c; font-weight: 600; } .skip { color: #6b7280; }
.note { color: #4b5563; font-size: 13px; } code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; }
pre { white-space: pre-wrap; word-break: break-all; background: #f9fafb; padding: 8px; border-radius: 6px; }
details > summary { cursor: pointer; color: #374151; margin: 8px 0; }
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; cells are already-escaped HTML."""
    head = "".join(f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>" for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f'<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _gate_rows(verdicts: Sequence[Verdict]) -> list[list[str]]:
    return [[f'<span class="{v.status}">{v.status.upper() if v.status != "skip" else "skip"}</span>', escape(v.name),
             escape(v.message)] for v in verdicts]


def _gate_section(gate: GateResult) -> str:
    """Failed checks in a table; the passing and skipped ones folded away below it (no script needed)."""
    header = ["result", "check", "detail"]
    failed = [v for v in gate.verdicts if v.status == "fail"]
    rest = [v for v in gate.verdicts if v.status == "pass"] + [v for v in gate.verdicts if v.status == "skip"]
    parts = [_table(header, _gate_rows(failed))] if failed else ['<p class="pass">Every check passed.</p>']
    if rest:
        passed = sum(1 for v in rest if v.status == "pass")
        skipped = len(rest) - passed
        label = f"{passed} passing check{'s' if passed != 1 else ''}" + (f", {skipped} skipped" if skipped else "")
        parts.append(f"<details><summary>{label}</summary>{_table(header, _gate_rows(rest))}</details>")
    parts += [f'<p class="note">{escape(n)}</p>' for n in gate.notes]
    return f'<h2>Gate</h2><div class="card">{"".join(parts)}</div>'


def _percentile_section(summary: Summary, baseline: Summary | None) -> str:
    panels = []
    for name, m in summary.metrics.items():
        if m.count == 0:
            continue
        series = [svg.Series("current", [m.stat(p) or 0.0 for p in _PCTS], svg.CURRENT)]
        b = baseline.metrics.get(name) if baseline is not None else None
        if b is not None and b.count:
            series.insert(0, svg.Series("baseline", [b.stat(p) or 0.0 for p in _PCTS], svg.BASELINE))
        title = f"{name} (n={m.count:,})"
        panels.append(f'<div class="card">{svg.grouped_bars(_PCTS, series, title=title, unit=m.unit)}</div>')
    if not panels:
        return ""
    legend = " Grey bars: the baseline." if baseline is not None else ""
    return ('<h2>Latency percentiles</h2><p class="note">From the raw samples; milliseconds unless the axis says otherwise.' + legend + "</p>"
            f'<div class="grid">{"".join(panels)}</div>')


def _ttfc_section(summary: Summary, baseline: Summary | None) -> str:
    if TTFC not in summary.metrics:
        return ""
    current = summary.samples_of(TTFC)
    if current is None:
        why = summary.samples_note or "no raw samples"
        return f'<h2>Time to first chunk</h2><p class="note">No distribution plot: {escape(why)}.</p>'
    series = [svg.Series("current", current, svg.CURRENT)]
    base = baseline.samples_of(TTFC) if baseline is not None else None
    if base is not None:
        series.insert(0, svg.Series("baseline", base, svg.BASELINE))
    m = summary.metrics[TTFC]
    markers = [(f"p{p[1:]} {ms(m.stat(p))}", m.stat(p) or 0.0, "#1e3a8a") for p in ("p50", "p95")]
    hist = svg.histogram(series, title=f"{TTFC} — histogram of {len(current):,} samples", markers=markers, width=560)
    cdf = svg.cdf_chart(series, title=f"{TTFC} — cumulative distribution", width=560)
    return (f'<h2>Time to first chunk</h2><div class="grid wide"><div class="card">{hist}</div>'
            f'<div class="card">{cdf}</div></div>')


def _stream_section(summary: Summary) -> str:
    """The streamed-answer figures side by side: TTFC, time to first answer text, gaps, chunk rate, total."""
    streams = summary.stream_metrics()
    if not streams:
        return ""
    rows = [[escape(what), f"<code>{escape(m.name)}</code>", f"{m.count:,}", ms(m.p50), ms(m.p95), ms(m.p99),
             escape(m.unit)] for what, m in streams]
    return "<h2>Streamed answers</h2>" + _table(["figure", "metric", "n", "p50", "p95", "p99", "unit"], rows,
                                                numeric=(2, 3, 4, 5))


def _timeline_section(summary: Summary) -> str:
    if not summary.timeline:
        return ""
    xs = [float(t) for t, _, _ in summary.timeline]
    chart = svg.line_chart(
        xs,
        [svg.Series("requests/s", [float(r) for _, r, _ in summary.timeline], svg.CURRENT)],
        bars=svg.Series("failures/s", [float(f) for _, _, f in summary.timeline], svg.FAILURE),
        title="Requests and failures per second",
        x_label="seconds since start",
        marks=_phase_marks(load_details(summary)),
        width=1100,
        height=260,
    )
    total_failures = sum(f for _, _, f in summary.timeline)
    note = f'<p class="note">{total_failures:,} failed requests in total.</p>'
    return f'<h2>Throughput over time</h2><div class="card">{chart}{note}</div>'


def _history_section(summary: Summary, history: Sequence[HistoryRun]) -> str:
    if not history:
        return ""
    names = [n for n in summary.metrics if any(n in r.metrics for r in history)]
    if not names:
        names = list(dict.fromkeys(n for r in history for n in r.metrics))
    colors = [svg.PASS if r.passed else svg.FAILURE for r in history]
    labels = [f"#{r.id}" for r in history]
    xs = [float(i) for i in range(len(history))]
    panels = []
    for name in names:
        series = [
            svg.Series(stat, [float(v) if (m := r.metrics.get(name)) and (v := m.stat(stat)) is not None
                              else float("nan") for r in history], color)
            for stat, color in (("p50", svg.BASELINE), ("p95", svg.CURRENT))
        ]
        chart = svg.line_chart(xs, series, title=f"{name} — p50 and p95 per run", unit="ms", x_tick_labels=labels,
                               point_colors=colors, width=560, height=220)
        panels.append(f'<div class="card">{chart}</div>')
    return ('<h2>History</h2><p class="note">Recorded runs, oldest first; dots are green for passing runs, red for '
            f'failing ones.</p><div class="grid wide">'
            f'{"".join(panels)}</div>')


def _metrics_table(summary: Summary, baseline: Summary | None) -> str:
    if not summary.metrics:
        return ""
    header = ["metric", "n", "min", "mean", "p50", "p90", "p95", "p99", "max"]
    rows = []
    for name, m in summary.metrics.items():
        if m.unit != "ms":  # counts and rates: in the streamed-answers table
            continue
        rows.append([escape(name), f"{m.count:,}", *(ms(m.stat(s)) for s in header[2:])])
        b = baseline.metrics.get(name) if baseline is not None else None
        if b is not None:
            rows.append(['<span class="skip">baseline</span>', f"{b.count:,}", *(ms(b.stat(s)) for s in header[2:])])
            rows.append(['<span class="skip">change</span>', "",
                         *(escape(delta(m.stat(s), b.stat(s))) for s in header[2:])])
    return f"<h2>Latency table (ms)</h2>{_table(header, rows, numeric=range(1, 9))}"


def _requests_section(summary: Summary) -> str:
    parts = []
    if summary.requests:
        rows = [[escape(r.name), f"{r.count:,}", f"{r.failures:,}", f"{r.failure_rate * 100:.2f}%", f"{r.rps:.1f}"]
                for r in summary.requests.values()]
        parts.append("<h2>Requests</h2>" + _table(["request", "count", "failures", "failure rate", "req/s"], rows,
                                                  numeric=(1, 2, 3, 4)))
    if summary.failures:
        rows = [[escape(f.name), escape(f.reason), f"{f.count:,}"] for f in summary.failures]
        parts.append("<h2>Failures by reason</h2>" + _table(["request", "reason", "count"], rows, numeric=(2,)))
    return "".join(parts)


_FINDING_SECTIONS: Final = (
    ("Contract warnings", "Assumed constraints and HTTP-layer answers: they fail only a --strict run.", "warnings"),
    ("Known failures", "Accepted by the accept file: shown, not failing.", "known"),
    ("Accept entries that matched nothing", "Fixed: remove them from the accept file. Expired: they fail.",
     "accept_entries"),
)


def _finding_cards(api: str, findings: Sequence[ContractFinding]) -> list[str]:
    out = []
    for f in findings:
        curl = f"<pre>{escape(f.curl)}</pre>" if f.curl else ""
        note = f'<p class="note">{escape(f.note)}</p>' if f.note else ""
        label = "" if f.severity is Severity.FAILURE else f'<span class="skip">{escape(f.severity.label)}</span> '
        out.append(f'<div class="card" style="margin-top:8px">{label}<b>{escape(api)}</b> '
                   f"<code>{escape(f.operation)}</code> — {escape(f.check)}: {escape(f.reason)}{note}{curl}</div>")
    return out


def _contract_section(summary: Summary) -> str:
    if summary.contract is None:
        return ""
    rows = [[escape(a.api), '<span class="pass">passed</span>' if a.passed else '<span class="fail">failed</span>',
             f"{a.checks:,}", str(len(a.failures)), str(len(a.warnings)), str(len(a.known)),
             "" if a.seed is None else str(a.seed)] for a in summary.contract.values()]
    out = ["<h2>Contract</h2>",
           _table(["API", "result", "checks", "failures", "warnings", "known", "seed"], rows, numeric=(2, 3, 4, 5))]
    for api in summary.contract.values():
        out += _finding_cards(api.api, api.failures)
    for title, note, attribute in _FINDING_SECTIONS:
        cards = [card for api in summary.contract.values() for card in _finding_cards(api.api, getattr(api, attribute))]
        if cards:
            out.append(f'<h2>{escape(title)}</h2><p class="note">{escape(note)}</p>' + "".join(cards))
    return "".join(out)


# ---- load over time, phases, sweeps ------------------------------------------------------------------------------
P50_COLOR: Final = "#93c5fd"


def _phase_marks(details: LoadDetails) -> list[tuple[float, str]]:
    """Dashed lines where each phase (ramp/step of a shape, sweep level) begins."""
    return [(p.start_s, p.label) for p in details.phases]


def _latency_over_time_section(details: LoadDetails) -> str:
    names = [m for m in details.latency if not m.endswith(".from_send")]
    if not names:
        return ""
    marks = _phase_marks(details)
    panels = []
    for name in names:
        rows = details.latency[name]
        xs = [t for t, _, _, _ in rows]
        series = [svg.Series("p50", [p50 for _, _, p50, _ in rows], P50_COLOR),
                  svg.Series("p95", [p95 for _, _, _, p95 in rows], svg.CURRENT)]
        sweep = details.sweep
        limits = [(lim.value, f"SLO {lim.stat} {lim.op} {lim.value:g}") for lim in sweep.limits_of(name)
                  if lim.op in ("<=", "<")] if sweep is not None else []
        chart = svg.line_chart(xs, series, title=f"{name} — p50 and p95 per {details.window_s:g} s", unit="ms",
                               x_label="seconds since start", marks=marks, limits=limits, width=560, height=230)
        panels.append(f'<div class="card">{chart}</div>')
    why = "each point: the requests that finished in that window"
    if details.model == "open":
        why += "; latency from each request's intended send time (open model)"
    return (f'<h2>Latency over time</h2><p class="note">{escape(why)}.'
            + (" Dashed lines: where each phase begins." if marks else "") + "</p>"
            f'<div class="grid wide">{"".join(panels)}</div>')


def _users_section(details: LoadDetails) -> str:
    users, om = details.users, details.open_model
    if users is None or not users.timeline:
        return ""
    xs = [t for t, _, _, _ in users.timeline]
    series = [svg.Series("spawned", [s for _, s, _, _ in users.timeline], svg.BASELINE),
              svg.Series("active (sending)", [a for _, _, a, _ in users.timeline], svg.PASS),
              svg.Series("starting / retrying set-up", [st for _, _, _, st in users.timeline], "#f59e0b")]
    chart = svg.line_chart(xs, series, title="Users over time", x_label="seconds since start",
                           marks=_phase_marks(details), width=1100, height=240)
    notes = []
    if users.active_fraction is not None:
        notes.append(f"{users.requested} users requested; set up and sending {users.active_fraction:.1%} of their time.")
    if om is not None:
        notes.append(f"Open model: {om.rate:g} requests/s ({escape(om.arrivals)} arrivals) sent by a pool of {om.pool} "
                     f"users: {om.sent:,} sent, {om.late:,} late by more than {om.late_after_ms:g} ms "
                     f"({om.late_no_free_user:,} for want of a free user), {om.unsent:,} never sent; worst lateness "
                     f"{ms(om.worst_lateness_ms)} ms."
                     + (f" The arrivals began {om.warm_up_s:.1f} s after the start (users spawning and set up)."
                        if om.warm_up_s is not None else ""))
    stopped = ""
    if users.stopped:
        rows = [[escape(s.user), escape(s.reason), f"{s.count:,}"] for s in users.stopped]
        stopped = "<h3>Users stopped before the end</h3>" + _table(["user", "reason", "count"], rows, numeric=(2,))
    else:
        notes.append("No user stopped before the end.")
    text = "".join(f'<p class="note">{n}</p>' for n in notes)
    problems = "".join(f'<p class="fail">Load not held: {escape(p)}</p>' for p in held_problems(details))
    return f'<h2>Users over time</h2><div class="card">{problems}{chart}{text}{stopped}</div>'


def _phases_section(details: LoadDetails) -> str:
    if not details.phases or details.sweep is not None:  # a sweep's levels have their own table
        return ""
    names = list(dict.fromkeys(m for p in details.phases for m in p.metrics if not m.endswith(".from_send")))
    header = ["phase", "from–to (s)", "req/s", "failures", *(f"{m} p50 / p95" for m in names)]
    rows = []
    for p in details.phases:
        cells = [f"{ms(p.metrics[m].get('p50'))} / {ms(p.metrics[m].get('p95'))}" if m in p.metrics else "–"
                 for m in names]
        rows.append([escape(p.label), f"{p.start_s:g}–{p.end_s:g}", f"{p.rps:.1f}", f"{p.failures:,}", *cells])
    return ("<h2>Per phase</h2><p class=\"note\">Each phase of the load shape on its own (latency in ms).</p>"
            + _table(header, rows, numeric=range(2, len(header))))


def _sweep_section(details: LoadDetails) -> str:
    sweep = details.sweep
    if sweep is None or not sweep.levels:
        return ""
    cap = sweep.capacity
    headline = f"Capacity: {cap.describe(sweep.unit)}"
    notes = [f"SLOs per level: {', '.join(sweep.slos) or 'none'}.",
             f"Each level ran {sweep.level_duration_s:g} s; goodput counts the requests that succeeded within every "
             "latency limit."]
    if sweep.stopped_early:
        notes.append(f"Stopped early: {sweep.stopped_early}.")
    levels = sweep.levels
    xs = [lv.level for lv in levels]
    metrics = [m for m in sweep.slo_metrics if any(m in lv.summary.metrics for lv in levels)]
    marks = [(cap.value, f"capacity {cap.value:g}")] if cap.value is not None else []
    dots = [svg.PASS if lv.passed else svg.FAILURE if lv.held else svg.BASELINE for lv in levels]  # grey: not held
    panels = []
    for m in metrics:
        series = [svg.Series("p50", [(lv.summary.metrics[m].p50 if m in lv.summary.metrics else None) or math.nan
                                     for lv in levels], P50_COLOR),
                  svg.Series("p95", [(lv.summary.metrics[m].p95 if m in lv.summary.metrics else None) or math.nan
                                     for lv in levels], svg.CURRENT)]
        limits = [(lim.value, f"SLO {lim.stat} {lim.op} {lim.value:g}") for lim in sweep.limits_of(m)
                  if lim.op in ("<=", "<")]
        chart = svg.line_chart(xs, series, title=f"{m} against load", unit="ms", x_label=sweep.unit, marks=marks,
                               limits=limits, point_colors=dots, mark_color=svg.PASS, width=560, height=250)
        panels.append(f'<div class="card">{chart}</div>')
    rates = [svg.Series("throughput", [lv.throughput_rps for lv in levels], svg.CURRENT),
             svg.Series("goodput", [lv.goodput_rps for lv in levels], svg.PASS)]
    if sweep.by == "rate":  # the offered load is the level itself
        rates.insert(0, svg.Series("offered", xs, svg.BASELINE))
    good = svg.line_chart(xs, rates, title="Throughput and goodput against load", unit="req/s", x_label=sweep.unit,
                          marks=marks, mark_color=svg.PASS, width=560, height=250)
    panels.append(f'<div class="card">{good}</div>')
    header = ["level", "result", "req/s", "goodput/s", "good", "failures", *(f"{m} p50 / p95 / p99" for m in metrics),
              "why it failed"]
    rows = []
    for lv in levels:
        result = ('<span class="pass">PASS</span>' if lv.passed else '<span class="fail">FAIL</span>' if lv.held
                  else '<span class="skip">not held</span>')
        label = f"{lv.level:g}" + (" <span class=\"skip\">(refined)</span>" if lv.refinement else "")
        failed = sum(r.failures for r in lv.summary.requests.values())
        cells = [" / ".join(ms(lv.summary.metrics[m].stat(s)) for s in ("p50", "p95", "p99"))
                 if m in lv.summary.metrics else "–" for m in metrics]
        rows.append([label, result, f"{lv.throughput_rps:.1f}", f"{lv.goodput_rps:.1f}", f"{lv.goodput_share:.1%}",
                     f"{failed:,}", *cells, escape("; ".join(lv.violations))])
    table = _table(header, rows, numeric=range(2, 6 + len(metrics)))
    text = "".join(f'<p class="note">{escape(n)}</p>' for n in notes)
    return (f'<h2>Sweep</h2><div class="card"><p class="capacity"><b>{escape(headline)}</b></p>{text}</div>'
            f'<div class="grid wide" style="margin-top:12px">{"".join(panels)}</div>'
            f'<h3>Per level</h3>{table}<p class="note">The percentile panels above are those of the capacity level '
            "(or of the first level when none passed); green dots passed every SLO, red ones did not.</p>")


def render_html(
    summary: Summary,
    *,
    gate: GateResult | None = None,
    baseline: Summary | None = None,
    history: Sequence[HistoryRun] = (),
) -> str:
    """The whole self-contained page (redacted)."""
    title, ok = verdict_title(summary, gate)
    state = "ok" if ok else "bad" if ok is False else ""
    target = ", ".join(f"{escape(k)} <code>{escape(v)}</code>" for k, v in summary.target.items())
    base_line = f"<p>Baseline: {escape(baseline.source)}</p>" if baseline is not None else ""
    banner = (f'<div class="banner {state}"><h1>apigate: {escape(title)}</h1><p>{escape(run_line(summary))}</p>'
              + (f"<p>Target: {target}</p>" if target else "") + base_line + "</div>")
    details = load_details(summary)
    sections = [
        banner,
        _gate_section(gate) if gate is not None else "",
        _stream_section(summary),
        _sweep_section(details),
        _percentile_section(summary, baseline),
        _ttfc_section(summary, baseline),
        _latency_over_time_section(details),
        _timeline_section(summary),
        _users_section(details),
        _phases_section(details),
        _history_section(summary, history),
        _metrics_table(summary, baseline),
        _requests_section(summary),
        _contract_section(summary),
    ]
    body = "\n".join(s for s in sections if s)
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>apigate report — {escape(summary.started_at or 'run')}</title><style>{_CSS}</style></head>\n"
        f"<body><main>\n{body}\n"
        f'<p class="note" style="margin-top:24px">Generated by apigate {escape(summary.apigate_version)} from '
        f"{escape(summary.source)}.</p></main></body></html>\n"
    )
    return redact_markup(page)
