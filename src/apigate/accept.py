"""Accepted known failures: a team gating a live server with known bugs lists them, and still catches new ones.

The list is TOML: ``[[accept]]`` tables in ``apigate.toml`` (or the file ``APIGATE_CONFIG`` names), or in a file of
their own given by ``--accept FILE``. An entry accepts either contract findings or drift findings::

    [[accept]]                                   # a contract finding
    api = "codemie"
    operation = "POST /v1/assistants/{assistant_id}/model"
    check = "not_a_server_error"
    reason_pattern = "500"                       # optional: a regular expression searched in the finding's reason
    request_pattern = " -d (true|false) "        # optional: one searched in its request (the curl line shown)
    reason = "500 on a JSON body that is a boolean (CODEMIE-1234)"
    expires = 2026-12-31                         # optional

    [[accept]]                                   # a drift finding (apigate drift)
    api = "codemie"
    rule = "response-property-became-optional"
    path = "/v1/assistants"                      # optional, like method and where: omitted matches any
    method = "GET"
    where = "response 200 application/json: body.data[].name"
    reason = "FastAPI's generated document marks defaulted fields optional"

An accepted failure is still reported, as ``known``, and does not fail the run; a failure no entry matches still
does. An entry that matches nothing is reported ``fixed`` (remove it: the file shrinks). An entry past its
``expires`` date accepts nothing: what it matches fails again (``expired``), and so does the entry itself when it
matches nothing. Severities are those of :class:`apigate.verdict.Severity`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from apigate.errors import ConfigError
from apigate.verdict import Severity

if TYPE_CHECKING:
    from apigate.contract.results import ApiResult
    from apigate.diff.model import Finding as DriftFinding
    from apigate.summary import Summary

__all__ = ["AcceptEntry", "AcceptList", "DriftSettlement", "load_accept"]

APIS: Final = ("codemie", "keycloak", "basejump")
_CONTRACT_KEYS: Final = frozenset({"operation", "check", "reason_pattern", "request_pattern"})
_DRIFT_KEYS: Final = frozenset({"rule", "path", "method", "where"})
_KEYS: Final = frozenset({"api", "reason", "expires"}) | _CONTRACT_KEYS | _DRIFT_KEYS

F = TypeVar("F")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class AcceptEntry:
    """One ``[[accept]]`` table."""

    number: int  # 1-based, in file order
    source: str  # the file it came from
    api: str
    reason: str
    expires: dt.date | None = None
    operation: str | None = None  # contract entries
    check: str | None = None
    reason_pattern: re.Pattern[str] | None = None
    request_pattern: re.Pattern[str] | None = None  # searched in the finding's reproducible request (curl)
    rule: str | None = None  # drift entries
    path: str | None = None
    method: str | None = None
    where: str | None = None

    @property
    def is_drift(self) -> bool:
        return self.rule is not None

    @property
    def name(self) -> str:
        """``apigate.toml entry 3``: where to find it."""
        return f"{self.source} entry {self.number}"

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today

    def matches(self, operation: str, check: str, reason: str, request: str = "") -> bool:
        """Whether this contract entry accepts the finding ``check`` on ``operation`` with ``reason``, found by the
        request ``request`` (its curl line)."""
        return (not self.is_drift and operation == self.operation and check == self.check
                and (self.reason_pattern is None or self.reason_pattern.search(reason) is not None)
                and (self.request_pattern is None or self.request_pattern.search(request) is not None))

    def matches_drift(self, finding: DriftFinding) -> bool:
        """Whether this drift entry accepts ``finding`` (rule, and path / method / where when given)."""
        return (self.is_drift and finding.rule == self.rule
                and (self.path is None or finding.path == self.path)
                and (self.method is None or finding.method.upper() == self.method.upper())
                and (self.where is None or finding.where == self.where))

    def describe(self) -> str:
        """What the entry accepts, in one line."""
        if self.is_drift:
            place = " ".join(p for p in ((self.method or "").upper(), self.path or "", self.where or "") if p)
            return f"{self.api} drift {self.rule}" + (f" at {place}" if place else "")
        pattern = f" /{self.reason_pattern.pattern}/" if self.reason_pattern is not None else ""
        request = f" request /{self.request_pattern.pattern}/" if self.request_pattern is not None else ""
        return f"{self.api} {self.operation} {self.check}{pattern}{request}"

    def known_note(self) -> str:
        until = f", until {self.expires.isoformat()}" if self.expires is not None else ""
        return f"{self.reason} ({self.name}{until})"

    def expired_note(self) -> str:
        assert self.expires is not None
        return (f"accepted until {self.expires.isoformat()} by {self.name} ({self.reason}): the acceptance expired; "
                "fix the server or extend the date")

    def unmatched(self, today: dt.date) -> tuple[Severity, str]:
        """What an entry that matched nothing means: fixed, or expired."""
        if self.expired(today):
            assert self.expires is not None
            return Severity.EXPIRED, (f"{self.name} expired on {self.expires.isoformat()} and no longer occurs: "
                                      f"remove it ({self.reason})")
        return Severity.FIXED, f"no longer occurs: remove {self.name} ({self.reason})"


@dataclass(frozen=True)
class DriftSettlement:
    """Drift findings of one API after the accept list: what still counts, what is known, the unmatched entries."""

    findings: list[DriftFinding]  # not accepted (those matched by an expired entry included)
    known: list[tuple[DriftFinding, AcceptEntry]]
    expired: list[tuple[DriftFinding, AcceptEntry]]  # matched by an entry past its date: they count again
    entries: list[tuple[AcceptEntry, Severity, str]]  # entries that matched nothing: (entry, fixed|expired, note)

    @property
    def fails(self) -> bool:
        """Whether the accept list itself fails the run (an expired entry)."""
        return bool(self.expired) or any(severity is Severity.EXPIRED for _, severity, _ in self.entries)


@dataclass(frozen=True)
class AcceptList:
    """The accept entries of one file; settles contract results, summaries and drift findings."""

    entries: tuple[AcceptEntry, ...] = ()
    source: str = ""
    today: dt.date = field(default_factory=_today)  # what "expired" is judged against

    def __bool__(self) -> bool:
        return bool(self.entries)

    def for_api(self, api: str, *, drift: bool = False) -> list[AcceptEntry]:
        return [e for e in self.entries if e.api == api and e.is_drift == drift]

    def accepts(self, api: str, operation: str, check: str, reason: str, request: str) -> bool:
        """Whether an entry in force (not expired) accepts this contract finding: during a run, so that the
        property tests set it aside and go on looking for other failures of the same check."""
        return any(e.matches(operation, check, reason, request) and not e.expired(self.today)
                   for e in self.for_api(api))

    def _settle(self, api: str, findings: Sequence[F], key: Callable[[F], tuple[str, str, str, str]]) -> \
            tuple[dict[int, AcceptEntry], list[AcceptEntry]]:
        """(finding index -> the entry matching it, entries that matched nothing) for ``api``'s ``findings``."""
        entries = self.for_api(api)
        matched: dict[int, AcceptEntry] = {}
        used: set[int] = set()
        for i, finding in enumerate(findings):
            entry = next((e for e in entries if e.matches(*key(finding))), None)
            if entry is not None:
                matched[i] = entry
                used.add(entry.number)
        return matched, [e for e in entries if e.number not in used]

    def _accepted(self, entry: AcceptEntry) -> tuple[Severity, str]:
        if entry.expired(self.today):
            return Severity.EXPIRED, entry.expired_note()
        return Severity.KNOWN, entry.known_note()

    def settle_result(self, result: ApiResult) -> None:
        """Settle one API's contract findings in place: accepted failures become known (or expired), and the
        entries that matched nothing are kept in ``result.accept_entries`` (fixed, or expired)."""
        from apigate.contract.results import Finding

        failures = [(op, f) for op in result.operations.values() for f in op.findings
                    if f.severity is Severity.FAILURE]
        matched, unmatched = self._settle(result.api, failures, lambda pair: (pair[1].operation, pair[1].check,
                                                                               pair[1].reason, pair[1].curl))
        for i, entry in matched.items():
            op, finding = failures[i]
            severity, note = self._accepted(entry)
            op.findings[op.findings.index(finding)] = dataclasses.replace(finding, severity=severity, note=note)
        result.accept_entries = []
        for entry in unmatched:
            severity, note = entry.unmatched(self.today)
            result.accept_entries.append(Finding(entry.operation or "", entry.check or "", entry.describe(),
                                                 severity=severity, note=note))

    def settle_summary(self, summary: Summary) -> Summary:
        """``summary`` with its contract findings settled by this list instead of the one it was written with."""
        from apigate.summary import ApiContract, ContractFinding

        if summary.contract is None:
            return summary
        settled: dict[str, ApiContract] = {}
        for name, api in summary.contract.items():
            # back to what the run found: known and expired failures are failures, old entries are dropped
            failures = [dataclasses.replace(f, severity=Severity.FAILURE, note="")
                        for f in (*api.failures, *api.known)]
            matched, unmatched = self._settle(name, failures, lambda f: (f.operation, f.check, f.reason, f.curl))
            for i, entry in matched.items():
                severity, note = self._accepted(entry)
                failures[i] = dataclasses.replace(failures[i], severity=severity, note=note)
            entries = tuple(ContractFinding(e.operation or "", e.check or "", e.describe(), "",
                                            *e.unmatched(self.today)) for e in unmatched)
            settled[name] = dataclasses.replace(
                api, failures=tuple(f for f in failures if f.severity is not Severity.KNOWN),
                known=tuple(f for f in failures if f.severity is Severity.KNOWN), accept_entries=entries)
        return dataclasses.replace(summary, contract=settled)

    def settle_drift(self, api: str, findings: Iterable[DriftFinding]) -> DriftSettlement:
        entries = self.for_api(api, drift=True)
        kept: list[DriftFinding] = []
        known: list[tuple[DriftFinding, AcceptEntry]] = []
        expired: list[tuple[DriftFinding, AcceptEntry]] = []
        used: set[int] = set()
        for finding in findings:
            entry = next((e for e in entries if e.matches_drift(finding)), None)
            if entry is None:
                kept.append(finding)
                continue
            used.add(entry.number)
            if entry.expired(self.today):
                kept.append(finding)
                expired.append((finding, entry))
            else:
                known.append((finding, entry))
        unmatched = [(e, *e.unmatched(self.today)) for e in entries if e.number not in used]
        return DriftSettlement(kept, known, expired, unmatched)


