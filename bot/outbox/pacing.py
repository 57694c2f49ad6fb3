"""Client-side pacing of sends: a token bucket whose rate follows the platform's 429s.

A platform that rate-limits answers 429 with Retry-After once a window's allowance is spent,
and every 429 then idles the sender for the whole wait; sending evenly just under the limit
delivers more. The limit is seldom published exactly (Slack: about one message a second per
conversation with bursts allowed, and workspace-wide limits besides:
https://api.slack.com/apis/rate-limits), so the pacer learns it from the 429s, AIMD-style:

- Until the first 429 it does not pace at all (or paces at a configured ceiling).
- On a 429 every sender waits Retry-After (unless the caller keeps a long wait itself), and
  the rate drops to what this run of sends actually achieved, counting the wait Slack now
  imposes, less a margin: a burst that ran into the limit learns the limit's rate, not the
  burst's.
- The rate Slack accepted just before it refused (the sends of the last window, less the
  margin) becomes a target the rate climbs back to within a few seconds; beyond it the rate
  creeps up slowly, so a limit that was raised is found again and one that was lowered costs
  one more 429.

Time is injected (`clock`, `sleep`) so tests move it instead of sleeping.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable

#: Fraction kept below the learned rate, so that a steady pace does not touch the limit.
MARGIN = 0.1
#: Seconds of sending that may go out at once: a send delayed by a slow commit (or a short
#: retry) catches up instead of losing its slot. A burst adds to a window's count, so
#: (1 - MARGIN) * (1 + BURST) <= 1 keeps any one-second window under the learned rate.
BURST = 0.1
#: Seconds over which the rate closes most of the gap back to the refused rate after a 429.
RECOVERY = 1.0
#: Relative growth a second while sending (12 % a minute): a raised limit is found again.
PROBE = 0.002
#: Fewer sends than this since the last pause teach nothing about the limit (someone else
#: spent the allowance): the 429 is waited out, the rate kept.
MIN_SAMPLE = 10
#: Slack's windows are a second to a minute long; sends older than the longest are forgotten.
HORIZON = 60.0
MIN_WINDOW = 1.0
#: Never slower than one send a minute, however bad the estimate.
MIN_RATE = 1 / 60
#: The wait when a 429 carries no Retry-After (Slack always sends one; proxies may not).
DEFAULT_RETRY_AFTER = 1.0


class Backlogged(Exception):
    """The next free slot is further away than the caller may wait (`wait` seconds)."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"next send slot in {wait:.1f} s")
        self.wait = wait


