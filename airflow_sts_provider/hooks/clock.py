"""The API server's clock: stability windows are judged on it, never on a worker's.

A ``Date`` header is truncated to the second, and so is every stamp the API writes
(``lastTransitionTime``, ``startedAt``). Read at face value both can be a second
off in either direction, so a window could end up to a second early. The clock
therefore keeps *bounds* on the server's offset from this machine's monotonic
clock: a response generated between sending (``q``) and receipt (``r``) with
``Date: D`` had server time in ``[D, D+1)`` at some moment in ``[q, r]``, so the
offset is above ``D - r`` and below ``D + 1 - q``. :meth:`ServerClock.now` is the
lower bound (the server's "now" is never overstated), :meth:`ServerClock.upper` the
upper one (a stamp delivered by then is no later, :mod:`.stamps`). Every response
narrows both; :meth:`ServerClock.tune` narrows them on purpose by asking for a
``Date`` just when the estimate says it ticks, halving the gap each time.
"""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

#: How fast the server's clock may run against this machine's, either way (200 ppm:
#: twice a free-running quartz's tolerance; NTP keeps both far closer). Old bounds
#: widen by it, so one learned long ago never holds a window short.
DRIFT = 2e-4
#: The gap between the bounds that :meth:`ServerClock.tune` settles for: with it a
#: window ends at most this much (plus the watch's delivery) after it truly did.
TUNED_SECONDS = 0.08
#: Requests :meth:`ServerClock.tune` may spend: each halves the gap (1 s -> 1/64 s).
TUNE_PROBES = 6


def parse_date_header(value: str | None) -> datetime | None:
    """The API server's ``Date`` header (RFC 7231) as an aware UTC datetime, if readable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class ServerClock:
    """The API server's "now", so clock skew on a worker cannot bend the stability window.

    Offsets are server epoch seconds minus ``time.monotonic()``; each bound is kept
    with the moment it was learned and widens by :data:`DRIFT` from there. Bounds
    that cross (a server clock stepped, a test's held clock) give way to the newest
    response, so the clock follows a server that jumps rather than trusting history.
    """

    def __init__(
        self,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._monotonic, self._sleep = monotonic, sleep  # a test's own hands
        self._lock = threading.Lock()  # a poke fetches its next page in a thread
        self._lo: tuple[float, float] | None = None  # (offset, learned at)
        self._hi: tuple[float, float] | None = None
        self._tuning: asyncio.Task[None] | None = None
        self.missing_date = False

    def observe(
        self, date_header: str | None, sent: float | None = None, received: float | None = None
    ) -> None:
        """Record the ``Date`` of a response sent at ``sent`` and read at ``received``
        (``time.monotonic()``; without ``sent`` only the lower bound is learned).
        Absent headers only flag :attr:`missing_date`."""
        parsed = parse_date_header(date_header)
        if parsed is None:
            self.missing_date = True
            return
        at = self._monotonic() if received is None else received
        stamp = parsed.timestamp()
        low = stamp - at
        high = None if sent is None else stamp + 1.0 - sent
        with self._lock:
            self._narrow(low, high, at)

    def _narrow(self, low: float, high: float | None, at: float) -> None:
        lo, hi = self._bounds(at)
        if lo is None or low > lo:
            self._lo, lo = (low, at), low
        if high is not None and (hi is None or high < hi):
            self._hi, hi = (high, at), high
        if hi is not None and hi < lo:  # crossed: the server's clock moved; start over
            self._lo = (low, at)
            self._hi = None if high is None else (high, at)

    def _bounds(self, at: float) -> tuple[float | None, float | None]:
        """Both bounds on the offset at monotonic ``at``, each widened since it was learned."""
        return self._bound(self._lo, at, -1), self._bound(self._hi, at, 1)

    @staticmethod
    def _bound(bound: tuple[float, float] | None, at: float, sign: int) -> float | None:
        if bound is None:
            return None
        offset, learned = bound
        return offset + sign * DRIFT * abs(at - learned)

    def now(self) -> datetime:
        """Server time if any response carried a ``Date``, else this machine's UTC time.

        Never later than the server's true time (the lower bound).
        """
        at = self._monotonic()
        lo = self._bound(self._lo, at, -1)
        if lo is None:
            return datetime.now(UTC)
        return datetime.fromtimestamp(at + lo, UTC)

    def upper(self, at: float | None = None) -> float | None:
        """The latest the server's clock can read at monotonic ``at`` (epoch seconds),
        or None until a response was timed from its sending."""
        at = self._monotonic() if at is None else at
        hi = self._bound(self._hi, at, 1)
        return None if hi is None else at + hi

    def gap(self) -> float:
        """Seconds between the bounds now: how late a window's end may be seen."""
        at = self._monotonic()
        lo, hi = self._bounds(at)
        return float("inf") if lo is None or hi is None else hi - lo

    @property
    def has_server_time(self) -> bool:
        """Whether :meth:`now` is based on the server's clock."""
        return self._lo is not None

    # ------------------------------------------------------------------ tuning

    def tune_soon(self, probe: Callable[[], Awaitable[object]]) -> None:
        """Start :meth:`tune` in the background unless it runs or the bounds are tight."""
        if self.gap() <= TUNED_SECONDS or (self._tuning is not None and not self._tuning.done()):
            return
        self._tuning = asyncio.ensure_future(self.tune(probe))

    async def tune(self, probe: Callable[[], Awaitable[object]]) -> None:
        """Read ``Date`` just as the midpoint estimate says the server's second ticks.

        ``probe`` makes one request whose ``Date`` this clock observes. Whichever
        side of the tick the server answers from, half the gap is ruled out. Best
        effort: a failed probe ends the tuning, the bounds stay as they are.
        """
        for _ in range(TUNE_PROBES):
            wait = self._until_tick()
            if wait is None:
                return
            await self._sleep(wait)
            try:
                await probe()
            except Exception:  # a probe is an optimisation, never a failure
                return

    def _until_tick(self) -> float | None:
        """Seconds until the midpoint estimate crosses a whole second; None once tight."""
        at = self._monotonic()
        lo, hi = self._bounds(at)
        if lo is not None and hi is not None and hi - lo <= TUNED_SECONDS:
            return None
        if lo is None:
            return 0.0
        mid = lo if hi is None else (lo + hi) / 2
        return 1.0 - (at + mid) % 1.0


_CLOCKS: dict[str, ServerClock] = {}
_CLOCKS_LOCK = threading.Lock()


def server_clock(host: str) -> ServerClock:
    """The one clock of the API server at ``host`` in this process: what one trigger
    learned of its phase serves every other (the triggerer runs hundreds)."""
    with _CLOCKS_LOCK:
        clock = _CLOCKS.get(host)
        if clock is None:
            clock = _CLOCKS[host] = ServerClock()
        return clock
