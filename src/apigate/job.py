"""The main job behind ``apigate run``: contract suite, load run, gate, report folder, history.

Order of work, and what survives a failure half-way:

1. the contract suite (its own embedded mock, tuned for contract checks) → ``contract/`` (JUnit, summary);
2. a load run of every scenario (its own embedded mock, realistic timing) → ``summary.json``, raw samples, Locust files;
3. the gate (thresholds, optional baseline) → ``summary.md``, ``junit.xml``, ``report.html``; the run is appended to
   the history database.

Each step writes its files before the next starts, and the report is written from whatever was measured even when
a step stops the run with a configuration or connection error (exit 2).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

from apigate._version import __version__
from apigate.accept import AcceptList
from apigate.config import Target
from apigate.contract.defaults import CONTRACT_MOCK
from apigate.errors import ApigateError
from apigate.mocks.settings import MockSettings
from apigate.redact import dumps_redacted, redact

__all__ = ["PROFILES", "JobOptions", "JobResult", "Profile", "default_out_dir", "run_job"]

ProfileName = Literal["smoke", "full"]


@dataclass(frozen=True)
class Profile:
    """How much work a run does."""

    name: ProfileName
    max_examples: int  # schemathesis examples per operation and phase
    users: int
    spawn_rate: float
    duration_s: float


PROFILES: Final[dict[str, Profile]] = {
    "smoke": Profile("smoke", max_examples=25, users=8, spawn_rate=8.0, duration_s=20.0),
    "full": Profile("full", max_examples=100, users=40, spawn_rate=10.0, duration_s=120.0),
}



@dataclass(frozen=True)
class JobOptions:
    profile: Profile
    out_dir: Path
    mock: MockSettings = field(default_factory=MockSettings)  # the load run's mock (when one is needed)
    thresholds: Path | None = None
    baseline: Path | None = None
    history_baseline: int = 0  # > 0: median of the last N passing runs in the history is the baseline
    history_db: Path | None = None  # None: no history kept
    label: str = ""
    seed: int | str | None = None  # the contract suite's property tests (see apigate.contract.runner.resolve_seed)
    strict: bool = False  # contract warnings fail the run
    accept: AcceptList = field(default_factory=AcceptList)  # known failures


@dataclass
class JobResult:
    exit_code: int
    out_dir: Path
    table: str  # the gate's verdict table, ending with its verdict line
    errors: list[str] = field(default_factory=list)


def default_out_dir(label: str, now: dt.datetime | None = None, root: Path = Path("reports")) -> Path:
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return root / f"{stamp}-{label}"


def run_job(target: Target, options: JobOptions, say: Callable[[str], None]) -> JobResult:
    """Run the whole job against ``target`` (services not live are served by embedded mocks)."""
    from apigate.contract import run_contract
    from apigate.gate import load_thresholds
    from apigate.loadrun import LoadOptions, run_load

    # read the gate's inputs first: a bad thresholds or baseline file stops the job before minutes of work (exit 2)
    load_thresholds(options.thresholds)
    if options.baseline is not None:
        from apigate.summary import load_summary as read_summary

        read_summary(options.baseline, with_samples=False)
    if options.history_db is not None:  # not SQLite, or no folder for it: say so now, not after the run
        from apigate.history import read_runs
        from apigate.outdir import make_out_dir

        make_out_dir(options.history_db.parent, "--history-db")
        read_runs(options.history_db, last=1)
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    contract_file = out / "contract" / "summary.json"
    contract_file.unlink(missing_ok=True)  # a previous run's results must not stand in for this one's
    started = dt.datetime.now(dt.UTC)
    errors: list[str] = []
    exit_codes: list[int] = []
    contract_summary: dict[str, Any] | None = None
    load_summary: dict[str, Any] | None = None

    say(f"apigate run: profile {options.profile.name}, report folder {out}")
    say("apigate run: [1/3] contract suite")
    contract_mock = replace(options.mock, **CONTRACT_MOCK)  # type: ignore[arg-type]
    try:
        if target.needs_mock:
            from apigate.config import load_target
            from apigate.mocks import MockProcess

            with MockProcess(contract_mock) as server:
                contract_target = load_target(server.origin)
                contract = run_contract(contract_target, max_examples=options.profile.max_examples,
                                        out_dir=out / "contract", mock_settings=contract_mock, progress=say,
                                        seed=options.seed, strict=options.strict, accept=options.accept)
        else:
            contract = run_contract(target, max_examples=options.profile.max_examples, out_dir=out / "contract",
                                    progress=say, seed=options.seed, strict=options.strict, accept=options.accept)
        contract_summary = contract.to_summary()
        exit_codes.append(contract.exit_code)
    except ApigateError as exc:
        errors.append(f"contract suite: {exc}")
        exit_codes.append(exc.exit_code)
        contract_summary = _finished_contract_results(contract_file)
    except KeyboardInterrupt:  # Ctrl-C: keep the APIs finished so far, skip the load run, still gate and report
        errors.append("contract suite: interrupted")
        exit_codes.append(130)
        contract_summary = _finished_contract_results(contract_file)

    if not errors:
        say("apigate run: [2/3] load run (every scenario)")
        load_options = LoadOptions(scenario="all", users=options.profile.users,
                                   spawn_rate=options.profile.spawn_rate, duration_s=options.profile.duration_s,
                                   mock=options.mock)
        try:
            load = run_load(load_options, out, progress=say)
            load_summary = load.summary
            if load.exit_code in (2, 130):  # a cut-short run is not a pass (nor a passing run in the history)
                errors.append(f"load run: {load.message}")
            exit_codes.append(load.exit_code)
        except ApigateError as exc:
            errors.append(f"load run: {exc}")
            exit_codes.append(exc.exit_code)

    say("apigate run: [3/3] gate and report")
    summary_doc = _merge_summaries(target, started, options, load_summary, contract_summary)
    _write_json(out / "summary.json", summary_doc)
    gate_exit, table = _gate_and_report(out, summary_doc, options, errors)
    exit_codes.append(gate_exit)

    if 130 in exit_codes:  # interrupted (Ctrl-C / SIGTERM): what was measured is written, the verdict is not a pass
        code = 130
    elif any(code == 2 for code in exit_codes) or errors:
        code = 2
    elif any(code != 0 for code in exit_codes):
        code = 1
    else:
        code = 0
    return JobResult(code, out, table, errors)


def _merge_summaries(target: Target, started: dt.datetime, options: JobOptions, load: dict[str, Any] | None,
                     contract: dict[str, Any] | None) -> dict[str, Any]:
    doc: dict[str, Any] = dict(load) if load else {
        "apigate_version": __version__,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": (dt.datetime.now(dt.UTC) - started).total_seconds(),
        "target": target.base_urls(),
    }
    doc.setdefault("settings", {})
    doc["settings"] = {**doc["settings"], "profile": options.profile.name}
    if contract is not None:
        doc["contract"] = contract
    return doc


def _finished_contract_results(path: Path) -> dict[str, Any] | None:
    """The results of the APIs the contract suite finished before it stopped (it writes them before raising)."""
    try:
        results = json.loads(path.read_text(encoding="utf-8")).get("contract")
    except (OSError, ValueError, AttributeError):
        return None
    return results if isinstance(results, dict) and results else None


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(dumps_redacted(doc, indent=2, sort_keys=False), encoding="utf-8")
    tmp.replace(path)


def _gate_and_report(out: Path, doc: dict[str, Any], options: JobOptions, errors: list[str]) -> tuple[int, str]:
    from apigate.gate import Verdict, evaluate, load_thresholds, render_table
    from apigate.history import baseline_from_history, read_runs, record_run
    from apigate.report import write_report
    from apigate.report.text import contract_sections
    from apigate.summary import load_summary

    summary = load_summary(out / "summary.json")  # re-read: the report shows exactly what was written
    thresholds = load_thresholds(options.thresholds)
    notes: list[str] = []
    baseline = None
    if options.baseline is not None:
        baseline = load_summary(options.baseline)
    elif options.history_baseline and options.history_db is not None and options.history_db.exists():
        baseline = baseline_from_history(options.history_db, options.history_baseline)
        if baseline is None:
            notes.append("no passing run in the history yet: no baseline comparison")
    result = evaluate(summary, thresholds, baseline, notes=tuple(notes), strict=options.strict)
    # a step that stopped with an error is a failing check: no report may read "PASSED" for a run that did not run
    step_errors = tuple(Verdict("error", f"{step} completed", "fail", redact(detail))
                        for step, _, detail in (e.partition(": ") for e in errors))
    result = replace(result, verdicts=step_errors + result.verdicts)
    history = []
    if options.history_db is not None:
        options.history_db.parent.mkdir(parents=True, exist_ok=True)
        record_run(options.history_db, summary, label=options.label or options.profile.name,
                   passed=result.passed and not errors)
        history = read_runs(options.history_db, last=20)
    write_report(out, summary, gate=result, baseline=baseline, history=history)
    return result.exit_code, contract_sections(summary) + render_table(result)
