"""Formatting shared by the report writers (numbers, deltas, the one-line run description)."""

from __future__ import annotations

import math
import re
from typing import Final

from apigate.gate import GateResult
from apigate.redact import redact
from apigate.summary import Summary

__all__ = ["delta", "ms", "redact_markup", "run_line", "verdict_title"]

_TAG: Final = re.compile(r"(<[^<>]*>)")
_ATTRIBUTE: Final = re.compile(r'(=")([^"]*)(")')


def redact_markup(document: str) -> str:
    """:func:`redact` applied to each text node and attribute value of an XML/HTML document, never across markup.

    (Redacting the whole document at once could let a ``secret=value`` pattern swallow the ``</tag>`` after it.)
    """
    parts = _TAG.split(document)
    for i, part in enumerate(parts):
        if i % 2:  # a tag: only its quoted attribute values
            parts[i] = _ATTRIBUTE.sub(lambda m: m.group(1) + redact(m.group(2)) + m.group(3), part)
        else:
            parts[i] = redact(part)
    return "".join(parts)


def ms(value: float | None) -> str:
    """A latency in ms for tables: 3 significant-ish digits, '–' when missing."""
    if value is None or not math.isfinite(value):
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def delta(current: float | None, baseline: float | None) -> str:
    """``+12.3 ms (+4.1%)`` or '–'."""
    if current is None or baseline is None:
        return "–"
    d = current - baseline
    pct = f" ({d / baseline * 100:+.1f}%)" if baseline > 0 else ""
    return f"{d:+.1f} ms{pct}"


def run_line(summary: Summary) -> str:
    """``2026-11-23T10:15:00Z · 30 s · scenario stream · 20 users · steady``: what was run."""
    parts = [summary.started_at or "unknown start"]
    if summary.duration_s:
        parts.append(f"{summary.duration_s:g} s")
    settings = summary.settings
    if settings.get("classes"):
        parts.append(f"user classes {', '.join(map(str, settings['classes']))}")
    elif settings.get("scenario"):
        parts.append(f"scenario {settings['scenario']}")
    if settings.get("sweep"):
        parts.append(f"sweep {settings['sweep']}, {settings.get('duration_s', 0):g} s per level")
    elif settings.get("rate"):
        parts.append(f"open model {settings['rate']:g} requests/s ({settings.get('arrivals') or 'constant'} "
                     f"arrivals), pool of {settings.get('users')} users")
    else:
        if settings.get("users"):
            parts.append(f"{settings['users']} users")
        if settings.get("shape"):
            parts.append(str(settings["shape"]))
    if settings.get("workers"):
        parts.append(f"{settings['workers']} workers")
    if summary.apigate_version:
        parts.append(f"apigate {summary.apigate_version}")
    return " · ".join(parts)


def verdict_title(summary: Summary, gate: GateResult | None) -> tuple[str, bool | None]:
    """The headline and whether it is a pass (None: nothing was judged)."""
    if gate is not None:
        if gate.passed:
            judged = sum(1 for v in gate.verdicts if v.status != "skip")
            return f"PASSED — {judged} checks", True
        return f"FAILED — {len(gate.failed)} of {sum(1 for v in gate.verdicts if v.status != 'skip')} checks failed", False
    if summary.contract_passed is False:
        return "FAILED — contract failures", False
    if summary.contract_passed:
        return "contract PASSED (no gate applied)", None
    return "measured (no gate applied)", None