# ---- reading --------------------------------------------------------------------------------------------------


def _text(table: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ValueError(f"{where}: '{key}' is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _date(value: Any, where: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise ValueError(f"{where}: 'expires' must be a date (2026-12-31), not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{where}: 'expires' must be a date such as 2026-12-31, not {value!r}")


def _entry(number: int, source: str, table: Any) -> AcceptEntry:
    where = f"entry {number}"
    if not isinstance(table, dict):
        raise ValueError(f"{where}: must be a table ([[accept]])")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)} (expected {', '.join(sorted(_KEYS))})")
    api = _text(table, "api", where, required=True)
    if api not in APIS:
        raise ValueError(f"{where}: api must be one of {', '.join(APIS)}, not {api!r}")
    reason = _text(table, "reason", where, required=True)
    assert api is not None and reason is not None
    expires = _date(table.get("expires"), where)
    drift = set(table) & _DRIFT_KEYS
    contract = set(table) & _CONTRACT_KEYS
    if drift and contract:
        raise ValueError(f"{where}: either a contract finding (operation, check) or a drift finding (rule), not both")
    if drift:
        method = _text(table, "method", where)
        return AcceptEntry(number, source, api, reason, expires, rule=_text(table, "rule", where, required=True),
                           path=_text(table, "path", where), method=method.upper() if method else None,
                           where=_text(table, "where", where))
    return AcceptEntry(number, source, api, reason, expires, operation=_text(table, "operation", where, required=True),
                       check=_text(table, "check", where, required=True),
                       reason_pattern=_pattern(table, "reason_pattern", where),
                       request_pattern=_pattern(table, "request_pattern", where))


