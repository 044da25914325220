"""Printing findings: ``text`` (one line per finding, grouped by severity, then a summary line), ``json`` and
``markdown``. Every output passes through :func:`apigate.redact.redact`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Final

from apigate.diff.model import SEVERITIES, Finding
from apigate.redact import redact

__all__ = ["FORMATS", "render", "summary_line"]

FORMATS: Final = ("text", "json", "markdown")


def _counts(findings: Sequence[Finding]) -> dict[str, int]:
    counter = Counter(f.severity for f in findings)
    return {severity: counter.get(severity, 0) for severity in SEVERITIES}


def summary_line(findings: Sequence[Finding]) -> str:
    counts = _counts(findings)
    return f"{len(findings)} change(s): " + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES)


def _value(value: str | None) -> str:
    return "-" if value is None else value


def _text(findings: Sequence[Finding], old: str, new: str) -> str:
    lines = [f"diff {old} → {new}"]
    for severity in SEVERITIES:
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        lines.append(f"{severity} ({len(group)}):")
        lines.extend(
            f"  {severity} [{f.rule}] {f.location}: {f.message} (old: {_value(f.old)}; new: {_value(f.new)})"
            for f in group
        )
    lines.append(summary_line(findings))
    return "\n".join(lines) + "\n"


def _markdown(findings: Sequence[Finding], old: str, new: str) -> str:
    def cell(text: str | None) -> str:
        return _value(text).replace("|", "\\|").replace("\n", " ")

    lines = [f"## API diff: `{old}` → `{new}`", "", f"**{summary_line(findings)}**", ""]
    for severity in SEVERITIES:
        group = [f for f in findings if f.severity == severity]
        if not group:
            continue
        lines += [f"### {severity.capitalize()} ({len(group)})", "",
                  "| rule | location | change | old | new |", "|---|---|---|---|---|"]
        lines += [
            f"| `{f.rule}` | {cell(f.location)} | {cell(f.message)} | {cell(f.old)} | {cell(f.new)} |" for f in group
        ]
        lines.append("")
    return "\n".join(lines) + "\n"


def render(findings: Sequence[Finding], fmt: str, *, old: str, new: str) -> str:
    if fmt == "json":
        payload = {
            "old": old,
            "new": new,
            "summary": _counts(findings),
            "findings": [f.to_dict() for f in findings],
        }
        text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        text = _markdown(findings, old, new)
    else:
        text = _text(findings, old, new)
    return redact(text)
