"""Accept lists: reading them (one-line errors), and settling contract results, summaries and drift findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from apigate.accept import AcceptList, load_accept
from apigate.config import load_target
from apigate.contract.documents import load_contract
from apigate.contract.results import ApiResult, Finding
from apigate.contract.state import RunState
from apigate.diff.model import Finding as DriftFinding
from apigate.errors import ConfigError
from apigate.gate import evaluate
from apigate.summary import parse_summary
from apigate.verdict import Severity

TODAY = dt.date(2026, 6, 1)
CHAT = "POST /v1/assistants/{assistant_id}/model"
ENTRIES = """
[[accept]]
api = "codemie"
operation = "POST /v1/assistants/{assistant_id}/model"
check = "not_a_server_error"
reason_pattern = "500"
reason = "500 on non-ASCII text (CODEMIE-1)"
expires = 2026-12-31

[[accept]]
api = "codemie"
operation = "GET /v1/user"
check = "auth.expired_token"
reason = "fixed upstream? (CODEMIE-2)"

[[accept]]
api = "keycloak"
rule = "response-property-became-optional"
path = "/realms/{realm}/protocol/openid-connect/token"
method = "post"
reason = "FastAPI marks defaulted fields optional"
"""


def _list(tmp_path: Path, text: str = ENTRIES, today: dt.date = TODAY) -> AcceptList:
    path = tmp_path / "accept.toml"
    path.write_text(text, encoding="utf-8")
    return load_accept(path, today=today)


def test_reads_contract_and_drift_entries(tmp_path: Path) -> None:
    accept = _list(tmp_path)
    first, _, drift = accept.entries
    assert first.expires == dt.date(2026, 12, 31) and first.reason_pattern is not None
    assert not first.is_drift and drift.is_drift and drift.method == "POST"
    assert first.name.endswith("accept.toml entry 1")
    assert accept.for_api("keycloak", drift=True) == [drift] and accept.for_api("keycloak") == []


@pytest.mark.parametrize(("text", "message"), [
    ('[[accept]]\napi = "codemie"\noperation = "GET /v1/user"\ncheck = "c"\n', "'reason' is required"),
    ('[[accept]]\napi = "nope"\nreason = "r"\noperation = "o"\ncheck = "c"\n', "api must be one of"),
    ('[[accept]]\napi = "codemie"\nreason = "r"\noperation = "o"\nchek = "c"\n', "unknown key(s) chek"),
    ('[[accept]]\napi = "codemie"\nreason = "r"\noperation = "o"\ncheck = "c"\nrule = "x"\n', "not both"),
    ('[[accept]]\napi = "codemie"\nreason = "r"\noperation = "o"\ncheck = "c"\nreason_pattern = "(("\n',
     "not a regular expression"),
    ('[[accept]]\napi = "codemie"\nreason = "r"\noperation = "o"\ncheck = "c"\nrequest_pattern = "[x"\n',
     "request_pattern is not a regular expression"),
    ('[[accept]]\napi = "codemie"\nreason = "r"\noperation = "o"\ncheck = "c"\nexpires = "someday"\n',
     "must be a date"),
    ('[[accept]]\napi = "codemie"\nreason = "r"\noperation = "o"\ncheck = "c"\nexpires = 2026-01-01T10:00:00\n',
     "not a date and time"),
    ('[[accept]]\napi = "codemie"\nreason = "r"\noperation = "o"\n', "'check' is required"),
    ('[[accept]]\napi = "codemie"\nreason = ""\noperation = "o"\ncheck = "c"\n', "non-empty string"),
    ('accept = "everything"\n', "array of tables"),
    ('[codemie]\nurl = "http://x"\n', "accept file holds [[accept]] tables only"),
    ("", "no [[accept]] table"),
    ("[[accept]\n", "accept file"),
])
def test_malformed_files_are_one_line_config_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _list(tmp_path, text)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_accept(tmp_path / "nope.toml")


def test_config_file_entries_live_beside_the_settings(tmp_path: Path) -> None:
    config = tmp_path / "apigate.toml"
    config.write_text('[keycloak]\nrealm = "other-realm"\n' + ENTRIES, encoding="utf-8")
    env = {"APIGATE_CONFIG": str(config)}
    assert len(load_accept(env=env).entries) == 3
    assert load_target(env=env)  # the config reader leaves [[accept]] to apigate.accept (no "must be a table")


def _codemie_result() -> ApiResult:
    result = ApiResult("codemie", "http://x")
    result.record(CHAT, "not_a_server_error", AssertionError("Server error: 500 Internal Server Error"))
    result.record(CHAT, "status_code_conformance", AssertionError("Undocumented status 418"))
    result.record("GET /v1/user", "ignored_auth", None)
    return result


def test_settle_a_run_known_new_and_fixed(tmp_path: Path) -> None:
    result = _codemie_result()
    _list(tmp_path).settle_result(result)
    assert [(f.check, f.severity) for f in result.findings] == [
        ("not_a_server_error", Severity.KNOWN), ("status_code_conformance", Severity.FAILURE)]
    assert "CODEMIE-1" in result.findings[0].note and "until 2026-12-31" in result.findings[0].note
    [fixed] = result.accept_entries
    assert fixed.severity is Severity.FIXED and "remove" in fixed.note and "entry 2" in fixed.note
    assert not result.passed  # the new failure still fails
    summary = result.to_summary()
    assert [f["severity"] for f in summary["known"]] == ["known"]
    assert [f["severity"] for f in summary["accept_entries"]] == ["fixed"]


def test_reason_pattern_must_match(tmp_path: Path) -> None:
    result = ApiResult("codemie", "http://x")
    result.record(CHAT, "not_a_server_error", AssertionError("Server error: 502 Bad Gateway"))
    _list(tmp_path).settle_result(result)
    assert result.findings[0].severity is Severity.FAILURE


def test_request_pattern_tells_a_known_server_error_from_a_new_one(tmp_path: Path) -> None:
    """Schemathesis reports every 500 of an operation as "Server error": the request tells the bugs apart."""
    text = ('[[accept]]\napi = "codemie"\noperation = "GET /v1/assistants"\ncheck = "not_a_server_error"\n'
            'request_pattern = "[?&]filters="\nreason = "500 on filters that are not an object (CODEMIE-3)"\n')
    known, new = ApiResult("codemie", "http://x"), ApiResult("codemie", "http://x")
    known.record("GET /v1/assistants", "not_a_server_error", AssertionError("Server error"),
                 curl="curl -X GET 'http://x/v1/assistants?page=3&filters=%5B1%5D'")
    new.record("GET /v1/assistants", "not_a_server_error", AssertionError("Server error"),
               curl="curl -X GET 'http://x/v1/assistants?per_page=0'")
    accept = _list(tmp_path, text)
    accept.settle_result(known)
    accept.settle_result(new)
    assert known.findings[0].severity is Severity.KNOWN and known.passed
    assert new.findings[0].severity is Severity.FAILURE and not new.passed
    assert [e.severity for e in new.accept_entries] == [Severity.FIXED]
    assert "request /[?&]filters=/" in new.accept_entries[0].reason
    # the same from a summary (apigate gate --accept): the finding's curl is kept there too
    settled = accept.settle_summary(parse_summary({"contract": {"codemie": known.to_summary()}}))
    assert settled.contract is not None and len(settled.contract["codemie"].known) == 1


def test_an_expired_entry_accepts_nothing_and_fails(tmp_path: Path) -> None:
    result = _codemie_result()
    _list(tmp_path, today=dt.date(2027, 1, 1)).settle_result(result)
    assert result.findings[0].severity is Severity.EXPIRED and "expired" in result.findings[0].note
    unmatched_expired = ENTRIES.replace('reason = "fixed upstream? (CODEMIE-2)"',
                                        'reason = "fixed upstream? (CODEMIE-2)"\nexpires = 2026-01-01')
    result = ApiResult("codemie", "http://x")
    result.record("GET /v1/user", "ignored_auth", None)
    _list(tmp_path, unmatched_expired).settle_result(result)
    assert [e.severity for e in result.accept_entries] == [Severity.FIXED, Severity.EXPIRED]
    assert not result.passed and "no longer occurs" in result.accept_entries[1].note


def test_summary_round_trip_and_gate(tmp_path: Path) -> None:
    result = _codemie_result()
    result.record("GET /v1/user", "negative_data_rejection", AssertionError("accepted"), severity=Severity.ASSUMPTION,
                  note="minLength: guessed")
    _list(tmp_path).settle_result(result)
    summary = parse_summary({"contract": {"codemie": result.to_summary()}})
    api = summary.contract["codemie"] if summary.contract else None
    assert api is not None
    assert [f.severity for f in api.failures] == [Severity.FAILURE]
    assert [f.severity for f in api.warnings] == [Severity.ASSUMPTION] and api.warnings[0].note == "minLength: guessed"
    assert [f.severity for f in api.known] == [Severity.KNOWN] and [f.severity for f in api.fixed] == [Severity.FIXED]
    assert not evaluate(summary).passed
    # the gate settles again with another list: here, one that accepts both failures
    both = ENTRIES + ('\n[[accept]]\napi = "codemie"\noperation = "POST /v1/assistants/{assistant_id}/model"\n'
                      'check = "status_code_conformance"\nreason = "teapot"\n')
    settled = _list(tmp_path, both).settle_summary(summary)
    gate = evaluate(settled)
    assert gate.passed, gate.verdicts
    assert "1 warning" in gate.verdicts[0].message and "2 known failures accepted" in gate.verdicts[0].message
    assert not evaluate(settled, strict=True).passed  # the warning fails a strict gate
    # and with a list that accepts nothing of codemie, both failures fail again
    assert not evaluate(_list(tmp_path, ENTRIES.replace('api = "codemie"', 'api = "basejump"')).settle_summary(
        summary)).passed


def test_summary_sections_reject_misplaced_severities() -> None:
    from apigate.errors import DocumentError

    with pytest.raises(DocumentError, match="does not belong"):
        parse_summary({"contract": {"codemie": {"passed": True, "checks": 1, "warnings": [
            {"operation": "o", "check": "c", "reason": "r", "severity": "failure"}]}}})


def _drift(rule: str, path: str = "/realms/{realm}/protocol/openid-connect/token") -> DriftFinding:
    return DriftFinding("breaking", rule, path, "post", "response 200", "required", "optional", "m")


def test_settle_drift(tmp_path: Path) -> None:
    accept = _list(tmp_path)
    settled = accept.settle_drift("keycloak", [_drift("response-property-became-optional"),
                                               _drift("operation-removed")])
    assert [f.rule for f in settled.findings] == ["operation-removed"]
    assert [f.rule for f, _ in settled.known] == ["response-property-became-optional"]
    assert not settled.fails and settled.entries == []
    nothing = accept.settle_drift("keycloak", [_drift("operation-removed")])
    assert [severity for _, severity, _ in nothing.entries] == [Severity.FIXED]
    expired = _list(tmp_path, ENTRIES.replace('reason = "FastAPI marks defaulted fields optional"',
                                              'reason = "FastAPI"\nexpires = 2026-01-01'))
    late = expired.settle_drift("keycloak", [_drift("response-property-became-optional")])
    assert late.fails and [f.rule for f in late.findings] == ["response-property-became-optional"]


def test_gate_command_strict_and_accept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from apigate.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APIGATE_CONFIG", raising=False)
    result = _codemie_result()
    result.record("GET /v1/user", "negative_data_rejection", AssertionError("accepted"), severity=Severity.ASSUMPTION,
                  note="minLength: guessed")
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"contract": {"codemie": result.to_summary()}}), encoding="utf-8")
    assert main(["gate", str(path)]) == 1  # two failures, nothing accepted
    both = ENTRIES + ('\n[[accept]]\napi = "codemie"\noperation = "POST /v1/assistants/{assistant_id}/model"\n'
                      'check = "status_code_conformance"\nreason = "teapot"\n')
    (tmp_path / "accept.toml").write_text(both, encoding="utf-8")
    capsys.readouterr()
    assert main(["gate", str(path), "--accept", str(tmp_path / "accept.toml")]) == 0
    assert "2 known failures accepted" in capsys.readouterr().out
    assert main(["gate", str(path), "--accept", str(tmp_path / "accept.toml"), "--strict"]) == 1
    # apigate.toml's [[accept]] tables are the default list
    (tmp_path / "apigate.toml").write_text(both, encoding="utf-8")
    assert main(["gate", str(path)]) == 0


def test_a_run_sets_aside_only_what_an_entry_in_force_accepts(tmp_path: Path) -> None:
    """During a run (RunState.set_aside), an accepted failure is kept aside so that the property tests search on;
    a failure of an expired entry, or one no entry names, stays with schemathesis and fails."""
    known = Finding(CHAT, "not_a_server_error", "Server error: 500 Internal Server Error", curl="curl -d x")
    new = Finding(CHAT, "status_code_conformance", "Undocumented status 418", curl="curl -d x")
    state = RunState(load_contract("codemie"), {}, accept=_list(tmp_path))
    assert state.set_aside("codemie", known) and not state.set_aside("codemie", new)
    assert state.accepted == [known]
    expired = RunState(load_contract("codemie"), {}, accept=_list(tmp_path, today=dt.date(2027, 1, 1)))
    assert not expired.set_aside("codemie", known)
    assert not RunState(load_contract("codemie"), {}).set_aside("codemie", known)
