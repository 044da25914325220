from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from report.fakes import FAILING_CONTRACT, PASSING_CONTRACT, fake_document, fake_samples, fake_summary, write_run

from apigate import cli
from apigate.cli import main
from apigate.errors import ConfigError
from apigate.gate import default_thresholds, default_thresholds_text, evaluate, parse_thresholds, render_table
from apigate.history import read_runs
from apigate.summary import parse_summary

TTFC = "codemie.stream.ttfc"


@pytest.fixture(autouse=True)
def _only_our_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real ``apigate`` entry point, with only the commands under test registered."""
    monkeypatch.setattr(cli, "COMMANDS", {"gate": "apigate.commands.gate", "history": "apigate.commands.history"})


def test_identical_runs_pass() -> None:
    run = fake_summary(1, contract=PASSING_CONTRACT)
    result = evaluate(run, default_thresholds(), run)
    assert result.passed and result.exit_code == 0
    assert {v.kind for v in result.verdicts} == {"contract", "limit", "failure_rate", "regression"}
    assert "gate: PASSED" in render_table(result)


def test_first_chunk_300ms_slower_fails_naming_ttfc() -> None:
    baseline = fake_summary(1)
    current = fake_summary(2, ttfc_shift_ms=300.0)
    result = evaluate(current, default_thresholds(), baseline)
    assert result.exit_code == 1
    failed = {v.name: v for v in result.failed}
    verdict = failed[f"regression {TTFC}"]
    assert verdict.metric == TTFC
    p50 = next(c for c in verdict.comparisons if c.stat == "p50")
    assert 290 < p50.delta_ms < 310 and p50.delta_pct > 100
    assert p50.regressed and p50.p_value is not None and p50.p_value < 1e-6 and p50.method == "Mann–Whitney U"
    p95 = next(c for c in verdict.comparisons if c.stat == "p95")
    assert p95.regressed and p95.method == "bootstrap"
    assert "REGRESSION" in verdict.message and "p<0.0001" in verdict.message and "+299" in verdict.message
    # the absolute limit (p95 <= 800 ms) still holds: the regression is what fails it
    assert all(v.passed for v in result.verdicts if v.kind == "limit")
    assert f"regression {TTFC}" in render_table(result)


def test_noise_level_differences_pass() -> None:
    for seed in (3, 4, 5):
        result = evaluate(fake_summary(seed), default_thresholds(), fake_summary(seed + 100))
        assert result.passed, render_table(result)


def test_contract_failure_fails() -> None:
    result = evaluate(fake_summary(1, contract=FAILING_CONTRACT), default_thresholds())
    assert [v.name for v in result.failed] == ["contract basejump"]
    assert "POST /chat/{chat_id}/message" in result.failed[0].message
    ignored = parse_thresholds("[contract]\nmust_pass = false\n")
    assert evaluate(fake_summary(1, contract=FAILING_CONTRACT), ignored).passed


def test_threshold_exceeded_fails() -> None:
    strict = parse_thresholds('[limits]\n"codemie.stream.ttfc.p95" = 100\ncodemie.chat.p50 = "< 5"\n')
    result = evaluate(fake_summary(1), strict)
    names = {v.name for v in result.failed}
    assert names == {"codemie.stream.ttfc.p95 <= 100", "codemie.chat.p50 < 5"}
    ttfc = next(v for v in result.failed if v.metric == TTFC)
    assert "breaks the limit by" in ttfc.message


def test_failure_rate_limit_names_the_most_common_reason() -> None:
    result = evaluate(fake_summary(1, failures=30), parse_thresholds('[failure_rate]\n"codemie.stream" = 0.005\n'))
    [failed] = result.failed
    assert failed.kind == "failure_rate" and "no terminal chunk" in failed.message


def test_unmeasured_limits_are_skipped_not_failed() -> None:
    doc = fake_document({"keycloak.token.password": [5.0, 6.0, 7.0]}, failures=0)
    result = evaluate(parse_summary(doc), default_thresholds())
    assert result.passed
    assert any(v.status == "skip" and v.metric == TTFC for v in result.verdicts)


def test_without_raw_samples_the_tolerance_alone_decides_and_says_so() -> None:
    baseline = fake_summary(1, with_samples=False)
    slower = fake_summary(2, ttfc_shift_ms=300.0, with_samples=False)
    result = evaluate(slower, default_thresholds(), baseline)
    verdict = next(v for v in result.failed if v.metric == TTFC)
    assert "tolerance only" in verdict.message
    assert any("tolerance only" in note for note in result.notes)
    assert evaluate(fake_summary(2, with_samples=False), default_thresholds(), baseline).passed


def test_slowdown_above_tolerance_but_not_significant_passes() -> None:
    base = parse_summary(fake_document({TTFC: [100.0, 180.0, 120.0, 160.0, 140.0]}, failures=0),
                         samples={TTFC: [100.0, 180.0, 120.0, 160.0, 140.0]})
    noisy = [95.0, 200.0, 130.0, 175.0, 150.0]
    current = parse_summary(fake_document({TTFC: noisy}, failures=0), samples={TTFC: noisy})
    verdict = next(v for v in evaluate(current, default_thresholds(), base).verdicts if v.metric == TTFC
                   and v.kind == "regression")
    assert verdict.status == "pass"
    assert any(c.exceeds_tolerance and not c.regressed for c in verdict.comparisons)
    assert "not significant" in verdict.message


def test_thresholds_parsing() -> None:
    t = parse_thresholds(
        "[limits]\ncodemie.stream.ttfc.p95 = 500\n\"keycloak.token.password.p95\" = false\n"
        "[failure_rate]\n\"*\" = 0.05\n[regression]\ntolerance_pct = 5\nstatistics = [\"p50\"]\n"
    )
    limits = {(lim.metric, lim.stat): lim for lim in t.limits}
    assert limits[(TTFC, "p95")].value == 500
    assert ("keycloak.token.password", "p95") not in limits
    assert ("codemie.chat", "p95") in limits  # untouched defaults stay
    assert t.failure_rate_for("anything") == 0.05
    assert t.regression.tolerance_pct == 5 and t.regression.statistics == ("p50",)
    assert t.regression.alpha == default_thresholds().regression.alpha


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[limits\n", "invalid TOML"),
        ("[limit]\n", "unknown section"),
        ('[limits]\n"codemie.chat" = 5\n', "statistic"),
        ('[limits]\n"codemie.chat.p95" = "about 5"\n', "not a limit"),
        ('[failure_rate]\n"*" = 5\n', "fraction"),
        ("[regression]\nalpha = 0.9\n", "alpha"),
        ("[regression]\nstatistics = [\"p42\"]\n", "statistics"),
        ("[regression]\ntolerance = 5\n", "unknown key"),
    ],
)
def test_bad_thresholds_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_thresholds(text, source="t.toml")


def test_default_thresholds_are_documented_and_parse() -> None:
    text = default_thresholds_text()
    assert '"codemie.stream.ttfc.p95" = 800' in text and "# " in text
    t = default_thresholds()
    assert t.contract_must_pass and t.regression.tolerance_pct == 10 and t.regression.min_delta_ms == 2
    assert t.regression.alpha == 0.01 and t.regression.statistics == ("p50", "p95")


# ---- the command ----------------------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, seed: int, shift: float = 0.0, contract: dict | None = None) -> Path:
    samples = fake_samples(seed, ttfc_shift_ms=shift)
    return write_run(tmp_path / name, fake_document(samples, seed=seed, contract=contract), samples)


def test_gate_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _write(tmp_path, "base", 1, contract=PASSING_CONTRACT)
    same = _write(tmp_path, "same", 2, contract=PASSING_CONTRACT)
    slow = _write(tmp_path, "slow", 3, shift=300.0, contract=PASSING_CONTRACT)
    assert main(["gate", str(same), "--baseline", str(base)]) == 0
    assert "gate: PASSED" in capsys.readouterr().out
    assert main(["gate", str(slow.parent), "--baseline", str(base)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  regression {TTFC}" in out and "gate: FAILED" in out
    broken = _write(tmp_path, "broken", 4, contract=FAILING_CONTRACT)
    assert main(["gate", str(broken)]) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["gate", "nope/summary.json"], "summary not found"),
        (["gate", "{base}", "--thresholds", "nope.toml"], "thresholds file not found"),
        (["gate", "{base}", "--thresholds", "{bad}"], "invalid TOML"),
        (["gate", "{garbage}"], "not valid JSON"),
        (["gate", "{base}", "--baseline", "{base}", "--history"], "not allowed with"),
        (["gate"], "SUMMARY argument is required"),
    ],
)
def test_gate_command_bad_input_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    base = _write(tmp_path, "base", 1)
    bad = tmp_path / "bad.toml"
    bad.write_text("[limits\n")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    args = [a.format(base=base, bad=bad, garbage=garbage) for a in argv]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_gate_with_history_baseline_and_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "history.sqlite"
    first = _write(tmp_path, "run-1", 1)
    assert main(["gate", str(first), "--history", "--history-db", str(db), "--record"]) == 0
    out = capsys.readouterr().out
    assert "no passing runs" in out and "recorded as run #1" in out
    second = _write(tmp_path, "run-2", 2)
    assert main(["gate", str(second), "--history", "--history-db", str(db), "--record", "--label", "ci-2"]) == 0
    assert "median of the last 1 passing run" in capsys.readouterr().out
    slow = _write(tmp_path, "run-3", 3, shift=300.0)
    assert main(["gate", str(slow), "--history", "--history-db", str(db), "--last", "2", "--record"]) == 1
    runs = read_runs(db)
    assert [(r.label, r.passed) for r in runs] == [("run-1", True), ("ci-2", True), ("run-3", False)]


def test_print_thresholds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gate", "--print-thresholds"]) == 0
    assert capsys.readouterr().out == default_thresholds_text()


def test_verdicts_are_frozen() -> None:
    result = evaluate(fake_summary(1), default_thresholds())
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.verdicts[0].status = "fail"  # type: ignore[misc]


def test_load_generator_diagnostics_and_counts_are_not_compared_by_default() -> None:
    """A busier load generator (read lag, truth.* error legs) or a different chunk count is not an API regression."""
    def run(seed: int, lag_ms: float) -> dict[str, list[float]]:
        samples = fake_samples(seed)
        samples["client.stream.read_lag"] = [lag_ms + i % 7 * 0.1 for i in range(1000)]
        samples["truth.stream.ttfc_error"] = [lag_ms + i % 5 * 0.1 for i in range(1000)]
        samples["codemie.stream.chunks"] = [8.0 + 4 * (lag_ms > 1)] * 1000
        return samples

    base_samples, cur_samples = run(1, 0.2), run(2, 40.0)
    baseline = parse_summary(fake_document(base_samples, seed=1), samples=base_samples)
    doc = fake_document(cur_samples, seed=2)
    doc["metrics"]["codemie.stream.chunks"]["unit"] = "chunks"
    current = parse_summary(doc, samples=cur_samples)
    result = evaluate(current, default_thresholds(), baseline)
    assert result.passed, render_table(result)
    compared = {v.metric for v in result.verdicts if v.kind == "regression"}
    assert TTFC in compared and not compared & {"client.stream.read_lag", "truth.stream.ttfc_error",
                                                 "codemie.stream.chunks"}
    # listed explicitly, a diagnostic is compared (and here it did regress)
    listed = parse_thresholds('[regression]\nmetrics = ["client.stream.read_lag"]')
    assert [v.name for v in evaluate(current, listed, baseline).failed] == ["regression client.stream.read_lag"]
