"""The API server's clock: stability windows are judged on it, never on a worker's."""

from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime, timedelta


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

    Every response refreshes the anchor (its ``Date`` header, second resolution);
    between responses the trigger extrapolates with the monotonic clock. The
    ``Date`` header is truncated to the second, so "now" may run up to a second
    behind the server: a window is never shortened, at most stretched by that.
    """

    def __init__(self) -> None:
        self._anchor: datetime | None = None
        self._anchor_mono = 0.0
        self.missing_date = False

    def observe(self, date_header: str | None) -> None:
        """Record the ``Date`` of a response (absent headers only flag :attr:`missing_date`)."""
        parsed = parse_date_header(date_header)
        if parsed is None:
            self.missing_date = True
            return
        if self._anchor is None or parsed >= self._anchor:
            self._anchor = parsed
            self._anchor_mono = time.monotonic()

    def now(self) -> datetime:
        """Server time if any response carried a ``Date``, else this machine's UTC time."""
        if self._anchor is None:
            return datetime.now(UTC)
        return self._anchor + timedelta(seconds=time.monotonic() - self._anchor_mono)

    @property
    def has_server_time(self) -> bool:
        """Whether :meth:`now` is based on the server's clock."""
        return self._anchor is not None
