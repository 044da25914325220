"""The corpus: pairs of documents with the exact set of findings each must produce.

Each folder under ``corpus/`` holds ``old.yaml``, ``new.yaml`` (and sometimes files they reference) and
``expected.yaml``: a description and the full list of ``[severity, rule, location]`` expected, written from the
rules, not from the tool's output.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from apigate.diff import RULES, diff_documents, load_document

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def _expected(case: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CORPUS / case / "expected.yaml").read_text(encoding="utf-8"))
    return data


def _found(case: str) -> list[tuple[str, str, str]]:
    old = load_document(str(CORPUS / case / "old.yaml"))
    new = load_document(str(CORPUS / case / "new.yaml"))
    return [(f.severity, f.rule, f.location) for f in diff_documents(old, new)]


@pytest.mark.parametrize("case", CASES)
def test_case_produces_exactly_the_expected_findings(case: str) -> None:
    expected = Counter(tuple(f) for f in _expected(case)["findings"])
    assert Counter(_found(case)) == expected


@pytest.mark.parametrize("case", CASES)
def test_expected_findings_use_catalogued_rules_and_severities(case: str) -> None:
    for severity, rule, _location in _expected(case)["findings"]:
        assert RULES[rule][0] == severity


@pytest.mark.parametrize("case", CASES)
def test_a_document_compared_with_itself_has_no_finding(case: str) -> None:
    for side in ("old.yaml", "new.yaml"):
        path = str(CORPUS / case / side)
        assert diff_documents(load_document(path), load_document(path)) == []


def test_every_rule_has_a_corpus_pair() -> None:
    covered = {rule for case in CASES for _severity, rule, _location in _expected(case)["findings"]}
    document_rules = {rule for rule in RULES if not rule.startswith("discovery-")}  # those: test_drift.py
    assert document_rules - covered == set()


def test_compatible_only_pairs_have_no_breaking_or_warning_finding() -> None:
    compatible_cases = [c for c in CASES if all(s == "compatible" for s, _r, _l in _expected(c)["findings"])]
    assert len(compatible_cases) >= 10
    for case in compatible_cases:
        assert [f for f in _found(case) if f[0] != "compatible"] == [], case
