from __future__ import annotations

from pathlib import Path

import pytest
from report.fakes import fake_document

from apigate import cli
from apigate.cli import main
from apigate.errors import DocumentError
from apigate.history import baseline_from_history, read_runs, record_run
from apigate.redact import register_secret
from apigate.summary import parse_summary

M = "codemie.stream.ttfc"


@pytest.fixture(autouse=True)
def _only_our_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMANDS", {"gate": "apigate.commands.gate", "history": "apigate.commands.history"})


def _run(values: list[float], started_at: str = "2026-11-23T10:15:00Z") -> tuple[dict, dict[str, list[float]]]:
    samples = {M: values, "codemie.chat": [v / 10 for v in values]}
    return fake_document(samples, failures=0, started_at=started_at), samples


def test_record_and_read_back(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "history.sqlite"
    doc, samples = _run([100.0, 110.0, 120.0])
    first = record_run(db, parse_summary(doc), samples, "main-1", True)
    second = record_run(db, doc, samples, "main-2", False)  # a plain summary.json document works too
    assert (first, second) == (1, 2)
    runs = read_runs(db)
    assert [(r.id, r.label, r.passed) for r in runs] == [(1, "main-1", True), (2, "main-2", False)]
    assert runs[0].metrics[M].p50 == 110.0 and runs[0].metrics[M].count == 3
    assert [r.id for r in read_runs(db, last=1)] == [2]
    assert [r.id for r in read_runs(db, passing_only=True)] == [1]


def test_baseline_is_the_median_of_the_last_n_passing_runs(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    for values, passed in [([500.0] * 5, True), ([10.0] * 4, True), ([30.0] * 4, True), ([9999.0] * 4, False),
                           ([20.0] * 4, True)]:
        doc, samples = _run(values)
        record_run(db, doc, samples, passed=passed)
    baseline = baseline_from_history(db, 3)
    assert baseline is not None
    assert baseline.metrics[M].p50 == 20.0 and baseline.metrics[M].p95 == 20.0  # median of 10, 30, 20
    assert baseline.metrics[M].count == 12
    assert baseline.samples is not None and sorted(baseline.samples[M]) == [10.0] * 4 + [20.0] * 4 + [30.0] * 4
    assert "last 3 passing runs (#2, #3, #5)" in baseline.source
    assert baseline_from_history(db, 10).metrics[M].p50 == 25.0  # median of 500, 10, 30, 20


def test_empty_missing_and_corrupt_databases(tmp_path: Path) -> None:
    assert read_runs(tmp_path / "nothing.sqlite") == []
    assert baseline_from_history(tmp_path / "nothing.sqlite") is None
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(DocumentError, match="history database"):
        read_runs(bad)
    with pytest.raises(DocumentError):
        record_run(bad, fake_document({M: [1.0]}), None)


def test_stored_summary_and_label_are_redacted(tmp_path: Path) -> None:
    register_secret("history-sentinel-secret-42")
    db = tmp_path / "h.sqlite"
    doc, samples = _run([1.0, 2.0])
    doc["failures"] = [{"name": "codemie.stream", "reason": "token history-sentinel-secret-42 rejected", "count": 1}]
    record_run(db, doc, samples, label="history-sentinel-secret-42")
    assert b"history-sentinel-secret-42" not in db.read_bytes()


def test_samples_are_capped(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    doc, samples = _run([float(i) for i in range(500)])
    record_run(db, doc, samples, max_samples=50)
    baseline = baseline_from_history(db, 1)
    assert baseline is not None and baseline.samples is not None and len(baseline.samples[M]) == 50


def test_history_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    assert main(["history", "--db", str(db)]) == 0
    assert "no runs recorded" in capsys.readouterr().err
    for i, values in enumerate([[100.0, 110.0], [120.0, 130.0], [140.0, 150.0]]):
        doc, samples = _run(values, started_at=f"2026-11-2{i}T10:00:00Z")
        record_run(db, doc, samples, f"run-{i}", passed=i != 1)
    assert main(["history", "--db", str(db)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["run", "time", "label", "result"] and f"{M} p95" in out[0]
    assert out[1].split()[:4] == ["#1", "2026-11-20T10:00:00Z", "run-0", "pass"]
    assert out[2].split()[3] == "FAIL" and len(out) == 5
    assert main(["history", "--db", str(db), "--metric", M, "--last", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[4:] == [M, "p50", M, "p95", M, "p99"]
    assert out[1].split()[:5] == ["#2", "2026-11-21T10:00:00Z", "run-1", "FAIL", "125"] and len(out) == 4
    assert main(["history", "--db", str(db), "--metric", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no recorded run measured 'nope'" in err and err.count("\n") == 1
