"""What every user of a run goes through, whatever its scenario: set-up, activity, stops, and the open model's pacing.

:func:`prepare` wraps each user class of the run once, at Locust's ``init`` (``common.py`` calls it):

* **set-up** (``on_start``): set-up calls retry transient failures themselves (``common.with_retries``); a user
  whose set-up still fails is not stopped — it waits (2, 5, 10, 20, then every 30 s) and tries again, and it takes
  no requests meanwhile. Only a set-up that cannot work (a 4xx such as 401/403/422, a missing setting) or an
  unexpected error stops the user, and the reason is recorded (``summary.json`` ``users.stopped``).
* **activity**: each user is ``starting`` until its set-up succeeded, then ``active`` until it stops; the process's
  :data:`common.ACTIVITY` clock turns that into users per second (``users.timeline``).
* **open model** (``APIGATE_LOAD_RATE`` requests/s for the whole run, ``APIGATE_LOAD_ARRIVALS`` constant | poisson):
  before each task a user takes the next arrival of its class's schedule and sleeps until its intended send time.
  The schedules start once the process's users are set up (at most ``WARM_UP_MAX_S`` after the first is ready).
  The rate is split evenly over the run's user classes (``APIGATE_LOAD_CLASSES``) and Locust processes
  (``APIGATE_LOAD_PROCESSES``); the users are a pool that sends at most one request each at a time. How late each
  arrival's user woke up is recorded (``client.arrival.lateness``, ms) and the latency is charged from the intended
  time (``common.sample``). An arrival is late when it was sent more than ``LATE_AFTER_MS`` after its time — because every
  user was busy (``arrivals.late.no_free_user``: the pool was too small for what the server made the requests wait)
  or because the generator itself could not keep up. Arrivals due before the run ended that no user took are
  counted as ``arrivals.unsent``.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from typing import Any

import gevent
from locust import User
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import STATE_SPAWNING, WorkerRunner

from apigate.loadrun.arrivals import LATE_AFTER_MS, ArrivalSchedule
from common import _ARRIVAL, ACTIVITY, RECORDING, SetupFailed

__all__ = ["account_unsent", "prepare", "started", "stopping"]

RETRY_LATER_S = (2.0, 5.0, 10.0, 20.0, 30.0)  # pauses before a failed set-up is tried again (then every 30 s)
LATENESS = "client.arrival.lateness"
WARM_UP_MAX_S = 10.0  # the arrivals start when this process's users are set up, or after this long at most
_WARM_UP_POLL_S = 0.02

_schedules: dict[str, ArrivalSchedule] = {}
_stopped_at: float | None = None
_test_started_at: float | None = None  # when this process's test started (the warm-up's start)


# ---- state -------------------------------------------------------------------------------------------------------
def _become(user: User, state: str | None) -> None:
    old = getattr(user, "_apigate_state", None)
    if old != state:
        ACTIVITY.move(old, state)
        user._apigate_state = state  # type: ignore[attr-defined]


def _stop(user: User, reason: str) -> None:
    RECORDING.add_stop(type(user).__name__, reason)
    raise StopUser()


def _set_up(user: User, on_start: Callable[[User], None]) -> None:
    """Run the scenario's set-up; on a transient failure schedule the next try, on a permanent one stop the user."""
    _become(user, "starting")
    try:
        on_start(user)
    except SetupFailed as exc:
        if not exc.transient:
            _stop(user, exc.reason)
        tries = getattr(user, "_apigate_failed_setups", 0)
        user._apigate_failed_setups = tries + 1  # type: ignore[attr-defined]
        user._apigate_retry_at = time.monotonic() + RETRY_LATER_S[min(tries, len(RETRY_LATER_S) - 1)]  # type: ignore[attr-defined]
        return
    except StopUser:
        RECORDING.add_stop(type(user).__name__, "stopped by its scenario")
        raise
    except Exception as exc:  # noqa: BLE001 - a bug or an unexpected answer: say so, once, stop this user
        traceback.print_exc()
        _stop(user, f"set-up error: {type(exc).__name__}: {exc}")
    user._apigate_ready = True  # type: ignore[attr-defined]
    _become(user, "active")


# ---- pacing (open model) -------------------------------------------------------------------------------------------
def _rate_per_class() -> float | None:
    rate = os.environ.get("APIGATE_LOAD_RATE")
    if not rate:
        return None
    classes = [c for c in os.environ.get("APIGATE_LOAD_CLASSES", "").split(",") if c] or ["?"]
    processes = max(1, int(os.environ.get("APIGATE_LOAD_PROCESSES", "1")))
    return float(rate) / (len(classes) * processes)


def _schedule(user: User, rate: float) -> ArrivalSchedule:
    name = type(user).__name__
    schedule = _schedules.get(name)
    if schedule is None:
        runner = user.environment.runner
        node = runner.worker_index if isinstance(runner, WorkerRunner) else 0
        seed = os.environ.get("APIGATE_LOAD_SEED")
        kind = os.environ.get("APIGATE_LOAD_ARRIVALS", "constant")
        schedule = _schedules[name] = ArrivalSchedule(
            rate, "poisson" if kind == "poisson" else "constant",
            seed=None if seed is None else f"{seed}:{node}:{name}")
    return schedule


