"""``apigate load``'s open-model and sweep options: bad combinations are one-line usage errors (exit 2) before any
work starts; the terminal texts of a run and of a sweep."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from report.fakes import fake_sweep_document

from apigate import cli
from apigate.cli import main
from apigate.commands.load import summary_text, sweep_table
from apigate.loadrun.options import open_model_pool


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("APIGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "COMMANDS", {"load": "apigate.commands.load"})


@pytest.mark.parametrize(("argv", "expected"), [
    (["--rate", "0"], "--rate must be a positive number"),
    (["--rate", "10", "--shape", "ramp"], "cannot be combined with --shape"),
    (["--slo", "codemie.chat.p95<=300"], "--slo, --thresholds and --max-time belong to --sweep"),
    (["--sweep", "rate=10,20", "--rate", "5"], "leave out --rate"),
    (["--sweep", "speed=10"], "--sweep must look like rate=50,100,200"),
    (["--sweep", "rate=10,20", "--slo", "codemie.chat<=300"], "is not a limit like"),
    (["--sweep", "rate=10,20", "--refine", "11"], "--refine must be between 0 and 10"),
    (["--sweep", "rate=10,20", "-t", "30s", "--max-time", "10s"], "--max-time must be at least one level"),
    (["--sweep", "users=2,4", "--shape", "step"], "cannot be combined with --shape"),
    (["--capacity", "-1"], "--capacity must not be negative"),
    (["--stall-every-s", "1", "--stall-ms", "2000"], "--stall-ms must be positive and at most the stall period"),
])
def test_bad_combinations_are_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str],
                                           expected: str) -> None:
    code = main(["load", "--out", "out", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and expected in err[0], err
    assert not Path("out/summary.json").exists()


def test_an_unknown_user_class_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["load", "--user-class", "NoSuchUser"])
    assert exc.value.code == 2 and "invalid choice: 'NoSuchUser'" in capsys.readouterr().err


def test_the_default_pool_keeps_a_second_of_arrivals() -> None:
    assert open_model_pool(50.0) == 50
    assert open_model_pool(3.0) == 10
    assert open_model_pool(3.0, classes=5, workers=2) == 20  # two users per class and process at least
    assert open_model_pool(1e6) == 1000


def test_sweep_table_lists_levels_and_capacity() -> None:
    text = sweep_table(fake_sweep_document())
    assert "capacity: 200 requests/s (passed 200, failed 212.5)" in text
    assert text.count("PASS") == 4 and text.count("FAIL") == 3 and "(refinement)" in text
    assert "stopped early: 250 req/s failed badly" in text


def test_summary_text_tells_the_load_story() -> None:
    text = summary_text({
        "metrics": {}, "requests": {"codemie.chat": {"count": 10, "failures": 1, "rps": 2.0}}, "failures": [],
        "open_model": {"rate": 5.0, "arrivals": "poisson", "pool": 10, "sent": 10, "unsent": 2, "late": 3,
                       "late_no_free_user": 1, "late_after_ms": 50.0, "worst_lateness_ms": 512.0},
        "users": {"requested": 10, "active_fraction": 0.5, "timeline": [[0, 10, 5, 5]],
                  "stopped": [{"user": "BasejumpChatUser", "reason": "HTTP 403", "count": 1}]},
        "load": {"held": False, "problems": ["the generator fell behind"]},
    })
    assert "open model: 5 requests/s (poisson), pool of 10 users: 10 sent, 3 late" in text
    assert "worst lateness 512.0 ms" in text and "2 never sent" in text
    assert "users: 10 requested, set up and sending 50.0% of their time; 1 stopped" in text
    assert "user stopped: BasejumpChatUser: HTTP 403 x1" in text and "load NOT held: the generator fell behind" in text
