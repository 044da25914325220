"""Plain text for the terminal: ``apigate history``'s table, and the contract sections of ``apigate run``."""

from __future__ import annotations

from collections.abc import Sequence

from apigate.history import HistoryRun
from apigate.redact import redact
from apigate.report._common import ms
from apigate.summary import Summary

__all__ = ["contract_sections", "history_table"]


def contract_sections(summary: Summary) -> str:
    """The contract's warnings, known failures and unmatched accept entries, one line each (empty when none)."""
    if summary.contract is None:
        return ""
    lines: list[str] = []
    for title, attribute in (("contract warnings (they fail only a --strict run)", "warnings"),
                             ("known failures (accepted)", "known"), ("accept entries that matched nothing",
                                                                     "accept_entries")):
        found = [(api.api, f) for api in summary.contract.values() for f in getattr(api, attribute)]
        if found:
            lines.append(f"{title}:")
            lines += [f"  {f.severity.value:10} {name} {f.operation} {f.check}: {f.note or f.reason}"
                      for name, f in found]
    return redact("\n".join(lines) + "\n") if lines else ""


def history_table(runs: Sequence[HistoryRun], *, metric: str | None = None) -> str:
    """One row per run (oldest first): time, label, pass/fail and p50/p95/p99 of ``metric`` — or every metric's p95."""
    if metric is not None:
        columns = [f"{metric} {s}" for s in ("p50", "p95", "p99")]

        def values(run: HistoryRun) -> list[str]:
            m = run.metrics.get(metric)
            return [ms(m.stat(s)) if m else "–" for s in ("p50", "p95", "p99")]
    else:
        names: list[str] = []
        for run in runs:
            names.extend(n for n in run.metrics if n not in names)
        columns = [f"{n} p95" for n in names]

        def values(run: HistoryRun) -> list[str]:
            return [ms(run.metrics[n].p95) if n in run.metrics else "–" for n in names]

    header = ["run", "time", "label", "result", *columns]
    rows = [[f"#{r.id}", r.started_at or r.recorded_at, r.label or "–", "pass" if r.passed else "FAIL", *values(r)]
            for r in runs]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [str(c).ljust(w) if i < 4 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    if metric is None:
        lines.append("(ms; p95 of every metric — use --metric NAME for one metric's p50/p95/p99)")
    else:
        lines.append("(ms)")
    return redact("\n".join(lines)) + "\n"
