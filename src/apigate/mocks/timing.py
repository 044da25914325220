"""A precise asyncio sleep: the loop's timers fire up to ~1 ms late on a busy VM, streams need better.

:func:`sleep_until` sleeps with ``asyncio.sleep`` until :data:`SPIN_S` before the deadline, then spins, yielding to
the loop with ``asyncio.sleep(0)`` between checks, so that other requests keep being served while it waits.
Deadlines are absolute ``time.perf_counter()`` values, so a sequence of them does not accumulate delays.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

__all__ = ["SPIN_S", "sleep_for", "sleep_until"]

SPIN_S: Final = 0.0015  # how long before the deadline the coarse sleep stops and the spin starts


async def sleep_until(deadline: float) -> None:
    """Return at ``deadline`` (a ``time.perf_counter()`` value), or at once if it has passed."""
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        return
    if remaining > SPIN_S:
        await asyncio.sleep(remaining - SPIN_S)
    while time.perf_counter() < deadline:
        await asyncio.sleep(0)


async def sleep_for(seconds: float) -> None:
    """A precise ``asyncio.sleep(seconds)``; nothing at all (not even a yield) when ``seconds <= 0``."""
    if seconds > 0:
        await sleep_until(time.perf_counter() + seconds)