def _pattern(table: Mapping[str, Any], key: str, where: str) -> re.Pattern[str] | None:
    text = _text(table, key, where)
    try:
        return re.compile(text) if text is not None else None
    except re.error as exc:
        raise ValueError(f"{where}: {key} is not a regular expression: {exc}") from None


def load_accept(path: Path | None = None, *, env: Mapping[str, str] | None = None,
                today: dt.date | None = None) -> AcceptList:
    """The accept list of ``path`` (``--accept FILE``: only ``[[accept]]`` tables), else the ``[[accept]]`` tables
    of the config file (``APIGATE_CONFIG``, or ``apigate.toml`` when it exists), else an empty list.

    A file that cannot be read or holds a malformed entry is a :class:`~apigate.errors.ConfigError` (exit 2)."""
    own_file = path is not None
    if path is None:
        explicit = (os.environ if env is None else env).get("APIGATE_CONFIG")
        path = Path(explicit) if explicit else Path("apigate.toml")
        if not path.exists():
            return AcceptList(today=today or _today())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"accept file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"accept file {path}: {exc}") from None
    try:
        if own_file:
            extra = sorted(set(data) - {"accept"})
            if extra:
                raise ValueError(f"unknown key(s) {', '.join(extra)}: an accept file holds [[accept]] tables only")
            if "accept" not in data:
                raise ValueError("no [[accept]] table")
        tables = data.get("accept", [])
        if not isinstance(tables, list):
            raise ValueError("'accept' must be an array of tables ([[accept]])")
        entries = tuple(_entry(i, str(path), table) for i, table in enumerate(tables, 1))
    except ValueError as exc:
        raise ConfigError(f"accept file {path}: {exc}") from None
    return AcceptList(entries, str(path), today or _today())