def _spawning(user: User) -> bool:
    runner = user.environment.runner
    state = runner.worker_state if isinstance(runner, WorkerRunner) else getattr(runner, "state", None)
    return state == STATE_SPAWNING


def _warm_up(user: User, schedule: ArrivalSchedule) -> None:
    """Before the first arrival: wait until this process has spawned its users and none is still setting up (at
    most WARM_UP_MAX_S), so that starting a large pool does not make the first arrivals late."""
    deadline = time.monotonic() + WARM_UP_MAX_S
    while schedule.start is None and (_spawning(user) or ACTIVITY.counts["starting"] > 0) \
            and time.monotonic() < deadline:
        gevent.sleep(_WARM_UP_POLL_S)


def _wait_for_arrival(user: User, rate: float) -> bool:
    """Take the next arrival of this user's class and sleep until its intended send time; record how late.
    False when the run began to stop meanwhile (stopping the users delays wake-ups: not the generator's lateness)."""
    schedule = _schedule(user, rate)
    if schedule.start is None:
        _warm_up(user, schedule)
    now = time.perf_counter()
    if schedule.start is None:  # the schedule starts now: how long its warm-up took
        RECORDING.count("arrivals.schedules")
        RECORDING.count("arrivals.warm_up_ms", round((now - (_test_started_at or now)) * 1000))
    intended = schedule.take(now)
    overdue = intended < now  # no user was free when it was due
    if not overdue:
        gevent.sleep(intended - now)
    if _stopped_at is not None:
        return False
    late_ms = max(0.0, (time.perf_counter() - intended) * 1000.0)
    _ARRIVAL.intended = intended
    RECORDING.add_sample(LATENESS, late_ms)
    RECORDING.count("arrivals.sent")
    if late_ms > LATE_AFTER_MS:
        RECORDING.count("arrivals.late")
        if overdue:
            RECORDING.count("arrivals.late.no_free_user")
    return True


def started() -> None:
    """The test started (spawning begins): the open model's warm-up counts from here."""
    global _test_started_at
    if _test_started_at is None:
        _test_started_at = time.perf_counter()


def stopping() -> None:
    """The run is stopping: arrivals intended from now on are not due."""
    global _stopped_at
    if _stopped_at is None:
        _stopped_at = time.perf_counter()


def account_unsent() -> None:
    """Count the arrivals that were due before the run stopped but that no user took (once, at the end)."""
    until = _stopped_at if _stopped_at is not None else time.perf_counter()
    for schedule in _schedules.values():
        missed = schedule.untaken(until)
        if missed:
            RECORDING.count("arrivals.unsent", missed)
    _schedules.clear()


# ---- wrapping ------------------------------------------------------------------------------------------------------
def _paced(task: Callable[[User], Any], on_start: Callable[[User], None], rate: float | None) -> Callable[[User], Any]:
    def run(user: User) -> None:
        if getattr(user, "_apigate_stop", False):
            raise StopUser()  # its set-up decided so (raised here: Locust logs a StopUser in on_start as an error)
        if not getattr(user, "_apigate_ready", False):
            gevent.sleep(max(0.0, getattr(user, "_apigate_retry_at", 0.0) - time.monotonic()))
            _set_up(user, on_start)
            return
        if rate is not None and not _wait_for_arrival(user, rate):
            return
        task(user)

    run.__name__ = getattr(task, "__name__", "task")
    return run


def _wrap(cls: type[User], rate: float | None) -> None:
    if cls.__dict__.get("_apigate_wrapped"):
        return
    on_start, on_stop = cls.on_start, cls.on_stop
    wrapped: dict[int, Callable[[User], Any]] = {}

    def start(user: User) -> None:
        try:
            _set_up(user, on_start)
        except StopUser:
            user._apigate_stop = True  # type: ignore[attr-defined]

    def stop(user: User) -> None:
        _become(user, None)
        if getattr(user, "_apigate_ready", False):
            on_stop(user)

    for task in cls.tasks:
        if not callable(task) or isinstance(task, type):
            raise TypeError(f"{cls.__name__}: apigate scenarios use plain task functions, not TaskSets")
    cls.tasks = [wrapped.setdefault(id(t), _paced(t, on_start, rate)) for t in cls.tasks]  # type: ignore[arg-type]
    cls.on_start = start  # type: ignore[method-assign]
    cls.on_stop = stop  # type: ignore[method-assign]
    cls._apigate_wrapped = True  # type: ignore[attr-defined]


def prepare(environment: Environment) -> None:
    """Wrap every user class of the run (idempotent)."""
    rate = _rate_per_class()
    for cls in environment.user_classes:
        _wrap(cls, rate)
