"""The mock's known capacity (slots, FIFO queue, fixed service time) and its periodic stalls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from apigate.config import DEMO
from apigate.errors import UsageError
from apigate.mocks import MockSettings
from apigate.mocks.capacity import ANSWER_PATHS, AnswerGate

from ._asgi import CHAT, ORIGIN, PASSWORD_FORM, TOKEN_PATH, ASGIClient, password_token


async def _admit_all(gate: AnswerGate, n: int) -> tuple[list[float], list[int], int]:
    """Admit ``n`` answers at once: (each one's admission time in s, the order they finished, peak concurrency)."""
    started = time.perf_counter()
    done: list[float] = [0.0] * n
    order: list[int] = []
    peak = 0

    async def one(i: int) -> None:
        nonlocal peak
        await gate.admit()
        done[i] = time.perf_counter() - started
        order.append(i)

    async def watch() -> None:
        nonlocal peak
        while len(order) < n:
            peak = max(peak, gate.capacity - gate._free)  # slots in use
            await asyncio.sleep(0)

    await asyncio.gather(watch(), *(one(i) for i in range(n)))
    return done, order, peak


def test_capacity_serves_in_waves_first_come_first_served() -> None:
    gate = AnswerGate(capacity=2, service_time_s=0.05)
    done, order, peak = asyncio.run(_admit_all(gate, 6))
    assert order == [0, 1, 2, 3, 4, 5]
    assert peak == 2 and gate.admitted == 6 and gate.queued == 0 and gate._free == 2
    waves = [done[0], done[2], done[4]]
    for k, t in enumerate(waves, start=1):  # 50, 100, 150 ms: never earlier, a little later on a busy machine
        assert 0.05 * k - 0.001 <= t < 0.05 * k + 0.04


def test_a_cancelled_waiter_leaves_the_queue_and_the_slot_goes_on() -> None:
    async def scenario() -> tuple[int, int]:
        gate = AnswerGate(capacity=1, service_time_s=0.03)
        first = asyncio.ensure_future(gate.admit())
        await asyncio.sleep(0)
        second = asyncio.ensure_future(gate.admit())
        third = asyncio.ensure_future(gate.admit())
        await asyncio.sleep(0.005)
        assert gate.queued == 2
        second.cancel()
        await asyncio.gather(first, third)
        with pytest.raises(asyncio.CancelledError):
            await second
        return gate.admitted, gate._free

    assert asyncio.run(scenario()) == (2, 1)


def test_stalls_are_the_last_part_of_every_period() -> None:
    gate = AnswerGate(capacity=0, service_time_s=0.0, stall_every_s=10.0, stall_s=1.0, epoch=100.0)
    assert gate.stall_end(100.0) is None and gate.stall_end(108.99) is None
    assert gate.stall_end(109.0) == pytest.approx(110.0)
    assert gate.stall_end(109.75) == pytest.approx(110.0)
    assert gate.stall_end(110.0) is None
    assert gate.stall_end(129.5) == pytest.approx(130.0)
    assert AnswerGate(0, 0.0).stall_end(5.0) is None


def test_an_answer_arriving_in_a_stall_waits_for_its_end() -> None:
    gate = AnswerGate(capacity=0, service_time_s=0.0, stall_every_s=0.2, stall_s=0.1,
                      epoch=time.perf_counter() - 0.15)  # 50 ms into the stall
    started = time.perf_counter()
    asyncio.run(gate.admit())
    assert 0.045 <= time.perf_counter() - started < 0.09


def test_only_ai_answers_are_held() -> None:
    assert ANSWER_PATHS["codemie"].fullmatch(f"/v1/assistants/{DEMO.assistant_id}/model")
    assert ANSWER_PATHS["codemie"].fullmatch("/v1/assistants/slug/demo-assistant/model")
    assert not ANSWER_PATHS["codemie"].fullmatch("/v1/assistants")
    assert ANSWER_PATHS["basejump"].fullmatch("/chat/3f1c/message/")
    assert not ANSWER_PATHS["basejump"].fullmatch("/chat/team/3f1c/")


def test_chats_queue_for_the_slots_and_logins_do_not(make_mock: Callable[..., ASGIClient]) -> None:
    mock = make_mock(capacity=1, service_time_ms=40)
    headers = {"Authorization": f"Bearer {password_token(mock)}"}

    async def go() -> tuple[float, float]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=mock.app), base_url=ORIGIN) as client:
            started = time.perf_counter()
            chats = [client.post(CHAT, json={"text": "hi"}, headers=headers) for _ in range(3)]
            login = client.post(TOKEN_PATH, data=PASSWORD_FORM)

            async def timed_login() -> float:
                assert (await login).status_code == 200
                return time.perf_counter() - started

            login_s, *answers = await asyncio.gather(timed_login(), *chats)
            assert all(a.status_code == 200 for a in answers)
            return login_s, time.perf_counter() - started

    login_s, all_s = asyncio.run(go())
    assert login_s < 0.04  # not behind the chats
    assert all_s >= 0.12  # three answers, one at a time, 40 ms each


def test_settings_check_and_round_trip() -> None:
    with pytest.raises(UsageError, match="--capacity"):
        MockSettings(capacity=-1)
    with pytest.raises(UsageError, match="--service-time-ms"):
        MockSettings(capacity=2, service_time_ms=0)
    with pytest.raises(UsageError, match="--stall-ms"):
        MockSettings(stall_every_s=1.0, stall_ms=1500)
    settings = MockSettings(capacity=20, service_time_ms=80, stall_every_s=10, stall_ms=500)
    argv = settings.to_argv()
    assert argv == ["--capacity", "20", "--service-time-ms", "80", "--stall-every-s", "10", "--stall-ms", "500"]
    import argparse

    parser = argparse.ArgumentParser()
    MockSettings.add_arguments(parser)
    assert MockSettings.from_args(parser.parse_args(argv)) == settings
