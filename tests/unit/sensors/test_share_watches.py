"""``share_watches``: a sensor argument that travels to its trigger, checked like every flag."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sts_provider.sensors.deployment import DeploymentRunningSensor
from airflow_sts_provider.sensors.statefulset import StatefulSetRunningSensor
from tests.unit.sensors.stubs import ConnectionStub


@pytest.mark.parametrize(
    ("cls", "kwargs", "shares"),
    [
        (StatefulSetRunningSensor, {}, True),
        (StatefulSetRunningSensor, {"share_watches": False}, False),
        (DeploymentRunningSensor, {"share_watches": False}, False),
    ],
    ids=[
        "a deferred sensor's trigger shares watches by default",
        "share_watches=False keeps the trigger on its own watches",
        "every kind's sensor passes it through",
    ],
)
def test_the_trigger_gets_share_watches(
    cls: type[StatefulSetRunningSensor], kwargs: dict[str, Any], shares: bool
) -> None:
    sensor = cls(task_id="wait", name="web", namespace="shop", deferrable=True, **kwargs)
    sensor.__dict__["hook"] = ConnectionStub()  # the cached_property, filled in advance
    trigger = sensor._trigger(None)
    assert trigger.share_watches is shares
    assert (trigger.shared_stream_key() is not None) is shares


def test_share_watches_given_as_a_string_is_an_import_error() -> None:
    with pytest.raises(ValueError, match="share_watches must be True or False"):
        StatefulSetRunningSensor(task_id="wait", name="web", share_watches="no")  # type: ignore[arg-type]
