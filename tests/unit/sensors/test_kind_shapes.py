"""A custom resource's ``api_version`` and ``kind`` are checked for their shape at parse.

Both go into API discovery's URL, so ``kafka.strimzi.io/../../api/v1`` or ``Kafka?x=1``
must be an import error in the Airflow UI naming the argument and the fix, for the
sensor and for ``workload_asset`` alike (one check, in :mod:`airflow_sts_provider.names`).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_sts_provider.assets import workload_asset
from airflow_sts_provider.sensors.resource import ResourceRunningSensor

GOOD = [
    ("kafka.strimzi.io/v1beta2", "Kafka"),
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("argoproj.io/v1alpha1", "Rollout"),
    ("serving.kserve.io/v1beta1", "InferenceService"),
    ("cert-manager.io/v1", "Certificate"),
    ("v1", "Service"),
]
GOOD_IDS = [
    "a Strimzi Kafka",
    "a CloudNativePG Cluster",
    "an Argo Rollout at an alpha version",
    "a KServe InferenceService with capitals inside its kind",
    "a group with a dash",
    "a core kind at v1",
]

BAD = [
    ("kafka.strimzi.io/../../api/v1", "Kafka", "api_version"),
    ("kafka.strimzi.io/v1beta2?x=1", "Kafka", "api_version"),
    ("Kafka.Strimzi.io/v1beta2", "Kafka", "api_version"),
    ("kafka.strimzi.io/1beta2", "Kafka", "api_version"),
    ("kafka.strimzi.io/v1gamma1", "Kafka", "api_version"),
    ("kafka.strimzi.io/", "Kafka", "api_version"),
    ("/v1beta2", "Kafka", "api_version"),
    ("v1beta2", "Kafka", "api_version"),
    ("kafka.strimzi.io/v1beta2\n", "Kafka", "api_version"),
    ("-kafka.io/v1", "Kafka", "api_version"),
    ("kafka.strimzi.io/v1beta2", "kafka", "kind"),
    ("kafka.strimzi.io/v1beta2", "Kafka?x=1", "kind"),
    ("kafka.strimzi.io/v1beta2", "Kafka/..", "kind"),
    ("kafka.strimzi.io/v1beta2", "Kafka-Cluster", "kind"),
    ("kafka.strimzi.io/v1beta2", "Kafka\n", "kind"),
    ("kafka.strimzi.io/v1beta2", "kafkas", "kind"),
]
BAD_IDS = [
    "an apiVersion with dot segments is refused",
    "an apiVersion with a query is refused",
    "an apiVersion with an upper-case group is refused",
    "a version without its v is refused",
    "a version that is neither alpha nor beta is refused",
    "an apiVersion without a version is refused",
    "an apiVersion without a group before its slash is refused",
    "a version other than v1 without a group is refused",
    "an apiVersion with a trailing newline is refused",
    "a group starting with a dash is refused",
    "a lower-case kind is refused",
    "a kind with a query is refused",
    "a kind with a slash is refused",
    "a kind with a dash is refused",
    "a kind with a trailing newline is refused",
    "a plural given as the kind is refused",
]


def _names(argument: str, message: str) -> bool:
    """The message is about ``argument`` (after the sensor's ``Class(task_id=...): ``)."""
    return re.match(rf"^(\w+\(task_id='wait'\): )?{argument} ", message) is not None


def _sensor(api_version: str, kind: str) -> Any:
    return ResourceRunningSensor(task_id="wait", api_version=api_version, kind=kind, name="kafka")


def _asset(api_version: str, kind: str) -> Any:
    return workload_asset(kind, "kafka", "shop", api_version=api_version)


MAKERS = [pytest.param(_sensor, id="the sensor"), pytest.param(_asset, id="workload_asset")]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize(("api_version", "kind"), GOOD, ids=GOOD_IDS)
def test_well_shaped_kinds_parse(make: Any, api_version: str, kind: str) -> None:
    make(api_version, kind)


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize(("api_version", "kind", "argument"), BAD, ids=BAD_IDS)
def test_an_ill_shaped_kind_fails_at_parse_naming_the_argument_and_the_fix(
    make: Any, api_version: str, kind: str, argument: str
) -> None:
    with pytest.raises(ValueError) as info:
        make(api_version, kind)
    message = str(info.value)
    assert _names(argument, message), message
    assert " must be " in message, message
    assert "e.g." in message, message
    assert "\n" not in message.replace(repr(api_version), "").replace(repr(kind), ""), message


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"name": "kafka\n"}, "name"),
        ({"name": "kafka", "namespace": "shop\n"}, "namespace"),
        ({"name": "kafka?x=1"}, "name"),
        ({"name": "kafka", "namespace": "default/../other"}, "namespace"),
    ],
    ids=[
        "a name with a trailing newline is refused",
        "a namespace with a trailing newline is refused",
        "a name with a query is refused",
        "a namespace that climbs into another is refused",
    ],
)
def test_the_sensor_refuses_a_name_or_namespace_that_only_looks_valid(
    kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValueError) as info:
        ResourceRunningSensor(
            task_id="wait", api_version="kafka.strimzi.io/v1beta2", kind="Kafka", **kwargs
        )
    assert _names(argument, str(info.value)), str(info.value)
