"""The deferral deadline on one clock: a duration the triggerer measures itself.

The sensor used to ship an epoch deadline from the worker's clock that the triggerer
checked on its own: a clock skew of minutes ended waits early (or late). Now the
sensor ships ``timeout_seconds`` and the trigger counts it on its monotonic clock.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_sts_provider.sensors.statefulset import StatefulSetRunningSensor
from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger
from tests.unit.sensors.stubs import ConnectionStub

HOUR = 3600.0


def trigger(**kwargs: Any) -> StatefulSetRunningTrigger:
    return StatefulSetRunningTrigger(name="web", namespace="default", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "past", "bounded_at_most"),
    [
        ({"timeout_seconds": 60.0, "deadline": time.time() - HOUR}, False, 60.0),
        ({"timeout_seconds": 60.0, "deadline": time.time() + HOUR}, False, 60.0),
        ({"timeout_seconds": 0.0}, True, 0.0),
        ({"deadline": time.time() - 1}, True, 0.0),
        ({"deadline": time.time() + HOUR}, False, 100.0),
        ({}, False, 100.0),
    ],
    ids=[
        "a duration wins over a worker deadline an hour in the past (worker clock ahead)",
        "a duration wins over a worker deadline an hour away (worker clock behind)",
        "a duration of zero is over at once",
        "a trigger deferred by an older sensor still honours its epoch deadline",
        "an epoch deadline an hour away bounds nothing shorter",
        "no deadline at all waits for ever",
    ],
)
def test_the_deadline_is_counted_on_the_triggerers_clock(
    kwargs: dict[str, Any], past: bool, bounded_at_most: float
) -> None:
    waiting = trigger(**kwargs)
    assert waiting._past_deadline() is past
    assert waiting._bounded(100.0) <= bounded_at_most


def test_the_duration_survives_serialization_and_old_kwargs_still_load() -> None:
    _, kwargs = trigger(timeout_seconds=42).serialize()
    assert kwargs["timeout_seconds"] == 42.0
    _, old = trigger(deadline=123.0).serialize()
    assert "timeout_seconds" not in old
    assert StatefulSetRunningTrigger(**old).timeout_seconds is None


def test_the_sensor_ships_its_timeout_as_a_duration_not_a_worker_timestamp() -> None:
    sensor = StatefulSetRunningSensor(task_id="wait", name="web", timeout=600, deferrable=True)
    sensor.__dict__["hook"] = ConnectionStub()  # the cached_property, filled in advance
    shipped = sensor._trigger(None)
    assert shipped.timeout_seconds == 600.0
    assert shipped.deadline is None
