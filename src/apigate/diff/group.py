"""Grouping findings by their cause: one :class:`Change` per place of the documents that changed, with the
:class:`Effect` of each rule it triggers and every place of the API where a client meets it.

One edit of a shared component (``call_id`` became optional and nullable) yields a finding at every operation that
reaches it; grouped, it is one change with two effects, listing the operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from apigate.diff.cause import Cause
from apigate.diff.model import Finding
from apigate.diff.rules import RULES, SEVERITIES, Severity, severity_rank

__all__ = ["Change", "Effect", "group_findings"]


@dataclass(frozen=True)
class Effect:
    """The findings of one rule, with the same values, from one change: the places where a client meets it."""

    findings: tuple[Finding, ...]

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def severity(self) -> Severity:
        return self.first.severity

    @property
    def rule(self) -> str:
        return self.first.rule

    @property
    def by_policy(self) -> bool:
        """The severity is not the rule's default one (a policy file changed it)."""
        return RULES[self.rule].severity != self.severity

    @property
    def explanation(self) -> str:
        """What breaks for a client; a sentence about one operation speaks of all when the effect reaches several."""
        first = self.first
        if len(self.operations) > 1:
            return first.explanation.replace(f"`{first.method.upper()} {first.path}`", "each of these operations")
        return first.explanation

    @property
    def places(self) -> list[str]:
        return [f.location for f in self.findings]

    @property
    def operations(self) -> list[str]:
        """The operations (``GET /a``) or paths the places belong to, once each."""
        return list(dict.fromkeys(f"{f.method.upper()} {f.path}".strip() for f in self.findings))

    def to_dict(self) -> dict[str, Any]:
        first = self.first
        return {"severity": first.severity, "rule": first.rule, "default_severity": RULES[first.rule].severity,
                "old": first.old, "new": first.new, "message": first.message, "explanation": self.explanation,
                "operations": self.operations, "places": self.places}


@dataclass(frozen=True)
class Change:
    """Everything found about one place of the documents (``cause``; None only for findings that have none)."""

    cause: Cause | None
    effects: tuple[Effect, ...]

    @property
    def severity(self) -> Severity:
        return SEVERITIES[min(severity_rank(e.severity) for e in self.effects)]

    @property
    def findings(self) -> int:
        return sum(len(e.findings) for e in self.effects)

    @property
    def label(self) -> str:
        return self.cause.label if self.cause is not None else self.effects[0].first.location

    @property
    def places(self) -> list[str]:
        """Every place of the API the change reaches, once each, in order."""
        return list(dict.fromkeys(p for e in self.effects for p in e.places))

    @property
    def operations(self) -> list[str]:
        return list(dict.fromkeys(o for e in self.effects for o in e.operations))

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "label": self.label,
                "cause": self.cause.to_dict() if self.cause is not None else None,
                "findings": self.findings, "operations": self.operations,
                "effects": [e.to_dict() for e in self.effects]}


def group_findings(findings: Sequence[Finding]) -> list[Change]:
    """Findings grouped by cause, then by rule and values; most severe first, then the widest reaching."""
    changes: dict[Any, dict[Any, list[Finding]]] = {}
    causes: dict[Any, Cause | None] = {}
    for finding in findings:
        cause = finding.cause
        key = cause.key if cause is not None else ("finding", finding.rule, finding.location, finding.old, finding.new)
        causes.setdefault(key, cause)
        effect = (finding.rule, finding.severity, finding.old, finding.new, finding.message)
        changes.setdefault(key, {}).setdefault(effect, []).append(finding)
    grouped = []
    for key, effects in changes.items():
        ordered = sorted(effects.values(), key=lambda fs: (severity_rank(fs[0].severity), fs[0].rule, fs[0].sort_key()))
        grouped.append(Change(causes[key], tuple(Effect(tuple(fs)) for fs in ordered)))
    grouped.sort(key=lambda c: (severity_rank(c.severity), -c.findings, c.label, c.effects[0].first.sort_key()))
    return grouped
