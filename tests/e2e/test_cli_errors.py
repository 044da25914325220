"""Bad input as users produce it: exit 2 with one line on stderr, never a traceback.

Most cases go through :func:`apigate.cli.main` in-process (fast); a few that need a real process (a child mock, Ctrl-C)
run ``python -m apigate``. Everything fails before any load or contract work starts, so the file runs in seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from apigate.cli import main
from apigate.loadrun.options import parse_duration


@pytest.fixture(autouse=True)
def _no_live_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("APIGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # default report folders land in the test's folder


def _fails_cleanly(capsys: pytest.CaptureFixture[str], argv: list[str], *, code: int = 2) -> str:
    try:
        got = main(argv)
    except SystemExit as exc:  # argparse
        got = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert got == code, (argv, got, err)
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "plain-file"
    path.write_text("x", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["load -t 2s --scenario tokens", "contract --api keycloak --max-examples 3",
                                     "run -t 2s"])
def test_out_that_is_a_file_or_under_one_is_a_usage_error(capsys: pytest.CaptureFixture[str], a_file: Path,
                                                          command: str) -> None:
    line = _fails_cleanly(capsys, [*command.split(), "--out", str(a_file)])
    assert "--out" in line and "not a folder" in line
    line = _fails_cleanly(capsys, [*command.split(), "--out", str(a_file / "sub")])
    assert "cannot create the folder" in line


def test_run_checks_its_history_db_before_any_work(capsys: pytest.CaptureFixture[str], a_file: Path,
                                                   tmp_path: Path) -> None:
    line = _fails_cleanly(capsys, ["run", "-t", "2s", "--out", str(tmp_path / "r"),
                                   "--history-db", str(a_file / "h.sqlite")])
    assert "--history-db" in line
    not_sqlite = tmp_path / "history.sqlite"
    not_sqlite.write_text("this is not a database", encoding="utf-8")
    line = _fails_cleanly(capsys, ["run", "-t", "2s", "--out", str(tmp_path / "r"), "--history-db", str(not_sqlite)])
    assert "not a usable apigate history database" in line
    assert not (tmp_path / "r" / "summary.json").exists()  # stopped before the contract suite


def test_gate_record_into_an_impossible_history_db(capsys: pytest.CaptureFixture[str], a_file: Path,
                                                   tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    summary.write_text('{"contract": {"keycloak": {"passed": true, "checks": 1, "failures": []}}}', encoding="utf-8")
    try:
        main(["gate", str(summary), "--record", "--history-db", str(a_file / "h.sqlite")])
    except SystemExit as exc:  # pragma: no cover - would be a failure below
        pytest.fail(f"exit {exc.code}")
    err = capsys.readouterr().err
    assert "Traceback" not in err and "cannot create the folder of history database" in err


@pytest.mark.parametrize(("argv", "expected"), [
    (["load", "-r", "nan", "-t", "5s"], "--spawn-rate"),
    (["load", "-t", "99999999999h"], "longer than a year"),
    (["load", "--progress-interval", "0", "-t", "5s"], "--progress-interval"),
    (["load", "--progress-interval", "nan", "-t", "5s"], "--progress-interval"),
    (["load", "--first-chunk-ms", "nan", "-t", "5s"], "first_chunk_ms"),
    (["mock", "--first-chunk-ms", "inf"], "first_chunk_ms"),
    (["mock", "--access-token-lifetime-s", "0"], "access_token_lifetime_s"),
    (["mock", "--host", "999.1.1.1", "--port", "0"], "cannot serve the mock on 999.1.1.1"),
    (["diff", "http://:bad/x", "y.yaml"], "not a usable URL"),
    (["load", "-t", "5x"], "bad duration"),
    (["load", "--bogus"], "unrecognized arguments"),
    (["contract", "--max-examples", "0"], "--max-examples"),
    (["history", "--last", "x"], "invalid int value"),
    (["gate"], "SUMMARY"),
])
def test_bad_values_are_one_line_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str],
                                              expected: str) -> None:
    assert expected in _fails_cleanly(capsys, argv)


def test_malformed_live_url_names_the_variable(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIGATE_BASEJUMP_URL", "http://[::1")
    assert "APIGATE_BASEJUMP_URL" in _fails_cleanly(capsys, ["run"])


def test_durations_in_milliseconds() -> None:
    assert parse_duration("500ms") == pytest.approx(0.5)
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("1m500ms") == pytest.approx(60.5)


@pytest.mark.slow
def test_ctrl_c_during_the_contract_suite_exits_130_and_keeps_finished_apis(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group (the child mock too); schemathesis swallows it unless apigate acts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APIGATE_")}
    out = tmp_path / "c"
    proc = subprocess.Popen([sys.executable, "-m", "apigate", "contract", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
                            start_new_session=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until the first API is finished and the second one runs
        if line.startswith("apigate contract: keycloak"):
            break
    os.killpg(proc.pid, signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest
    assert "Traceback" not in rest and "interrupted" in rest
    assert '"codemie"' in (out / "summary.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("document", ["{}", '{"a": 1}'])
def test_gate_refuses_a_summary_with_nothing_to_judge(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      document: str) -> None:
    path = tmp_path / "summary.json"
    path.write_text(document)
    assert main(["gate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "nothing" in err or "no metrics" in err
