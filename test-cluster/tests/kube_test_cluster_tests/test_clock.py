"""Where the emulated clock starts: never in the future of the caller's clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from kube_test_cluster.clock import HORIZON, Clock


@pytest.mark.parametrize("speed", [2, 20, 1000])
def test_a_fast_clock_stays_behind_real_time_for_the_horizon(
    speed: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_start = datetime.now(UTC)
    clock = Clock(speed=speed)
    assert clock.now() <= datetime.now(UTC)
    assert HORIZON >= 3600  # the documented run length: an hour of real time
    started = time.monotonic()
    for real_elapsed in (1.0, 60.0, HORIZON / 2, HORIZON - 1):
        monkeypatch.setattr(time, "monotonic", lambda e=real_elapsed: started + e)
        assert clock.now() <= real_start + timedelta(seconds=real_elapsed + 1)
    # it does run fast: an hour of real time is speed hours on the clock
    assert clock.now() - (datetime.now(UTC) - timedelta(seconds=(speed - 1) * HORIZON)) > (
        timedelta(seconds=(HORIZON - 5) * speed)
    )


def test_speed_one_manual_and_explicit_starts_begin_at_the_given_time() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    assert before <= Clock().now() <= datetime.now(UTC) + timedelta(seconds=1)
    manual = Clock(speed=20, manual=True)
    assert before <= manual.now() <= datetime.now(UTC)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    assert Clock(speed=20, start=start).now() - start < timedelta(seconds=5)
