"""Printing findings grouped by cause (:mod:`apigate.diff.group`): ``text`` (for a terminal or a CI log), ``json``
(every change, effect and place, and the flat list of findings) and ``markdown`` (a pull-request comment: a summary
table, the breaking changes, then the rest in a collapsed section). Every output passes through
:func:`apigate.redact.redact`.

A change is one place of the documents that changed (its cause: file, line, JSON pointer); its effects are the rules
it triggers, each with one sentence saying what breaks for a client and the places of the API where a client meets
it (text folds them after a few: "and 63 more"; JSON lists them all).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Final

from apigate.diff.group import Change, Effect, group_findings
from apigate.diff.model import Finding
from apigate.diff.rules import SEVERITIES
from apigate.redact import redact

__all__ = ["FORMATS", "render", "summary_line"]

FORMATS: Final = ("text", "json", "markdown")
TEXT_PLACES: Final = 3  # places printed per change before "and N more"
MARKDOWN_PLACES: Final = 10  # places listed per breaking change
# a pull-request comment must stay short (GitHub refuses one over 65,536 characters): past this many characters,
# the rest of the breaking changes and of the table is counted, not shown
MARKDOWN_BUDGET: Final = 60_000


def _counts(items: Sequence[Finding] | Sequence[Change]) -> dict[str, int]:
    """How many findings (or changes) of each severity."""
    counter = Counter(item.severity for item in items)
    return {severity: counter.get(severity, 0) for severity in SEVERITIES}


def _summary(changes: Sequence[Change], findings: int) -> str:
    counts = _counts(changes)
    grouped = f" ({findings} findings)" if findings != len(changes) else ""
    return f"{len(changes)} change(s){grouped}: " + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES)


def summary_line(findings: Sequence[Finding]) -> str:
    """``3 change(s) (130 findings): 1 breaking, 1 warning, 1 compatible``: changes (causes) by their worst
    severity, and the findings they group when that is more."""
    return _summary(group_findings(findings), len(findings))


def _value(value: str | None) -> str:
    return "-" if value is None else value


def _values_text(finding: Finding, code: bool = False) -> str:
    """`` (old: a; new: b)`` unless the message already says ``a → b``."""
    old, new = _value(finding.old), _value(finding.new)
    if f"{old} → {new}" in finding.message:
        return ""
    if code:
        return f" (old: {_code(old)}, new: {_code(new)})"
    return f" (old: {old}; new: {new})"


def _rule_text(effect: Effect) -> str:
    return f"{effect.rule}, set by policy" if effect.by_policy else effect.rule


def _source(change: Change) -> str:
    cause = change.cause
    return "" if cause is None else f"{cause.position} #{cause.pointer}"


# -- text ---------------------------------------------------------------------------------------------------------------

def _places_text(effect: Effect, indent: str) -> list[str]:
    places = effect.places
    if len(places) == 1:
        return [f"{indent}at {places[0]}"]
    operations = len(effect.operations)
    lines = [f"{indent}at {len(places)} places" + (f" in {operations} operations:" if operations > 1 else ":")]
    lines += [f"{indent}  {place}" for place in places[:TEXT_PLACES]]
    if len(places) > TEXT_PLACES:
        lines.append(f"{indent}  and {len(places) - TEXT_PLACES} more")
    return lines


def _text(changes: Sequence[Change], findings: int, old: str, new: str) -> str:
    lines = [f"diff {old} → {new}"]
    for severity in SEVERITIES:
        group = [c for c in changes if c.severity == severity]
        if not group:
            continue
        lines.append(f"{severity} ({len(group)}):")
        for change in group:
            lines.append(f"  {change.label}  ({_source(change)})" if change.cause else f"  {change.label}")
            shared = len({tuple(e.places) for e in change.effects}) == 1
            for effect in change.effects:
                first = effect.first
                lines.append(f"    {effect.severity} [{_rule_text(effect)}] {first.message}{_values_text(first)}")
                lines.append(f"      {effect.explanation}")
                if not shared:
                    lines += _places_text(effect, "      ")
            if shared:
                lines += _places_text(change.effects[0], "    ")
    lines.append(_summary(changes, findings))
    return "\n".join(lines) + "\n"


# -- markdown -----------------------------------------------------------------------------------------------------------

def _cell(text: str | None) -> str:
    return _value(text).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else f"``{text}``"


def _markdown_change(index: int, change: Change) -> list[str]:
    cause = change.cause
    source = f" ({_code(cause.position)}, {_code('#' + cause.pointer)})" if cause is not None else ""
    lines = [f"**{index}. {_code(change.label)}**{source}", ""]
    for effect in change.effects:
        first = effect.first
        lines.append(f"- **{effect.severity}** {_code(_rule_text(effect))}: {first.message}"
                     f"{_values_text(first, code=True)}. {effect.explanation}")
    places = change.places
    operations = len(change.operations)
    lines += ["", f"<details><summary>{len(places)} place(s) in {operations} operation(s)</summary>", ""]
    lines += [f"- {_code(place)}" for place in places[:MARKDOWN_PLACES]]
    if len(places) > MARKDOWN_PLACES:
        lines.append(f"- … and {len(places) - MARKDOWN_PLACES} more (`--format json` lists them all)")
    lines += ["", "</details>", ""]
    return lines


def _markdown(changes: Sequence[Change], findings: Sequence[Finding], old: str, new: str) -> str:
    change_counts, finding_counts = _counts(changes), _counts(findings)
    lines = [f"## API diff: {_code(old)} → {_code(new)}", "", f"**{_summary(changes, len(findings))}**", "",
             "| severity | changes | findings |", "|---|---:|---:|"]
    lines += [f"| {s} | {change_counts[s]} | {finding_counts[s]} |" for s in SEVERITIES]
    lines.append("")
    size = sum(len(line) + 1 for line in lines)
    breaking = [c for c in changes if c.severity == "breaking"]
    if breaking:
        lines += [f"### Breaking changes ({len(breaking)})", ""]
        for index, change in enumerate(breaking, 1):
            section = _markdown_change(index, change)
            size += sum(len(line) + 1 for line in section)
            if size > MARKDOWN_BUDGET * 3 // 4:
                lines += [f"… and {len(breaking) - index + 1} more breaking changes "
                          "(`--format text` or `--format json` lists them all)", ""]
                break
            lines += section
    rest = [c for c in changes if c.severity != "breaking"]
    if rest:
        rows = [(change, effect) for change in rest for effect in change.effects]
        lines += [f"<details><summary>Warnings and compatible changes ({len(rest)})</summary>", "",
                  "| severity | rule | change | source | what it means for a client | places |",
                  "|---|---|---|---|---|---:|"]
        for index, (change, effect) in enumerate(rows):
            source = change.cause.position if change.cause is not None else ""
            row = (f"| {effect.severity} | {_code(_rule_text(effect))} | {_cell(change.label)}: "
                   f"{_cell(effect.first.message)} | {_cell(source)} | {_cell(effect.explanation)} | "
                   f"{len(effect.findings)} |")
            size += len(row) + 1
            if size > MARKDOWN_BUDGET:
                lines += ["", f"… and {len(rows) - index} more rows (`--format json` lists them all)"]
                break
            lines.append(row)
        lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"


# -- json -------------------------------------------------------------------------------------------------------------

def _json(changes: Sequence[Change], findings: Sequence[Finding], old: str, new: str) -> str:
    payload = {
        "old": old,
        "new": new,
        "summary": _counts(findings),
        "changes_summary": {"changes": len(changes), **_counts(changes)},
        "changes": [c.to_dict() for c in changes],
        "findings": [f.to_dict() for f in findings],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def render(findings: Sequence[Finding], fmt: str, *, old: str, new: str) -> str:
    changes = group_findings(findings)
    if fmt == "json":
        text = _json(changes, findings, old, new)
    elif fmt == "markdown":
        text = _markdown(changes, findings, old, new)
    else:
        text = _text(changes, len(findings), old, new)
    return redact(text)
