"""What a diff finds: :class:`Finding` objects (one per rule and place of the API), each with its cause."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apigate.diff.cause import Cause
from apigate.diff.rules import RULES, SEVERITIES, Rule, Severity, severity_rank

__all__ = ["RULES", "SEVERITIES", "Cause", "Finding", "Rule", "Severity", "severity_rank"]


@dataclass(frozen=True, order=True)
class Finding:
    """One classified change at one place of the API. ``path``/``method``/``where`` say where a client meets it
    (``where`` inside the operation, e.g. ``response 200 application/json: body.generated``; ``location`` joins the
    three); ``old``/``new`` are short printable values (``None`` when absent on that side); ``cause`` is where the
    change is written in the documents (findings that share it come from one edit); ``explanation`` is one sentence
    saying what breaks for a client."""

    severity: Severity
    rule: str
    path: str
    method: str
    where: str
    old: str | None
    new: str | None
    message: str
    cause: Cause | None = field(default=None, compare=False)
    explanation: str = field(default="", compare=False)

    @property
    def location(self) -> str:
        parts = [p for p in (self.method.upper(), self.path, self.where) if p]
        return " ".join(parts)

    def sort_key(self) -> tuple[Any, ...]:
        return (severity_rank(self.severity), self.path, self.method, self.where, self.rule, self.old or "", self.new or "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "rule": self.rule,
            "path": self.path,
            "method": self.method.upper(),
            "where": self.where,
            "location": self.location,
            "old": self.old,
            "new": self.new,
            "message": self.message,
            "explanation": self.explanation,
            "cause": self.cause.to_dict() if self.cause is not None else None,
        }
