from __future__ import annotations

from xml.etree import ElementTree

from apigate.gate import GateResult
from apigate.report import render_junit
from apigate.summary import Summary
from report.conftest import SECRET, check_snapshot


def test_junit_snapshot(run: Summary, gate: GateResult) -> None:
    check_snapshot("junit.xml", render_junit(run, gate))


def test_junit_is_valid_and_counts_add_up(run: Summary, gate: GateResult) -> None:
    text = render_junit(run, gate)
    assert text.startswith("<?xml")
    root = ElementTree.fromstring(text)
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"contract.codemie", "contract.keycloak", "gate"}
    for suite in suites.values():
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
        assert all(c.get("classname") and c.get("name") for c in cases)
    assert int(root.get("tests", "0")) == sum(int(s.get("tests", "0")) for s in suites.values())
    failed = {c.get("name"): c.find("failure") for c in suites["gate"].findall("testcase")
              if c.find("failure") is not None}
    assert set(failed) == {"contract codemie", "codemie.stream.ttfc.p95 <= 400", "regression codemie.stream.ttfc"}
    message = failed["regression codemie.stream.ttfc"].get("message", "")  # type: ignore[union-attr]
    assert "+302.0 ms" in message and "tolerance only" in message
    contract_failure = suites["contract.codemie"].find("testcase/failure")
    assert contract_failure is not None and "Reproduce with" in (contract_failure.text or "")
    assert SECRET not in text and "abc.def" not in text


def test_junit_without_gate_has_only_contract_suites(baseline: Summary) -> None:
    root = ElementTree.fromstring(render_junit(baseline))
    assert [s.get("name") for s in root.findall("testsuite")] == ["contract.codemie", "contract.keycloak"]
    assert root.get("failures") == "0"
