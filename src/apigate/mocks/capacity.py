"""A mock service with a known capacity and periodic stalls: admission of the AI answers (ASGI middleware).

* ``capacity`` (``--capacity N``): at most N answers of a service are in service at a time; the others wait in one
  first-come-first-served queue. Each answer holds its slot for exactly ``service_time_ms`` and then goes on to the
  service, so the service's throughput cannot exceed N / service time (20 slots of 100 ms: 200 answers/s); offered
  more, its queue — and every answer's latency — grows without bound.
* ``stall`` (``--stall-every-s P --stall-ms D``): the last D ms of every P seconds since the mock started, the
  service admits no answer (a garbage-collection pause, a failover): an answer that arrives during a stall waits
  until the stall is over, then queues for a slot as usual.

"Answers" are the AI answers: CodeMie's chat (``POST /v1/assistants/.../model``, streamed or not) and Basejump's chat
message (``POST /chat/{chat_uuid}/message/``); logins and set-up calls are not held. Each service has its own gate,
as separately deployed services have their own capacity. The services time their answers from the request's
arrival (``chat_latency_ms``, ``first_chunk_ms``, ...), so a held answer goes out at
``max(admitted + service time, arrival + configured latency)``: with a service time at least as long as the
configured latency, an answer's latency is its wait plus the service time, nothing else.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from apigate.mocks.settings import MockSettings
from apigate.mocks.timing import sleep_for, sleep_until

__all__ = ["ANSWER_PATHS", "AnswerGate", "with_answer_gate"]

# the answer operations of each service, relative to its base URL
ANSWER_PATHS: Final[dict[str, re.Pattern[str]]] = {
    "codemie": re.compile(r"/v1/assistants/(?:slug/)?[^/]+/model"),
    "basejump": re.compile(r"/chat/[^/]+/message/?"),
}


class AnswerGate:
    """Capacity slots with a FIFO queue, and the stall clock, of one service (one event loop)."""

    def __init__(self, capacity: int, service_time_s: float, stall_every_s: float = 0.0, stall_s: float = 0.0,
                 *, epoch: float | None = None) -> None:
        self.capacity = capacity
        self.service_time_s = service_time_s
        self.stall_every_s = stall_every_s
        self.stall_s = min(stall_s, stall_every_s)
        self.epoch = time.perf_counter() if epoch is None else epoch  # the stall clock's zero
        self._free = capacity
        self._queue: deque[asyncio.Future[None]] = deque()
        self.admitted = 0  # answers that got a slot (for tests and curiosity)

    @classmethod
    def from_settings(cls, settings: MockSettings) -> AnswerGate | None:
        """The gate the settings ask for, or None when neither a capacity nor stalls are switched on."""
        if not settings.capacity and not settings.stall_every_s:
            return None
        return cls(settings.capacity, settings.service_time_ms / 1000, settings.stall_every_s, settings.stall_ms / 1000)

    @property
    def queued(self) -> int:
        return len(self._queue)

    def stall_end(self, now: float) -> float | None:
        """When the stall that ``now`` (a ``perf_counter`` value) falls in ends, or None outside a stall."""
        if not self.stall_every_s or not self.stall_s:
            return None
        elapsed = now - self.epoch
        phase = elapsed % self.stall_every_s
        if elapsed < 0 or phase < self.stall_every_s - self.stall_s:
            return None
        return now + (self.stall_every_s - phase)

    async def admit(self) -> None:
        """Wait out a stall, then take a slot for the service time (FIFO) and give it back."""
        end = self.stall_end(time.perf_counter())
        if end is not None:
            await sleep_until(end)
        if not self.capacity:
            return
        await self._acquire()
        try:
            self.admitted += 1
            await sleep_for(self.service_time_s)
        finally:
            self._release()

    async def _acquire(self) -> None:
        if self._free > 0 and not self._queue:
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # the slot was handed over just as the waiter was cancelled: pass it on
            else:
                self._queue.remove(turn)
            raise

    def _release(self) -> None:
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot goes straight to the next in line
                return
        self._free += 1


class _Gated:
    def __init__(self, app: ASGIApp, gate: AnswerGate, answers: re.Pattern[str]) -> None:
        self.app = app
        self.gate = gate
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "POST"
                and self.answers.fullmatch(scope["path"][len(scope.get("root_path", "")):])):
            await self.gate.admit()
        await self.app(scope, receive, send)


def with_answer_gate(app: ASGIApp, settings: MockSettings, service: str) -> ASGIApp:
    """``app`` behind its own :class:`AnswerGate` when the settings ask for a capacity or stalls, else ``app``."""
    answers = ANSWER_PATHS.get(service)
    gate = AnswerGate.from_settings(settings)
    if answers is None or gate is None:
        return app
    return _Gated(app, gate, answers)
