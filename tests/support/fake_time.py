"""A monotonic clock that sleeping moves forward, for code that paces itself."""

from __future__ import annotations

import datetime as dt

from bot.clock import FixedClock
from bot.outbox.pacing import Pacer


class FakeTime:
    """`monotonic()` and `sleep()` for injection: sleeps are recorded and advance the clock."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """The current time, in seconds."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock instead of waiting."""
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """Time passing outside a sleep (work being done)."""
        self.now += seconds


def pacer_on(clock: FixedClock) -> Pacer:
    """A send pacer on a test's FixedClock: Retry-After passes when the test moves the clock,
    and the pacer's own waits move it forward instead of sleeping."""
    return Pacer(
        clock=lambda: clock.now().timestamp(),
        sleep=lambda seconds: clock.advance(dt.timedelta(seconds=seconds)),
    )
