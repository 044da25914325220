"""What a contract run found: per API, per operation, every check that did not pass, with its severity, a one-line
reason and a curl.

A :class:`Finding`'s :class:`~apigate.verdict.Severity` says what it means for the verdict: a failure, a warning
(an assumed constraint, or an answer from the HTTP layer), a known failure the accept file lists, or an expired
acceptance. Accept entries that matched nothing are kept per API (:attr:`ApiResult.accept_entries`, ``fixed`` or
``expired``).

Every text that enters these objects has been through :func:`apigate.redact.redact`; writers may rely on that but
redact again anyway (defence in depth: a token issued after a finding was recorded is scrubbed at write time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apigate.redact import redact
from apigate.verdict import Severity

__all__ = ["ApiResult", "ContractResult", "Finding", "OperationResult", "one_line"]

_MAX_REASON = 300


def one_line(text: str, limit: int = _MAX_REASON) -> str:
    """The first non-empty line of ``text``, redacted and cut to ``limit`` characters."""
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    line = redact(line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True)
class Finding:
    """One check on one operation that did not pass, and what that means (:attr:`severity`, :attr:`note`)."""

    operation: str  # "POST /v1/assistants/{assistant_id}/model"
    check: str  # schemathesis check name, or apigate's ("stream.terminal_chunk", "auth.expired_token", ...)
    reason: str  # one line
    curl: str = ""  # reproducible request, secrets redacted
    detail: str = ""  # the longer explanation (several lines), redacted
    severity: Severity = Severity.FAILURE
    note: str = ""  # why this severity: the assumptions involved, the accept entry's reason, the expiry

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", one_line(self.reason))
        object.__setattr__(self, "curl", redact(self.curl))
        object.__setattr__(self, "detail", redact(self.detail))
        object.__setattr__(self, "note", one_line(self.note, 600))

    def to_dict(self) -> dict[str, str]:
        out = {"operation": self.operation, "check": self.check, "reason": self.reason, "curl": self.curl,
               "severity": self.severity.value}
        if self.note:
            out["note"] = self.note
        return out


def _same(a: Finding, b: Finding) -> bool:
    if (a.check, a.severity) != (b.check, b.severity):
        return False
    return a.note == b.note if a.severity.is_warning else a.reason == b.reason


class _BySeverity:
    """Views by severity of a result's findings (:meth:`_all`)."""

    def _all(self) -> list[Finding]:
        raise NotImplementedError

    def of(self, *severities: Severity) -> list[Finding]:
        return [f for f in self._all() if f.severity in severities]

    @property
    def failures(self) -> list[Finding]:
        """The findings that fail the run whatever its strictness (failures and expired acceptances)."""
        return [f for f in self._all() if f.severity.fails()]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self._all() if f.severity.is_warning]


@dataclass
class OperationResult(_BySeverity):
    """Everything checked on one operation (``METHOD /path`` of the contract, or a named flow)."""

    operation: str
    checks: int = 0  # check executions that ran (passed or not)
    findings: list[Finding] = field(default_factory=list)
    skipped: str | None = None  # why nothing ran, when nothing ran

    def _all(self) -> list[Finding]:
        return self.findings

    @property
    def passed(self) -> bool:
        return not self.failures

    def add_failure_text(self, check: str, reason: str, detail: str = "", *, curl: str = "",
                         severity: Severity = Severity.FAILURE, note: str = "") -> None:
        self.add(Finding(self.operation, check, reason, curl=curl, detail=detail, severity=severity, note=note))

    def add(self, finding: Finding) -> None:
        """Record a finding once: the same check failing the same way on many examples is one finding, and so is
        the same check breaking the same assumptions (whatever the example)."""
        if not any(_same(f, finding) for f in self.findings):
            self.findings.append(finding)


@dataclass
class ApiResult(_BySeverity):
    """One API's run."""

    api: str
    base_url: str
    operations: dict[str, OperationResult] = field(default_factory=dict)
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)  # checks that could not run against this target, and why
    seed: int | None = None  # the property tests' seed (``apigate contract --seed N`` replays them)
    accept_entries: list[Finding] = field(default_factory=list)  # accept entries that matched nothing

    def operation(self, name: str) -> OperationResult:
        if name not in self.operations:
            self.operations[name] = OperationResult(name)
        return self.operations[name]

    def record(self, operation: str, check: str, error: BaseException | str | None, *, curl: str = "",
               severity: Severity = Severity.FAILURE, note: str = "") -> None:
        """Count one check execution on ``operation``; ``error`` (if any) is its finding, of ``severity``."""
        result = self.operation(operation)
        result.checks += 1
        if error is not None:
            text = str(error)
            result.add(Finding(operation, check, text, curl=curl, detail=text, severity=severity, note=note))

    @property
    def checks(self) -> int:
        return sum(op.checks for op in self.operations.values())

    @property
    def findings(self) -> list[Finding]:
        """Every operation's findings."""
        return [f for op in self.operations.values() for f in op.findings]

    def _all(self) -> list[Finding]:
        return self.findings

    def failing(self, *, strict: bool = False) -> list[Finding]:
        """Everything that fails this API's run: failing findings, warnings when ``strict``, expired entries."""
        return [f for f in (*self.findings, *self.accept_entries) if f.severity.fails(strict=strict)]

    @property
    def passed(self) -> bool:
        return not self.failing()

    def to_summary(self, *, strict: bool = False) -> dict[str, Any]:
        """This API's entry in ``summary.json``'s ``contract`` key."""
        return {
            "passed": not self.failing(strict=strict),
            "checks": self.checks,
            "seed": self.seed,
            "failures": [f.to_dict() for f in self.failures],
            "warnings": [f.to_dict() for f in self.warnings],
            "known": [f.to_dict() for f in self.of(Severity.KNOWN)],
            "accept_entries": [f.to_dict() for f in self.accept_entries],
        }


@dataclass
class ContractResult:
    """The whole run: what ``run_contract`` returns and ``apigate contract`` reports."""

    started_at: str  # ISO-8601 UTC, e.g. 2026-11-23T10:15:00Z
    target: dict[str, str]
    apis: dict[str, ApiResult] = field(default_factory=dict)
    duration_s: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    strict: bool = False  # warnings fail the run too

    def failing(self) -> list[Finding]:
        return [f for api in self.apis.values() for f in api.failing(strict=self.strict)]

    @property
    def passed(self) -> bool:
        return not self.failing()

    @property
    def failures(self) -> list[Finding]:
        return [f for api in self.apis.values() for f in api.failures]

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_summary(self) -> dict[str, Any]:
        """The ``contract`` key of ``summary.json``: ``{api: {passed, checks, seed, failures, warnings, ...}}``."""
        return {name: api.to_summary(strict=self.strict) for name, api in self.apis.items()}
