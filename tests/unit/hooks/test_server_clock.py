"""The server's clock read from truncated ``Date`` headers: never ahead, tuned to 0.1 s."""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
from datetime import UTC, datetime

import pytest

from airflow_sts_provider.hooks.clock import TUNE_PROBES, TUNED_SECONDS, ServerClock


class FakeServer:
    """A server whose clock is ``offset`` ahead of a held monotonic clock: every request
    is generated ``latency`` after it is sent and read ``latency`` after that."""

    def __init__(self, offset: float, latency: float = 0.002) -> None:
        self.offset, self.latency, self.mono, self.requests = offset, latency, 1000.0, 0
        self.clock = ServerClock(monotonic=lambda: self.mono, sleep=self.sleep)

    async def sleep(self, seconds: float) -> None:
        self.mono += seconds

    def true_now(self) -> float:
        return self.mono + self.offset

    async def probe(self) -> None:
        self.request()

    def request(self) -> None:
        self.requests += 1
        sent = self.mono
        self.mono += self.latency
        date = email.utils.formatdate(math.floor(self.true_now()), usegmt=True)
        self.mono += self.latency
        self.clock.observe(date, sent, self.mono)

    def bounds_hold(self) -> bool:
        now = self.clock.now().timestamp()
        upper = self.clock.upper()
        return now <= self.true_now() + 1e-6 and upper is not None and upper >= self.true_now()


@pytest.mark.parametrize("seed", range(20), ids=lambda seed: f"server phase and gaps, draw {seed}")
def test_the_clock_is_never_ahead_of_the_server_and_its_upper_bound_never_behind(seed: int) -> None:
    draw = random.Random(seed)
    server = FakeServer(offset=1.7e9 + draw.random())
    for _ in range(40):
        server.mono += draw.uniform(0.0, 3.0)
        server.request()
        assert server.bounds_hold()


@pytest.mark.parametrize(
    "phase",
    [0.0, 0.01, 0.25, 0.5, 0.75, 0.99],
    ids=lambda phase: f"a server {phase:g}s into its second",
)
def test_tuning_learns_the_phase_to_a_tenth_of_a_second_in_a_few_reads(phase: float) -> None:
    server = FakeServer(offset=1.7e9 + phase)
    server.request()
    assert server.clock.gap() > 0.9  # one Date: the second is all it says
    asyncio.run(server.clock.tune(server.probe))
    assert server.clock.gap() <= TUNED_SECONDS
    assert server.requests <= 1 + TUNE_PROBES
    assert server.bounds_hold()


def test_a_tuned_clock_asks_nothing_more() -> None:
    server = FakeServer(offset=1.7e9 + 0.4)
    server.request()
    asyncio.run(server.clock.tune(server.probe))
    spent = server.requests
    asyncio.run(server.clock.tune(server.probe))
    assert server.requests == spent


def test_bounds_learned_long_ago_widen_by_the_drift_allowance() -> None:
    server = FakeServer(offset=1.7e9 + 0.4)
    server.request()
    asyncio.run(server.clock.tune(server.probe))
    tight = server.clock.gap()
    server.mono += 3600
    assert server.clock.gap() > tight + 1.0  # an hour at 200 ppm each way: 1.44 s


@pytest.mark.parametrize("step", [-30.0, 30.0], ids=["a server clock stepped back", "stepped on"])
def test_a_server_clock_that_steps_is_followed(step: float) -> None:
    server = FakeServer(offset=1.7e9 + 0.3)
    for _ in range(5):
        server.request()
        server.mono += 0.37
    server.offset += step
    server.request()
    assert server.bounds_hold()
    assert abs(server.clock.now().timestamp() - server.true_now()) < 1.01


def test_without_a_date_the_clock_is_this_machines() -> None:
    clock = ServerClock()
    clock.observe(None)
    assert clock.missing_date and not clock.has_server_time
    assert clock.upper() is None and clock.gap() == math.inf
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 60
