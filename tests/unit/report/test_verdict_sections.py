"""Warnings, known failures and accept entries each have their own section in every writer, and only what fails
the run is a JUnit failure: the terminal summary and JUnit of ``apigate contract``, and summary.md, report.html and
junit.xml of a report folder."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from apigate.contract.report import render_junit as contract_junit
from apigate.contract.report import render_text
from apigate.contract.results import ApiResult, ContractResult, Finding
from apigate.gate import evaluate
from apigate.report import render_html, render_junit, render_markdown
from apigate.report.text import contract_sections
from apigate.summary import Summary, parse_summary
from apigate.verdict import Severity

OP = "POST /account/team/"


def _result(*, strict: bool = False) -> ContractResult:
    api = ApiResult("basejump", "http://127.0.0.1:1/api/v1", duration_s=1.0, seed=4242)
    api.record(OP, "ignored_auth", None)
    api.record(OP, "negative_data_rejection", AssertionError("Schema-violating request accepted"),
               severity=Severity.ASSUMPTION, note="team_name minLength: no source says an empty name is refused")
    api.record(OP, "status_code_conformance", AssertionError("Undocumented 413"), severity=Severity.HTTP_LAYER,
               note="413 without the service's error body, for header(s) X-Big the contract does not declare")
    api.record(OP, "not_a_server_error", AssertionError("Server error 500"), severity=Severity.KNOWN,
               note="500 on huge names (BJ-7) (apigate.toml entry 1)")
    api.record(OP, "positive_data_acceptance", AssertionError("Rejected 422"))
    api.accept_entries = [
        Finding("POST /chat/team/{team_uuid}/", "ignored_auth", "basejump POST /chat/team/{team_uuid}/ ignored_auth",
                severity=Severity.FIXED, note="no longer occurs: remove apigate.toml entry 2 (BJ-3)"),
        Finding("POST /auth/token/", "not_a_server_error", "basejump POST /auth/token/ not_a_server_error",
                severity=Severity.EXPIRED, note="apigate.toml entry 3 expired on 2026-01-01 and no longer occurs"),
    ]
    settings = {"apis": ["basejump"], "seed": 4242}
    return ContractResult("2026-11-23T10:15:00Z", {"basejump": api.base_url}, {"basejump": api}, 1.5, settings,
                          strict=strict)


def _summary() -> Summary:
    return parse_summary({"started_at": "2026-11-23T10:15:00Z", "contract": _result().to_summary()},
                         source="reports/x/summary.json")


def test_terminal_summary_has_a_section_each() -> None:
    text = render_text(_result())
    warnings = text.index("warnings — assumed constraints")
    known = text.index("known failures — accepted")
    entries = text.index("accept entries that matched nothing")
    assert warnings < known < entries
    assert "minLength: no source says" in text[warnings:known] and "HTTP layer" not in text[:warnings]
    assert "500 on huge names" in text[known:entries]
    assert "FIXED basejump" in text[entries:] and "EXPIRED basejump" in text[entries:]
    assert text.rstrip().splitlines()[-1].startswith("contract: FAILED (2 failing checks, 2 warnings, 1 known, 1 fixed)")
    assert "seed 4242 (replay: apigate contract --api basejump --seed 4242)" in text


def test_contract_junit_fails_only_on_what_fails_the_run() -> None:
    root = ElementTree.fromstring(contract_junit(_result()).split("?>", 1)[1])
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"contract.basejump", "contract.basejump.warnings", "contract.basejump.known",
                           "contract.basejump.accept_entries"}
    assert [f.get("type") for f in suites["contract.basejump"].iter("failure")] == ["positive_data_acceptance"]
    assert not list(suites["contract.basejump.warnings"].iter("failure"))
    assert len(list(suites["contract.basejump.warnings"].iter("testcase"))) == 2
    assert not list(suites["contract.basejump.known"].iter("failure"))
    assert [f.get("type") for f in suites["contract.basejump.accept_entries"].iter("failure")] == ["expired"]
    seed = suites["contract.basejump"].find("properties/property[@name='seed']")
    assert seed is not None and seed.get("value") == "4242"
    strict = ElementTree.fromstring(contract_junit(_result(strict=True)).split("?>", 1)[1])
    strict_types = sorted(str(f.get("type")) for s in strict.iter("testsuite") if s.get("name") == "contract.basejump"
                          for f in s.iter("failure"))
    assert strict_types == ["negative_data_rejection", "positive_data_acceptance", "status_code_conformance"]


def test_summary_md_has_a_section_each() -> None:
    summary = _summary()
    text = render_markdown(summary, evaluate(summary))
    for title in ("### Failures", "### Warnings", "### Known failures (accepted)", "### Fixed"):
        assert title in text, title
    failures = text[text.index("### Failures"):text.index("### Warnings")]
    assert "positive_data_acceptance" in failures and "expired on 2026-01-01" in failures
    assert "negative_data_rejection" not in failures
    assert "| basejump | ❌ failed | 5 | 1 | 2 | 1 | 4242 |" in text


def test_report_html_has_a_section_each() -> None:
    summary = _summary()
    page = render_html(summary, gate=evaluate(summary))
    for title in ("Contract warnings", "Known failures", "Accept entries that matched nothing"):
        assert f"<h2>{title}</h2>" in page
    assert "warning (HTTP layer)" in page and "known failure (accepted)" in page and "4242" in page


def test_report_junit_keeps_warnings_and_known_out_of_the_failures() -> None:
    summary = _summary()
    root = ElementTree.fromstring(render_junit(summary).split("?>", 1)[1])
    contract = next(s for s in root.iter("testsuite") if s.get("name") == "contract.basejump")
    assert sorted(str(f.get("type")) for f in contract.iter("failure")) == ["not_a_server_error",
                                                                            "positive_data_acceptance"]
    outputs = [case.findtext("system-out") or "" for case in contract.iter("testcase")]
    assert any(text.startswith("warning (assumption)") for text in outputs)
    assert any(text.startswith("known failure (accepted)") for text in outputs)
    assert any(text.startswith("fixed") for text in outputs)


def test_run_and_gate_terminal_sections() -> None:
    text = contract_sections(_summary())
    warnings, known, entries = (text.index(t) for t in ("contract warnings", "known failures", "accept entries"))
    assert warnings < known < entries
    assert "assumption basejump POST /account/team/ negative_data_rejection: team_name minLength" in text
    assert "http_layer" in text[warnings:known] and "known      basejump" in text[known:entries]
    assert "expired" in text[entries:] and "fixed" in text[entries:]
    assert contract_sections(parse_summary({"contract": {}})) == ""
