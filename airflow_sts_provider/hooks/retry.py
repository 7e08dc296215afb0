"""The one retry policy of every API call, sync or async, single request or reconnect.

A transient error (429, 5xx, timeout, dropped connection, garbled body) is first
retried in place a few times with a short backoff, so one bad response never costs
a poke or tears down a trigger's watches; a trigger that still cannot get through
reconnects with the same policy's longer, capped backoff. The server's
``Retry-After`` is honoured (up to the cap): it knows when it will be back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

#: Quick in-place retries of one request before its caller hears of the error.
RETRIES: Final = 2
#: First backoff and its cap, in seconds; delays double in between.
BACKOFF_FIRST: Final = 0.25
BACKOFF_CAP: Final = 30.0
#: +-20% jitter, so many triggers that failed together do not retry together.
JITTER: Final = 0.2


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter that never waits less than ``Retry-After``."""

    retries: int = RETRIES
    first: float = BACKOFF_FIRST
    cap: float = BACKOFF_CAP
    jitter: float = JITTER

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f"transient_retries must be >= 0, got {self.retries}")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try ``attempt + 1`` (``attempt`` counts failures, from 1)."""
        wait = min(self.cap, self.first * 2.0 ** max(attempt - 1, 0))
        wait *= random.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap))
        return wait


DEFAULT_RETRY: Final = RetryPolicy()
