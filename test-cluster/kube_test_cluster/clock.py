"""The test cluster's sense of time.

Every timestamp the emulator writes (creationTimestamp, condition transitions,
container start/finish times) and the HTTP ``Date`` header come from one clock,
so a test can make a minute pass in a millisecond and the readiness rules see a
consistent world.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from datetime import UTC, datetime, timedelta

#: real seconds a fast clock stays behind (or at) real time: a clock at ``speed``
#: s > 1 starts ``(s - 1) * HORIZON`` seconds in the past, so for the first hour of
#: real time no timestamp it writes lies in the future of the caller's clock
HORIZON = 3600.0


class Clock:
    """Real time scaled by ``speed``, or a manual clock that only moves on ``advance``.

    ``speed=10`` makes ten emulated seconds pass per real second. A manual clock
    never moves by itself; tests call :meth:`advance`.

    Without ``start`` the clock starts at real now, except a running clock faster
    than real time (``speed > 1``), which starts ``(speed - 1) *`` :data:`HORIZON`
    seconds in the past and catches up with real time after :data:`HORIZON` real
    seconds (an hour): until then every timestamp it writes is at or before the
    caller's clock (kubectl shows ages, never ``<invalid>``).
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        manual: bool = False,
        start: datetime | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed!r}")
        self.speed = speed
        self.manual = manual
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        if start is None:
            start = datetime.now(UTC).replace(microsecond=0)
            if not manual and speed > 1:
                start -= timedelta(seconds=math.ceil((speed - 1) * HORIZON))
        base = start
        if base.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._base = base
        self._real_base = time.monotonic()
        self._offset = 0.0  # emulated seconds added by advance()

    def _elapsed(self) -> float:
        if self.manual:
            return self._offset
        return (time.monotonic() - self._real_base) * self.speed + self._offset

    def now(self) -> datetime:
        """The emulated current time, timezone-aware UTC."""
        with self._lock:
            return self._base + timedelta(seconds=self._elapsed())

    def advance(self, seconds: float) -> None:
        """Jump the clock forward (works on both kinds of clock)."""
        if seconds < 0:
            raise ValueError("the clock never goes back")
        with self._changed:
            self._offset += seconds
            self._changed.notify_all()

    def real_seconds(self, emulated: float) -> float:
        """How long to really wait for ``emulated`` seconds to pass (manual: a short poll)."""
        if self.manual:
            return min(0.05, max(emulated, 0.0))
        return max(emulated, 0.0) / self.speed

    def sleep(self, emulated: float) -> None:
        """Sleep until ``emulated`` seconds have passed on this clock (or it was advanced)."""
        target = self.now() + timedelta(seconds=emulated)
        with self._changed:
            while True:
                remaining = (
                    target - (self._base + timedelta(seconds=self._elapsed()))
                ).total_seconds()
                if remaining <= 0:
                    return
                self._changed.wait(
                    timeout=self.real_seconds(remaining) if not self.manual else 0.05
                )


def rfc3339(moment: datetime) -> str:
    """Kubernetes' timestamp format: second precision, ``Z`` suffix."""
    return _second(math.floor(moment.timestamp()))


@functools.lru_cache(maxsize=256)
def _second(epoch: int) -> str:
    # thousands of pods change state within the same few seconds: format each second once
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
