"""Report writers: pure functions from a :class:`~apigate.summary.Summary` (plus gate verdicts, a baseline and the
history) to text, and :func:`write_report` that writes the report folder's derived files:

* ``summary.md``  — :func:`render_markdown`: the short verdict for a CI job summary or a PR comment;
* ``junit.xml``   — :func:`render_junit`: contract checks and gate verdicts as JUnit test cases;
* ``report.html`` — :func:`render_html`: one self-contained page with inline SVG plots.

(``summary.json`` itself is written by the load runner / ``apigate run``.) Every text is passed through
:func:`apigate.redact.redact` before it is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from apigate.gate import GateResult
from apigate.history import HistoryRun
from apigate.report.html import render_html
from apigate.report.junit import render_junit
from apigate.report.markdown import render_markdown
from apigate.report.text import history_table
from apigate.summary import Summary

__all__ = [  # noqa: RUF022 - grouped: the folder writer, then the pure renderers
    "write_report",
    "history_table",
    "render_html",
    "render_junit",
    "render_markdown",
]


def write_report(
    folder: str | Path,
    summary: Summary,
    *,
    gate: GateResult | None = None,
    baseline: Summary | None = None,
    history: Sequence[HistoryRun] = (),
) -> list[Path]:
    """Write ``summary.md``, ``junit.xml`` and ``report.html`` into ``folder`` (created); return the paths.

    Each file is written to a temporary name and renamed, so a half-written report never replaces a good one.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "summary.md": render_markdown(summary, gate, baseline),
        "junit.xml": render_junit(summary, gate),
        "report.html": render_html(summary, gate=gate, baseline=baseline, history=history),
    }
    written = []
    for name, text in files.items():
        path = out / name
        tmp = out / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written
