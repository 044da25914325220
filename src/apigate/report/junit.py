"""``junit.xml``: contract results and gate verdicts as JUnit test cases (the schema GitLab, Jenkins and GitHub
test reporters read: ``testsuites > testsuite > testcase > failure|skipped``)."""

from __future__ import annotations

from xml.etree import ElementTree

from apigate.gate import GateResult
from apigate.report._common import redact_markup
from apigate.summary import ApiContract, ContractFinding, Summary
from apigate.verdict import Severity

__all__ = ["render_junit"]


def _suite(name: str, timestamp: str, cases: list[ElementTree.Element], time: float = 0.0) -> ElementTree.Element:
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    suite = ElementTree.Element("testsuite", name=name, tests=str(len(cases)), failures=str(failures),
                                errors=str(errors), skipped=str(skipped), time=f"{time:.3f}")
    if timestamp:
        suite.set("timestamp", timestamp.removesuffix("Z"))
    suite.extend(cases)
    return suite


def _case(classname: str, name: str) -> ElementTree.Element:
    return ElementTree.Element("testcase", classname=classname, name=name, time="0")


def _contract_cases(api: ApiContract) -> list[ElementTree.Element]:
    """A failing case per failure (and expired accept entry); a passing case per warning, known failure and fixed
    entry, its severity in the text; one case for the checks that passed."""
    classname = f"contract.{api.api}"
    cases = []
    for finding in (*api.failures, *(e for e in api.accept_entries if e.severity is Severity.EXPIRED)):
        case = _case(classname, f"{finding.operation} {finding.check}".strip())
        element = ElementTree.SubElement(case, "failure", message=finding.reason, type=finding.check or "contract")
        element.text = _text(finding)
        cases.append(case)
    if not api.passed and not api.failures and not api.warnings:  # failed without a recorded reason
        case = _case(classname, "contract")
        ElementTree.SubElement(case, "failure", message="the contract suite failed", type="contract")
        cases.append(case)
    for section, findings in (("warning", api.warnings), ("known", api.known), ("fixed", api.fixed)):
        for finding in findings:
            case = _case(f"{classname}.{section}", f"{finding.operation} {finding.check}".strip())
            ElementTree.SubElement(case, "system-out").text = f"{finding.severity.label}: {_text(finding)}"
            cases.append(case)
    passed = api.checks - len(api.failures) - len(api.warnings) - len(api.known)
    if passed > 0 or not cases:
        case = _case(classname, f"{passed} passing checks" if cases else f"all {api.checks} checks")
        cases.append(case)
    return cases


def _text(finding: ContractFinding) -> str:
    parts = [finding.reason]
    if finding.note:
        parts.append(finding.note)
    if finding.curl:
        parts.append(f"Reproduce with:\n{finding.curl}")
    return "\n\n".join(parts)


def render_junit(summary: Summary, gate: GateResult | None = None) -> str:
    """JUnit XML: one suite per API's contract results and one ``gate`` suite with a case per verdict."""
    suites = []
    if summary.contract is not None:
        for api in summary.contract.values():
            suite = _suite(f"contract.{api.api}", summary.started_at, _contract_cases(api))
            if api.seed is not None:
                props = ElementTree.Element("properties")
                ElementTree.SubElement(props, "property", name="seed", value=str(api.seed))
                suite.insert(0, props)
            suites.append(suite)
    if gate is not None:
        cases = []
        for verdict in gate.verdicts:
            case = _case(f"gate.{verdict.kind}", verdict.name)
            if verdict.status == "fail":
                tag = "error" if verdict.kind == "error" else "failure"  # a step that did not finish vs a finding
                element = ElementTree.SubElement(case, tag, message=verdict.message, type=verdict.kind)
                element.text = verdict.message
            elif verdict.status == "skip":
                ElementTree.SubElement(case, "skipped", message=verdict.message)
            else:
                ElementTree.SubElement(case, "system-out").text = verdict.message
            cases.append(case)
        suite = _suite("gate", summary.started_at, cases, summary.duration_s)
        if gate.baseline:
            props = ElementTree.Element("properties")
            ElementTree.SubElement(props, "property", name="baseline", value=gate.baseline)
            suite.insert(0, props)
        suites.append(suite)
    root = ElementTree.Element(
        "testsuites",
        name="apigate",
        tests=str(sum(int(s.get("tests", "0")) for s in suites)),
        failures=str(sum(int(s.get("failures", "0")) for s in suites)),
        errors=str(sum(int(s.get("errors", "0")) for s in suites)),
        skipped=str(sum(int(s.get("skipped", "0")) for s in suites)),
        time=f"{summary.duration_s:.3f}",
    )
    root.extend(suites)
    ElementTree.indent(root)
    return redact_markup(ElementTree.tostring(root, encoding="unicode", xml_declaration=True)) + "\n"
