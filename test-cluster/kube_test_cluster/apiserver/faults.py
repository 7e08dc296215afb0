"""Fault injection for the test cluster: what a flaky production API server does.

A provider that only ever met a perfect API server has not been tested. These
knobs reproduce the failures clients must survive: slow responses, 5xx and 429
answers, connections dropped mid-body, bodies that are not a JSON object (a
proxy's HTML error page served as 200, a truncated body, ``null``, an array),
watches that end early and continue tokens that expire between two pages. All
are settable at start and while the server runs; every method is thread-safe
because request threads read them.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

#: Requests that never get faults unless ``include_discovery`` is set, so that
#: kubectl (which starts with discovery) keeps working while a test injects 5xx.
_DISCOVERY = re.compile(
    r"^/(version|api|apis)/?$|^/api/[^/]+/?$|^/apis/[^/]+(/[^/]+)?/?$|^/openapi(/.*)?$"
)


#: What a corrupted answer carries instead of a JSON object (see :class:`FaultDecision`).
CORRUPTIONS = ("truncated", "null", "html", "array")

_SETTINGS = (
    "latency_ms",
    "fail_rate",
    "fail_codes",
    "drop_rate",
    "corrupt_rate",
    "watch_cut_after",
    "expire_continue",
    "path_pattern",
    "include_discovery",
    "fail_next",
    "retry_after",
)


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request: wait, answer with an error code, drop or corrupt the body.

    ``corrupt`` is one of :data:`CORRUPTIONS`: the answer becomes a 200 whose body is
    not a JSON object (a watch: its first event line is replaced by such a line).
    """

    latency_s: float = 0.0
    fail_code: int | None = None
    drop: bool = False
    corrupt: str | None = None


class Faults:
    """Thread-safe fault settings; :meth:`decide` turns them into a per-request decision.

    ``fail_next`` makes exactly the next N eligible requests fail (deterministic,
    for tests that want "one transient error, then success"); ``fail_rate``
    fails a random share of them, drawn from a generator seeded with ``seed``;
    ``drop_rate`` and ``corrupt_rate`` likewise drop or corrupt a share of answers
    (the kind of corruption is drawn from the same generator).
    """

    def __init__(
        self,
        *,
        latency_ms: float = 0.0,
        fail_rate: float = 0.0,
        fail_codes: Iterable[int] = (500, 503, 429),
        drop_rate: float = 0.0,
        corrupt_rate: float = 0.0,
        watch_cut_after: float | None = None,
        expire_continue: bool = False,
        path_pattern: str | None = None,
        include_discovery: bool = False,
        fail_next: int = 0,
        retry_after: int = 1,
        seed: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.latency_ms = latency_ms
        self.fail_rate = fail_rate
        self.fail_codes = tuple(fail_codes)
        self.drop_rate = drop_rate
        self.corrupt_rate = corrupt_rate
        self.watch_cut_after = watch_cut_after
        self.expire_continue = expire_continue
        self.path_pattern = path_pattern
        self.include_discovery = include_discovery
        self.fail_next = fail_next
        self.retry_after = retry_after
        self.injected = 0  # requests that got an error, a drop or a corrupt body (for tests)
        self._validate()

    def _validate(self) -> None:
        for name in ("fail_rate", "drop_rate", "corrupt_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value!r}")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if not self.fail_codes:
            raise ValueError("fail_codes must not be empty")
        if self.path_pattern is not None:
            re.compile(self.path_pattern)

    def set(self, **settings: object) -> None:
        """Change any settings at run time, e.g. ``faults.set(fail_rate=0.5)``."""
        with self._lock:
            for name in settings:
                if name != "seed" and (name not in _SETTINGS):
                    raise AttributeError(f"unknown fault setting {name!r}")
            before = {name: getattr(self, name) for name in _SETTINGS}
            for name, value in settings.items():
                if name == "seed":
                    self._random.seed(value)  # type: ignore[arg-type]
                elif name == "fail_codes":
                    self.fail_codes = tuple(cast(Iterable[int], value))
                else:
                    setattr(self, name, value)
            try:
                self._validate()
            except (ValueError, re.error):
                for name, value in before.items():
                    setattr(self, name, value)
                raise

    def clear(self) -> None:
        """Back to a perfect server (the random generator keeps its state)."""
        with self._lock:
            self.latency_ms = 0.0
            self.fail_rate = 0.0
            self.fail_codes = (500, 503, 429)
            self.drop_rate = 0.0
            self.corrupt_rate = 0.0
            self.watch_cut_after = None
            self.expire_continue = False
            self.path_pattern = None
            self.include_discovery = False
            self.fail_next = 0

    def applies_to(self, path: str) -> bool:
        """Whether faults may touch a request for ``path`` (path plus query string)."""
        bare = path.split("?", 1)[0]
        if not self.include_discovery and _DISCOVERY.match(bare):
            return False
        return self.path_pattern is None or re.search(self.path_pattern, path) is not None

    def decide(self, path: str) -> FaultDecision:
        """Draw this request's fate; decisions for ineligible paths are always clean."""
        with self._lock:
            if not self.applies_to(path):
                return FaultDecision()
            latency = self.latency_ms / 1000.0
            if self.fail_next > 0:
                self.fail_next -= 1
                self.injected += 1
                return FaultDecision(latency, self._random.choice(self.fail_codes), False)
            if self.fail_rate and self._random.random() < self.fail_rate:
                self.injected += 1
                return FaultDecision(latency, self._random.choice(self.fail_codes), False)
            if self.drop_rate and self._random.random() < self.drop_rate:
                self.injected += 1
                return FaultDecision(latency, None, True)
            if self.corrupt_rate and self._random.random() < self.corrupt_rate:
                self.injected += 1
                return FaultDecision(latency, corrupt=self._random.choice(CORRUPTIONS))
            return FaultDecision(latency)

    def continue_expired(self) -> bool:
        with self._lock:
            return self.expire_continue

    def watch_deadline(self) -> float | None:
        with self._lock:
            return self.watch_cut_after


_HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>\n"
)


def corrupt_body(corruption: str, payload: bytes) -> tuple[str, bytes]:
    """``(Content-Type, body)`` of a 200 answer that carries no JSON object.

    What middleboxes and half-written responses really serve: the first half of
    the JSON (never valid: an object's closing brace is its last byte), ``null``,
    a proxy's HTML error page, or the object wrapped in an array.
    """
    body = payload.rstrip(b"\n")
    if corruption == "truncated":
        return "application/json", body[: max(1, len(body) // 2)]
    if corruption == "null":
        return "application/json", b"null\n"
    if corruption == "html":
        return "text/html", _HTML_PAGE
    if corruption == "array":
        return "application/json", b"[" + body + b"]\n"
    raise ValueError(f"unknown corruption {corruption!r}; one of {', '.join(CORRUPTIONS)}")


def corrupt_line(corruption: str, line: bytes) -> bytes:
    """One watch-stream line, newline-terminated, that is not a JSON object."""
    _, body = corrupt_body(corruption, line)
    return b" ".join(body.split(b"\n")).strip() + b"\n"
