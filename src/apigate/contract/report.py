"""Writers of a contract run: the terminal summary, JUnit XML and ``summary.json`` (all text redacted).

Failures are listed under their operation. Warnings (assumed constraints, HTTP-layer answers), known failures (the
accept file) and accept entries that matched nothing (fixed, or expired) each get their own section, in the
terminal and as their own JUnit test suites: warnings and known failures are passing test cases there, an expired
entry is a failing one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree

from apigate._version import __version__
from apigate.contract.results import ApiResult, ContractResult, Finding, OperationResult
from apigate.redact import redact
from apigate.verdict import Severity

__all__ = ["render_junit", "render_text", "summary_document", "write_reports"]


def _status(op: OperationResult) -> str:
    if op.failures:
        return "FAIL"
    if op.warnings:
        return "WARN"
    if op.checks == 0:
        return "SKIP"
    return "ok"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _replay_hint(seed: int | None, apis: Sequence[str] = ()) -> str:
    """``seed 42 (replay: apigate contract --api basejump --seed 42)``."""
    if seed is None:
        return ""
    api = f" --api {apis[0]}" if len(apis) == 1 else ""
    return f"seed {seed} (replay: apigate contract{api} --seed {seed})"


def _finding_lines(f: Finding, first: str, indent: str) -> list[str]:
    """``first`` + the check and its reason, then the note and the curl, each line after ``indent``."""
    lines = [f"{first}{f.check} — {f.reason}"]
    if f.note:
        lines.append(f"{indent}{'accepted: ' if f.severity is Severity.KNOWN else ''}{f.note}")
    lines += [f"{indent}{line}" for line in f.curl.splitlines()]
    return lines


_SECTIONS: tuple[tuple[str, tuple[Severity, ...]], ...] = (
    ("warnings — assumed constraints and HTTP-layer answers (they fail only a --strict run)",
     (Severity.ASSUMPTION, Severity.HTTP_LAYER)),
    ("known failures — accepted by the accept file", (Severity.KNOWN,)),
)


def render_text(result: ContractResult, *, verbose: bool = False) -> str:
    """A readable summary: per API and operation the failed checks with a one-line reason and a curl; then the
    warnings, the known failures and the accept entries that matched nothing, each in its own section."""
    lines: list[str] = []
    for api in result.apis.values():
        state = "passed" if not api.failing(strict=result.strict) else "FAILED"
        counts = [_plural(api.checks, "check"), _plural(len(api.failures), "failure")]
        if api.warnings:
            counts.append(_plural(len(api.warnings), "warning"))
        if api.of(Severity.KNOWN):
            counts.append(f"{len(api.of(Severity.KNOWN))} known")
        lines.append(f"{api.api} ({api.base_url}): {state} — {', '.join(counts)}, {api.duration_s:.1f}s")
        for op in sorted(api.operations.values(), key=lambda o: o.operation):
            if not op.failures and not verbose:
                note = f" ({op.skipped})" if op.checks == 0 and op.skipped else ""
                lines.append(f"  {_status(op):4} {op.operation} [{op.checks} checks]{note}")
                continue
            lines.append(f"  {_status(op):4} {op.operation} [{op.checks} checks]")
            for failure in op.failures:
                lines += _finding_lines(failure, "       ✗ ", "         ")
        for note in api.notes:
            lines.append(f"  note: {note}")
    for title, severities in _SECTIONS:
        found = [(api.api, f) for api in result.apis.values() for f in api.of(*severities)]
        if found:
            lines.append(f"{title}:")
            for name, f in found:
                lines.append(f"  {name} {f.operation}:")
                lines += _finding_lines(f, "    ", "        ")
    entries = [(api.api, f) for api in result.apis.values() for f in api.accept_entries]
    if entries:
        lines.append("accept entries that matched nothing in this run:")
        for name, f in entries:
            lines.append(f"  {f.severity.value.upper()} {name} {f.operation} {f.check}: {f.note}")
    lines.append(_verdict_line(result))
    return redact("\n".join(lines)) + "\n"


def _verdict_line(result: ContractResult) -> str:
    """``contract: PASSED (2 warnings, 1 known) in 20.4s — seed 42 (replay: ...)``."""
    apis = list(result.apis.values())
    warnings = sum(len(api.warnings) for api in apis)
    known = sum(len(api.of(Severity.KNOWN)) for api in apis)
    fixed = sum(1 for api in apis for f in api.accept_entries if f.severity is Severity.FIXED)
    counts = [_plural(warnings, "warning") + (" (--strict)" if result.strict else "")] if warnings else []
    counts += [f"{known} known"] if known else []
    counts += [f"{fixed} fixed"] if fixed else []
    failing = result.failing()
    if failing:
        counts.insert(0, _plural(len(failing), "failing check"))
    verdict = ("FAILED" if failing else "PASSED") + (f" ({', '.join(counts)})" if counts else "")
    seed = result.settings.get("seed")
    hint = _replay_hint(seed if isinstance(seed, int) else None, result.settings.get("apis") or ())
    return f"contract: {verdict} in {result.duration_s:.1f}s" + (f" — {hint}" if hint else "")


def _text(f: Finding) -> str:
    parts = [f"{f.check} — {f.reason}"]
    if f.note:
        parts.append(f.note)
    if f.detail and f.detail.strip() != f.reason:
        parts.append(f.detail)
    if f.curl:
        parts.append(f"Reproduce with:\n{f.curl}")
    return redact("\n\n".join(parts))


def _properties(suite: ElementTree.Element, api: ApiResult) -> None:
    props = ElementTree.SubElement(suite, "properties")
    ElementTree.SubElement(props, "property", name="base_url", value=redact(api.base_url))
    if api.seed is not None:
        ElementTree.SubElement(props, "property", name="seed", value=str(api.seed))


def _suite(api: ApiResult, strict: bool) -> ElementTree.Element:
    failing = [op for op in api.operations.values() if op.failures or (strict and op.warnings)]
    skipped = sum(1 for op in api.operations.values() if op.checks == 0 and not op.findings)
    suite = ElementTree.Element(
        "testsuite",
        name=f"contract.{api.api}",
        tests=str(len(api.operations)),
        failures=str(len(failing)),
        errors="0",
        skipped=str(skipped),
        time=f"{api.duration_s:.3f}",
    )
    _properties(suite, api)
    if api.notes:
        ElementTree.SubElement(suite, "system-out").text = redact("\n".join(f"note: {note}" for note in api.notes))
    for op in sorted(api.operations.values(), key=lambda o: o.operation):
        case = ElementTree.SubElement(suite, "testcase", classname=f"contract.{api.api}", name=op.operation)
        ElementTree.SubElement(case, "system-out").text = f"{op.checks} checks"
        for finding in (*op.failures, *(op.warnings if strict else ())):
            element = ElementTree.SubElement(case, "failure", message=redact(f"{finding.check} — {finding.reason}"),
                                             type=finding.check)
            element.text = _text(finding)
        if op.checks == 0 and not op.findings:
            ElementTree.SubElement(case, "skipped", message=redact(op.skipped or "nothing was checked"))
    return suite


def _section_suite(api: ApiResult, section: str, findings: Sequence[Finding], strict: bool) -> ElementTree.Element:
    """``contract.<api>.<section>``: one test case per finding; it fails only when the finding fails the run."""
    name = f"contract.{api.api}.{section}"
    cases = []
    for f in findings:
        case = ElementTree.Element("testcase", classname=name, name=f"{f.operation} {f.check}")
        if f.severity.fails(strict=strict):
            element = ElementTree.SubElement(case, "failure", message=redact(f"{f.check} — {f.reason}"),
                                             type=f.severity.value)
            element.text = _text(f)
        else:
            ElementTree.SubElement(case, "system-out").text = f"{f.severity.label}: {_text(f)}"
        cases.append(case)
    suite = ElementTree.Element("testsuite", name=name, tests=str(len(cases)),
                                failures=str(sum(1 for c in cases if c.find("failure") is not None)), errors="0",
                                skipped="0", time="0.000")
    suite.extend(cases)
    return suite


def _api_suites(api: ApiResult, strict: bool) -> list[ElementTree.Element]:
    suites = [_suite(api, strict)]
    for section, findings in (("warnings", api.warnings if not strict else []), ("known", api.of(Severity.KNOWN)),
                              ("accept_entries", api.accept_entries)):
        if findings:
            suites.append(_section_suite(api, section, findings, strict))
    return suites


def render_junit(result: ContractResult) -> str:
    suites = [suite for api in result.apis.values() for suite in _api_suites(api, result.strict)]
    root = ElementTree.Element(
        "testsuites",
        name="apigate contract",
        tests=str(sum(int(s.get("tests", "0")) for s in suites)),
        failures=str(sum(int(s.get("failures", "0")) for s in suites)),
        errors="0",
        time=f"{result.duration_s:.3f}",
    )
    root.extend(suites)
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
