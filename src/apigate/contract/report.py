"""Writers of a contract run: the terminal summary, JUnit XML and ``summary.json`` (all text redacted)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

from apigate._version import __version__
from apigate.contract.results import ApiResult, ContractResult, OperationResult
from apigate.redact import redact

__all__ = ["render_junit", "render_text", "write_reports"]


def _status(op: OperationResult) -> str:
    if op.failures:
        return "FAIL"
    if op.checks == 0:
        return "SKIP"
    return "ok"


def render_text(result: ContractResult, *, verbose: bool = False) -> str:
    """A readable summary: per API and operation, passed / failed check with a one-line reason and a curl."""
    lines: list[str] = []
    for api in result.apis.values():
        state = "passed" if api.passed else "FAILED"
        lines.append(f"{api.api} ({api.base_url}): {state} — {api.checks} checks, {len(api.failures)} failures,"
                     f" {api.duration_s:.1f}s")
        for op in sorted(api.operations.values(), key=lambda o: o.operation):
            if op.passed and not verbose:
                note = f" ({op.skipped})" if op.checks == 0 and op.skipped else ""
                lines.append(f"  {_status(op):4} {op.operation} [{op.checks} checks]{note}")
                continue
            lines.append(f"  {_status(op):4} {op.operation} [{op.checks} checks]")
            for failure in op.failures:
                lines.append(f"       ✗ {failure.check} — {failure.reason}")
                if failure.curl:
                    for curl_line in failure.curl.splitlines():
                        lines.append(f"         {curl_line}")
        for note in api.notes:
            lines.append(f"  note: {note}")
    total = len(result.failures)
    verdict = "PASSED" if result.passed else f"FAILED ({total} failing check{'s' if total != 1 else ''})"
    lines.append(f"contract: {verdict} in {result.duration_s:.1f}s")
    return redact("\n".join(lines)) + "\n"


def _suite(api: ApiResult) -> ElementTree.Element:
    failures = sum(1 for op in api.operations.values() if op.failures)
    skipped = sum(1 for op in api.operations.values() if op.checks == 0 and not op.failures)
    suite = ElementTree.Element(
        "testsuite",
        name=f"contract.{api.api}",
        tests=str(len(api.operations)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{api.duration_s:.3f}",
    )
    ElementTree.SubElement(ElementTree.SubElement(suite, "properties"), "property", name="base_url",
                           value=redact(api.base_url))
    if api.notes:
        ElementTree.SubElement(suite, "system-out").text = redact("\n".join(f"note: {note}" for note in api.notes))
    for op in sorted(api.operations.values(), key=lambda o: o.operation):
        case = ElementTree.SubElement(suite, "testcase", classname=f"contract.{api.api}", name=op.operation)
        ElementTree.SubElement(case, "system-out").text = f"{op.checks} checks"
        for failure in op.failures:
            element = ElementTree.SubElement(case, "failure", message=redact(f"{failure.check} — {failure.reason}"),
                                             type=failure.check)
            parts = [f"{failure.check} — {failure.reason}"]
            if failure.detail and failure.detail.strip() != failure.reason:
                parts.append(failure.detail)
            if failure.curl:
                parts.append(f"Reproduce with:\n{failure.curl}")
            element.text = redact("\n\n".join(parts))
        if op.checks == 0 and not op.failures:
            ElementTree.SubElement(case, "skipped", message=redact(op.skipped or "nothing was checked"))
    return suite


def render_junit(result: ContractResult) -> str:
    root = ElementTree.Element(
        "testsuites",
        name="apigate contract",
        tests=str(sum(len(api.operations) for api in result.apis.values())),
        failures=str(sum(1 for api in result.apis.values() for op in api.operations.values() if op.failures)),
        errors="0",
        time=f"{result.duration_s:.3f}",
    )
    for api in result.apis.values():
        root.append(_suite(api))
    ElementTree.indent(root)
    # every text and attribute value was redacted as data above; redacting the serialised XML could run across
    # markup (an escaped quote inside a value is indistinguishable from the attribute's end)
    return ElementTree.tostring(_xml_safe(root), encoding="unicode", xml_declaration=True) + "\n"


# characters XML 1.0 does not allow (a failure's text may quote a generated body holding them, e.g. a form feed)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(root: ElementTree.Element) -> ElementTree.Element:
    """``root`` with every character XML cannot hold, in texts and attribute values, written as Python writes it
    in a string literal (``\\x0c``, ``\\ud800``)."""

    def clean(text: str) -> str:
        return _NOT_XML.sub(lambda m: repr(m.group())[1:-1], text)

    for element in root.iter():
        if element.text:
            element.text = clean(element.text)
        if element.tail:
            element.tail = clean(element.tail)
        for name, value in element.attrib.items():
            element.set(name, clean(value))
    return root


def summary_document(result: ContractResult) -> dict[str, object]:
    """The ``summary.json`` of ``apigate contract --out DIR``: version, start, target and the ``contract`` key."""
    return {
        "apigate_version": __version__,
        "started_at": result.started_at,
        "duration_s": round(result.duration_s, 3),
        "target": result.target,
        "settings": result.settings,
        "contract": result.to_summary(),
    }


def write_reports(result: ContractResult, out_dir: Path) -> list[Path]:
    """Write ``junit.xml`` and ``summary.json`` into ``out_dir`` (created); return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    junit = out_dir / "junit.xml"
    junit.write_text(render_junit(result), encoding="utf-8")
    summary = out_dir / "summary.json"
    summary.write_text(redact(json.dumps(summary_document(result), indent=2, ensure_ascii=False)) + "\n",
                       encoding="utf-8")
    return [junit, summary]
