"""The gate's load verdict: did the run hold the load it was asked for ([load] thresholds)."""

from __future__ import annotations

from typing import Any

import pytest
from report.fakes import fake_document, fake_samples

from apigate.errors import ConfigError
from apigate.gate import default_thresholds, evaluate, parse_limit, parse_thresholds
from apigate.summary import parse_summary


def run(**blocks: Any) -> Any:
    doc = fake_document(fake_samples(1), failures=0)
    doc.update(blocks)
    return parse_summary(doc, source="run")


def users(active: float = 0.99, stopped: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"requested": 10, "active_fraction": active, "timeline": [[0, 10, 9.5, 0.5]], "stopped": stopped or []}


def open_model(sent: int = 1000, late: int = 0, busy: int = 0, unsent: int = 0) -> dict[str, Any]:
    return {"rate": 50.0, "arrivals": "constant", "pool": 20, "sent": sent, "unsent": unsent, "late": late,
            "late_no_free_user": busy, "late_after_ms": 50.0, "worst_lateness_ms": 900.0 if late else 2.0}


def load_verdict(summary: Any, thresholds: Any = None) -> Any:
    [verdict] = [v for v in evaluate(summary, thresholds or default_thresholds()).verdicts if v.kind == "load"]
    return verdict


def test_a_run_without_load_blocks_gets_no_load_verdict() -> None:
    assert not [v for v in evaluate(run(), default_thresholds()).verdicts if v.kind == "load"]


def test_users_that_kept_sending_hold_the_load() -> None:
    verdict = load_verdict(run(users=users()))
    assert verdict.status == "pass" and "99.0% of their time" in verdict.message


def test_a_stopped_user_fails_with_its_reason() -> None:
    stopped = [{"user": "BasejumpChatUser", "reason": "basejump chat set-up POST chat: HTTP 403", "count": 2}]
    verdict = load_verdict(run(users=users(stopped=stopped)))
    assert verdict.status == "fail"
    assert "2 user(s) stopped before the end: BasejumpChatUser: basejump chat set-up POST chat: HTTP 403" in \
        verdict.message


def test_users_mostly_retrying_their_set_up_fail() -> None:
    assert load_verdict(run(users=users(active=0.80))).status == "fail"
    lenient = parse_thresholds("[load]\nmin_active_fraction = 0.75\n")
    assert load_verdict(run(users=users(active=0.80)), lenient).status == "pass"
    assert not [v for v in evaluate(run(users=users(active=0.8)), parse_thresholds("[load]\nmust_hold = false\n"))
                .verdicts if v.kind == "load"]


def test_late_arrivals_name_their_cause() -> None:
    verdict = load_verdict(run(model="open", users=users(active=0.5), open_model=open_model(late=40, busy=30,
                                                                                            unsent=5)))
    assert verdict.status == "fail"  # 45 of 1,005 arrivals behind: more than 1 %
    assert "45 of 1005 arrivals late (> 50 ms) or unsent" in verdict.message
    assert "30 because all 20 users were busy (raise -u)" in verdict.message
    assert "10 because the generator could not keep up" in verdict.message and "5 due but never sent" in verdict.message
    # open model: the pool's idle users are not a shortfall, the arrivals are what counts
    assert load_verdict(run(model="open", users=users(active=0.5), open_model=open_model(late=5))).status == "pass"


@pytest.mark.parametrize("text", ["[load]\nmax_late_fraction = 2\n", "[load]\nspeed = 1\n",
                                  "[capacity]\nmax_drop_pct = -1\n", "[capacity]\nfloor = 1\n"])
def test_bad_load_and_capacity_thresholds_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_thresholds(text)


def test_capacity_rule_can_be_switched_off() -> None:
    assert parse_thresholds("[capacity]\nmax_drop_pct = false\n").capacity_max_drop_pct is None
    assert default_thresholds().capacity_max_drop_pct == 10.0


@pytest.mark.parametrize("text", ["codemie.chat<=300", "codemie.chat.p95", "codemie.chat.p42<=1", "p95<=3",
                                  "codemie.chat.p95 <= fast"])
def test_slo_expressions_are_checked(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_limit(text)