class Pacer:
    """A thread-safe token bucket for one platform method, lowered on 429s and raised slowly.

    Callers take a slot with `acquire` before each call and report a 429 with `throttled`.
    """

    def __init__(
        self,
        *,
        ceiling: float | None = None,
        margin: float = MARGIN,
        burst: float = BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if ceiling is not None and ceiling <= 0:
            raise ValueError("a pacing ceiling must be positive")
        self.ceiling = ceiling
        self._margin = margin
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate: float | None = ceiling
        self._target: float | None = None
        # GCRA's theoretical arrival time: a slot is free from `_tat - burst` on.
        self._tat = -math.inf
        self._paused_until = -math.inf
        # Bumped by every 429, so a caller asleep on a slot knows the slot was cancelled.
        self._pauses = 0
        self._run_started: float | None = None
        self._grown_at: float | None = None
        self._sent: deque[float] = deque()

    def sibling(self) -> Pacer:
        """A new pacer configured like this one (same ceiling and clock), knowing nothing yet."""
        return Pacer(
            ceiling=self.ceiling,
            margin=self._margin,
            burst=self._burst,
            clock=self._clock,
            sleep=self._sleep,
        )

    @property
    def rate(self) -> float | None:
        """Sends a second allowed now; None while unpaced."""
        with self._lock:
            return self._rate

    def acquire(self, *, after: float = 0.0, max_wait: float = math.inf) -> float:
        """Wait for the next slot, no sooner than `after` seconds from now; the seconds waited.

        Raises Backlogged, without waiting or taking a slot, when the slot is more than
        `max_wait` seconds away (a long Retry-After is better waited out elsewhere).
        """
        earliest = self._clock() + after
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._grow(now)
                slot = max(earliest, now, self._paused_until)
                if self._rate is not None:
                    slot = max(slot, self._tat - self._burst)
                wait = slot - now
                if waited + wait > max_wait:
                    raise Backlogged(waited + wait)
                if self._rate is not None:
                    self._tat = max(self._tat, slot) + 1 / self._rate
                self._record(slot, now)
                pauses = self._pauses
            if wait > 0:
                self._sleep(wait)
                waited += wait
            with self._lock:
                if self._pauses == pauses or self._paused_until <= slot:
                    return waited
                # A 429 came while we slept and our slot fell inside its wait: queue again.
                self._forget(slot)

    def throttled(self, retry_after: float | None, *, hold: bool = True) -> None:
        """Record a 429: the rate is relearned, and nobody sends for `retry_after` seconds.

        With `hold=False` that wait is the caller's to keep (the outbox keeps long ones, on
        the same clock as its retries); the pacer only learns from the answer.
        """
        wait = DEFAULT_RETRY_AFTER if retry_after is None else max(0.0, retry_after)
        with self._lock:
            now = self._clock()
            start = max(self._run_started if self._run_started is not None else now, now - HORIZON)
            recent = [t for t in self._sent if start <= t <= now]
            if len(recent) >= MIN_SAMPLE:
                window = max(MIN_WINDOW, wait)
                keep = 1 - self._margin
                achieved = len(recent) / max(MIN_WINDOW, now - start + wait)
                # The last send is the one Slack refused.
                refused = (sum(1 for t in recent if t > now - window) - 1) / window
                current = self._rate if self._rate is not None else math.inf
                self._rate = self._capped(max(MIN_RATE, min(current, achieved * keep)))
                self._target = self._capped(max(MIN_RATE, refused * keep))
            if hold:
                self._pauses += 1
                self._paused_until = max(self._paused_until, now + wait)
                # After the wait: an even pace from the first send, no burst saved up meanwhile.
                self._tat = self._paused_until + self._burst
            self._run_started = self._grown_at = now + wait

    def _capped(self, rate: float) -> float:
        return min(rate, self.ceiling) if self.ceiling is not None else rate

    def _grow(self, now: float) -> None:
        if self._rate is None:
            return
        if self._grown_at is None:
            self._grown_at = now
        if now <= self._grown_at:
            return
        # Only time spent sending counts: an idle hour must not turn into a burst.
        elapsed = min(now - self._grown_at, 1.0)
        self._grown_at = now
        rate = self._rate
        step = PROBE * rate * elapsed
        if self._target is not None and rate < self._target:
            step += (self._target - rate) * (1 - math.exp(-elapsed / RECOVERY))
        self._rate = self._capped(rate + step)

    def _record(self, slot: float, now: float) -> None:
        if self._run_started is None:
            self._run_started = slot
        self._sent.append(slot)
        while self._sent and self._sent[0] < now - HORIZON:
            self._sent.popleft()

    def _forget(self, slot: float) -> None:
        with contextlib.suppress(ValueError):  # already older than the horizon
            self._sent.remove(slot)


class Pacers:
    """One Pacer per key (a workspace and a method), made on first use and kept: a platform's
    limits are per workspace and method, so a workspace Slack slows down never slows another."""

    def __init__(self, make: Callable[[], Pacer]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._pacers: dict[tuple[str | None, str], Pacer] = {}

    def get(self, workspace: str | None, method: str) -> Pacer:
        """The pacer of `method` in `workspace` (None: the single workspace)."""
        key = (workspace, method)
        with self._lock:
            pacer = self._pacers.get(key)
            if pacer is None:
                pacer = self._pacers[key] = self._make()
            return pacer

    def put(self, workspace: str | None, method: str, pacer: Pacer) -> None:
        """Use `pacer` for `method` in `workspace` (one configured by the caller)."""
        with self._lock:
            self._pacers[(workspace, method)] = pacer
