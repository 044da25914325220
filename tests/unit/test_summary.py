from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from report.fakes import fake_document, write_run

from apigate.errors import DocumentError
from apigate.summary import load_samples, load_summary, parse_summary


def test_load_summary_with_samples_from_file_or_folder(tmp_path: Path) -> None:
    samples = {"codemie.chat": [1.0, 2.0, 3.0]}
    path = write_run(tmp_path / "run", fake_document(samples, failures=2), samples)
    for where in (path, path.parent):
        s = load_summary(where)
        assert s.samples == samples and s.metrics["codemie.chat"].p50 == 2.0
        assert s.requests["codemie.stream"].failures == 2 and s.timeline[0][0] == 0
    assert load_summary(path, with_samples=False).samples is None


def test_missing_samples_file_is_a_note_not_an_error(tmp_path: Path) -> None:
    path = write_run(tmp_path, fake_document({"codemie.chat": [1.0]}), None)
    s = load_summary(path)
    assert s.samples is None and "missing" in s.samples_note


def test_contract_only_summary(tmp_path: Path) -> None:
    s = parse_summary({"apigate_version": "0.1.0", "started_at": "x", "target": {},
                       "contract": {"codemie": {"passed": False, "checks": 3, "failures": [{"operation": "GET /v1/x",
                                                                                          "check": "c", "reason": "r"}]}}})
    assert s.metrics == {} and s.contract_passed is False and s.contract["codemie"].failures[0].operation == "GET /v1/x"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "must be a JSON object"),
        ({"metrics": {"m": {"count": "many"}}}, "metrics.m.count"),
        ({"metrics": {"m": {"count": 2, "p50": "fast"}}}, "metrics.m.p50"),
        ({"timeline": [[0, 1]]}, "timeline"),
        ({"contract": {"codemie": {"passed": "yes"}}}, "contract.codemie.passed"),
        ({"requests": {"r": {"count": -1}}}, "requests.r.count"),
    ],
)
def test_invalid_summaries_are_document_errors(doc: object, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        parse_summary(doc, source="s.json")


def test_unreadable_samples_file(tmp_path: Path) -> None:
    bad = tmp_path / "samples.json.gz"
    bad.write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(DocumentError, match="cannot read samples file"):
        load_samples(bad)
    bad.write_bytes(gzip.compress(json.dumps({"m": ["x"]}).encode()))
    with pytest.raises(DocumentError, match="not a number"):
        load_samples(bad)
