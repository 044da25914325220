"""What a load run does: scenario, users, spawn rate, duration, workers, shape, the open model's arrival rate,
failure budget, mock knobs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from apigate.errors import UsageError
from apigate.loadrun.arrivals import ARRIVALS, Arrivals
from apigate.mocks.settings import MockSettings

__all__ = ["SCENARIOS", "SHAPES", "USER_CLASSES", "LoadOptions", "open_model_pool", "parse_duration"]

Scenario = Literal["tokens", "chat", "stream", "all"]
Shape = Literal["steady", "ramp", "step", "spike"]

SCENARIOS: Final = ("tokens", "chat", "stream", "all")
SHAPES: Final = ("steady", "ramp", "step", "spike")
# Locust user classes (defined in load/) that make up each scenario
USER_CLASSES: Final[dict[str, tuple[str, ...]]] = {
    "tokens": ("KeycloakTokenUser", "BasejumpTokenUser"),
    "chat": ("CodemieChatUser", "BasejumpChatUser"),
    "stream": ("CodemieStreamUser",),
}
USER_CLASSES_ALL: Final = tuple(c for s in ("tokens", "chat", "stream") for c in USER_CLASSES[s])

# the shapes' phases (load/shapes.py follows them): ramp to the peak over the first 80 % of the run, then hold;
# four equal steps of a quarter of the peak each; a fifth of the peak with the full peak for the middle 20 %
RAMP_UNTIL: Final = 0.8
STEPS: Final = 4
SPIKE: Final = (0.4, 0.6)
POOL_SECONDS: Final = 1.0  # open model: default pool = users for this many seconds of arrivals
MAX_DEFAULT_POOL: Final = 1000

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")  # "ms" before "m"
MAX_DURATION_S: Final = 366 * 24 * 3600.0


def parse_duration(text: str) -> float:
    """Seconds in ``30``, ``30s``, ``1m30s``, ``2h``, ``500ms``; :class:`UsageError` for anything else."""
    raw = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        seconds = float(raw)
    else:
        pos = 0
        seconds = 0.0
        for m in _DURATION.finditer(raw):
            if m.start() != pos:
                break
            value = float(m.group(1))
            seconds += value * {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}[m.group(2)]
            pos = m.end()
        if pos != len(raw) or not raw:
            raise UsageError(f"bad duration {text!r} (examples: 30s, 2m, 1m30s, 1h)")
    if seconds <= 0:
        raise UsageError(f"duration must be positive, not {text!r}")
    if seconds > MAX_DURATION_S:
        raise UsageError(f"duration {text!r} is longer than a year")
    return seconds


@dataclass(frozen=True)
class LoadOptions:
    """One load run. ``mock`` configures the embedded mock when one is started (ignored for live targets)."""

    scenario: Scenario = "all"
    users: int = 10
    spawn_rate: float = 10.0
    duration_s: float = 30.0
    workers: int = 0
    shape: Shape = "steady"
    max_failure_rate: float = 0.01
    mock: MockSettings = field(default_factory=MockSettings)
    progress_interval_s: float = 5.0
    # open model: requests per second for the whole run (None: the closed model of `users` users)
    rate: float | None = None
    arrivals: Arrivals = "constant"
    # explicit user classes instead of the scenario's (``--user-class``); advanced (benchmarks): another locustfile
    classes: tuple[str, ...] = ()
    locustfile: str = "locustfile.py"

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise UsageError(f"--scenario must be one of {', '.join(SCENARIOS)}, not {self.scenario!r}")
        if self.shape not in SHAPES:
            raise UsageError(f"--shape must be one of {', '.join(SHAPES)}, not {self.shape!r}")
        if self.users < 1:
            raise UsageError("--users must be at least 1")
        if not 0 < self.spawn_rate < math.inf:
            raise UsageError("--spawn-rate must be a positive number")
        if not 0 < self.duration_s <= MAX_DURATION_S:
            raise UsageError("--duration must be positive and at most a year")
        if self.workers < 0:
            raise UsageError("--workers must not be negative")
        if not 0.0 <= self.max_failure_rate <= 1.0:
            raise UsageError("--max-failure-rate must be between 0 and 1")
        if not 0 < self.progress_interval_s < math.inf:
            raise UsageError("--progress-interval must be a positive number of seconds")
        if self.rate is not None:
            if not 0 < self.rate < math.inf:
                raise UsageError("--rate must be a positive number of requests per second")
            if self.shape != "steady":
                raise UsageError("--rate (the open model) sends at a fixed rate: it cannot be combined with --shape")
        if self.arrivals not in ARRIVALS:
            raise UsageError(f"--arrivals must be one of {', '.join(ARRIVALS)}, not {self.arrivals!r}")
        if self.locustfile == "locustfile.py":
            unknown = [c for c in self.classes if c not in USER_CLASSES_ALL]
            if unknown:
                raise UsageError(f"unknown user class(es) {', '.join(unknown)} (one of {', '.join(USER_CLASSES_ALL)})")

    @property
    def model(self) -> str:
        """``open`` (arrivals at a fixed rate) or ``closed`` (N users, each sending when its answer came back)."""
        return "closed" if self.rate is None else "open"

    @property
    def user_classes(self) -> tuple[str, ...]:
        if self.classes:
            return self.classes
        return USER_CLASSES_ALL if self.scenario == "all" else USER_CLASSES[self.scenario]

    def settings(self, *, with_mock: bool) -> dict[str, Any]:
        """The ``settings`` block of ``summary.json``."""
        mock: dict[str, Any] | None = None
        if with_mock:
            mock = {k: (sorted(v) if isinstance(v, frozenset) else v) for k, v in vars(self.mock).items()}
        return {
            "scenario": self.scenario,
            "classes": list(self.classes),  # explicit user classes (--user-class), instead of the scenario's
            "model": self.model,
            "rate": self.rate,
            "arrivals": self.arrivals if self.rate is not None else None,
            "users": self.users,
            "spawn_rate": self.spawn_rate,
            "duration_s": self.duration_s,
            "shape": self.shape,
            "workers": self.workers,
            "max_failure_rate": self.max_failure_rate,
            "mock": mock,
        }

    def environment(self) -> dict[str, str]:
        """``APIGATE_LOAD_*`` variables that tell the Locust processes how to run (``load/lifecycle.py``)."""
        env = {"APIGATE_LOAD_SHAPE": self.shape, "APIGATE_LOAD_CLASSES": ",".join(self.user_classes),
               "APIGATE_LOAD_PROCESSES": str(max(1, self.workers))}
        if self.rate is not None:
            env["APIGATE_LOAD_RATE"] = repr(self.rate)
            env["APIGATE_LOAD_ARRIVALS"] = self.arrivals
        return env


def shape_phases(shape: str, duration_s: float, users: int) -> list[dict[str, Any]]:
    """The phases of a shaped run (``{"label", "start_s", "end_s", "users"}``); none for a steady run."""

    def phase(label: str, start: float, end: float, count: int) -> dict[str, Any]:
        return {"label": label, "start_s": round(start * duration_s, 3), "end_s": round(end * duration_s, 3),
                "users": count}

    if shape == "ramp":
        return [phase(f"ramp 1 → {users} users", 0.0, RAMP_UNTIL, users),
                phase(f"hold {users} users", RAMP_UNTIL, 1.0, users)]
    if shape == "step":
        return [phase(f"step {k + 1}: {math.ceil(users * (k + 1) / STEPS)} users", k / STEPS, (k + 1) / STEPS,
                      math.ceil(users * (k + 1) / STEPS)) for k in range(STEPS)]
    if shape == "spike":
        base = math.ceil(users / 5)
        return [phase(f"base {base} users", 0.0, SPIKE[0], base), phase(f"spike {users} users", *SPIKE, users),
                phase(f"base {base} users", SPIKE[1], 1.0, base)]
    return []


def open_model_pool(rate: float, classes: int = 1, workers: int = 0) -> int:
    """The default number of users for the open model: enough to keep a second of arrivals in flight (a server that
    makes requests wait longer than that exhausts the pool, and the late arrivals are reported: raise ``-u``), at
    least 10 and two per user class and process, at most 1000."""
    floor = max(10, 2 * classes * max(1, workers))
    return max(floor, min(MAX_DEFAULT_POOL, math.ceil(rate * POOL_SECONDS)))
