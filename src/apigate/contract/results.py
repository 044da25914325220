"""What a contract run found: per API, per operation, every check that failed with a one-line reason and a curl.

Every text that enters these objects has been through :func:`apigate.redact.redact`; writers may rely on that but
redact again anyway (defence in depth: a token issued after a failure was recorded is scrubbed at write time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apigate.redact import redact

__all__ = ["ApiResult", "CheckFailure", "ContractResult", "OperationResult", "one_line"]

_MAX_REASON = 300


def one_line(text: str, limit: int = _MAX_REASON) -> str:
    """The first non-empty line of ``text``, redacted and cut to ``limit`` characters."""
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    line = redact(line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(frozen=True)
class CheckFailure:
    """One failed check on one operation."""

    operation: str  # "POST /v1/assistants/{assistant_id}/model"
    check: str  # schemathesis check name, or apigate's ("stream.terminal_chunk", "auth.expired_token", ...)
    reason: str  # one line
    curl: str = ""  # reproducible request, secrets redacted
    detail: str = ""  # the longer explanation (several lines), redacted

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", one_line(self.reason))
        object.__setattr__(self, "curl", redact(self.curl))
        object.__setattr__(self, "detail", redact(self.detail))

    def to_dict(self) -> dict[str, str]:
        return {"operation": self.operation, "check": self.check, "reason": self.reason, "curl": self.curl}


@dataclass
class OperationResult:
    """Everything checked on one operation (``METHOD /path`` of the contract, or a named flow)."""

    operation: str
    checks: int = 0  # check executions that ran (passed or failed)
    failures: list[CheckFailure] = field(default_factory=list)
    skipped: str | None = None  # why nothing ran, when nothing ran

    @property
    def passed(self) -> bool:
        return not self.failures

    def add_failure_text(self, check: str, reason: str, detail: str = "", *, curl: str = "") -> None:
        self.add_failure(CheckFailure(self.operation, check, reason, curl=curl, detail=detail))

    def add_failure(self, failure: CheckFailure) -> None:
        """Record a failure once (the same check failing the same way on many examples is one finding)."""
        key = (failure.check, failure.reason)
        if all((f.check, f.reason) != key for f in self.failures):
            self.failures.append(failure)


@dataclass
class ApiResult:
    """One API's run."""

    api: str
    base_url: str
    operations: dict[str, OperationResult] = field(default_factory=dict)
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)  # checks that could not run against this target, and why

    def operation(self, name: str) -> OperationResult:
        if name not in self.operations:
            self.operations[name] = OperationResult(name)
        return self.operations[name]

    def record(self, operation: str, check: str, error: BaseException | str | None, *, curl: str = "") -> None:
        """Count one check execution on ``operation``; ``error`` (if any) is its failure."""
        result = self.operation(operation)
        result.checks += 1
        if error is not None:
            text = str(error)
            result.add_failure(CheckFailure(operation, check, text, curl=curl, detail=text))

    @property
    def checks(self) -> int:
        return sum(op.checks for op in self.operations.values())

    @property
    def failures(self) -> list[CheckFailure]:
        return [f for op in self.operations.values() for f in op.failures]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_summary(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": self.checks, "failures": [f.to_dict() for f in self.failures]}


@dataclass
class ContractResult:
    """The whole run: what ``run_contract`` returns and ``apigate contract`` reports."""

    started_at: str  # ISO-8601 UTC, e.g. 2026-11-23T10:15:00Z
    target: dict[str, str]
    apis: dict[str, ApiResult] = field(default_factory=dict)
    duration_s: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(api.passed for api in self.apis.values())

    @property
    def failures(self) -> list[CheckFailure]:
        return [f for api in self.apis.values() for f in api.failures]

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_summary(self) -> dict[str, Any]:
        """The ``contract`` key of ``summary.json``: ``{api: {passed, checks, failures: [...]}}``."""
        return {name: api.to_summary() for name, api in self.apis.items()}
