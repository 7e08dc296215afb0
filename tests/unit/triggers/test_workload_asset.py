"""``workload_asset``: the asset URI, the kind's event trigger, and clear errors at parse time."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sts_provider.assets import asset_uri, workload_asset
from airflow_sts_provider.kinds import KINDS, import_class
from airflow_sts_provider.readiness import ReadinessPolicy
from airflow_sts_provider.triggers.events import ResourceReadyEventTrigger


@pytest.mark.parametrize(
    "kind", list(KINDS), ids=[f"a {k} is watched by its own event trigger" for k in KINDS]
)
def test_each_kind_gets_its_uri_and_its_event_trigger(kind: str) -> None:
    asset = workload_asset(kind, "web", "shop")
    assert asset.uri == f"kubernetes://shop/{kind.lower()}/web"
    (watcher,) = asset.watchers
    assert watcher.name == f"{kind.lower()}-shop-web"
    assert type(watcher.trigger) is import_class(KINDS[kind].event_trigger)
    _, kwargs = watcher.trigger.serialize()
    assert (kwargs["name"], kwargs["namespace"], kwargs["on_failure"]) == ("web", "shop", False)


def test_the_arguments_reach_the_trigger() -> None:
    asset = workload_asset(
        "StatefulSet",
        "web",
        kubernetes_conn_id="prod_k8s",
        on_failure=True,
        policy={"min_stable_seconds": 3},
        check_interval=5,
        watcher_name="web-rollouts",
    )
    assert asset.uri == asset_uri("StatefulSet", "web") == "kubernetes://default/statefulset/web"
    (watcher,) = asset.watchers
    _, kwargs = watcher.trigger.serialize()
    assert watcher.name == "web-rollouts"
    assert kwargs["kubernetes_conn_id"] == "prod_k8s"
    assert kwargs["on_failure"] is True
    assert kwargs["policy"] == {"min_stable_seconds": 3}
    assert kwargs["check_interval"] == 5.0


@pytest.mark.parametrize(
    ("share", "key_is_none"),
    [(True, False), (False, True)],
    ids=[
        "by default the watcher shares the namespace's watches",
        "share_watches=False watches alone",
    ],
)
def test_share_watches_reaches_the_trigger(share: bool, key_is_none: bool) -> None:
    trigger = workload_asset("StatefulSet", "web", share_watches=share).watchers[0].trigger
    assert (trigger.shared_stream_key() is None) is key_is_none
    assert ("share_watches" in trigger.serialize()[1]) is key_is_none


def test_a_policy_object_is_stored_as_its_fields() -> None:
    asset = workload_asset("Deployment", "api", policy=ReadinessPolicy(min_stable_seconds=5))
    _, kwargs = asset.watchers[0].trigger.serialize()
    assert kwargs["policy"]["min_stable_seconds"] == 5


def test_a_custom_resource_is_watched_by_the_resource_event_trigger() -> None:
    asset = workload_asset(
        "Kafka",
        "events",
        "kafka",
        api_version="kafka.strimzi.io/v1beta2",
        failure_reasons=["ReconciliationFailed"],
        pod_selector="strimzi.io/cluster=events",
    )
    assert asset.uri == "kubernetes://kafka/kafka/events"
    trigger = asset.watchers[0].trigger
    assert isinstance(trigger, ResourceReadyEventTrigger)
    _, kwargs = trigger.serialize()
    assert (kwargs["resource_kind"], kwargs["api_version"]) == ("Kafka", "kafka.strimzi.io/v1beta2")
    assert kwargs["failure_reasons"] == ["ReconciliationFailed"]


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        (("Statefulset", "web"), {}, "unknown kind"),
        (("StatefulSet", "Web_1"), {}, "name 'Web_1'"),
        (("StatefulSet", "x" * 64), {}, "at most 63"),
        (("StatefulSet", ""), {}, "name must be"),
        (("StatefulSet", "web", "Prod"), {}, "namespace 'Prod'"),
        (("StatefulSet", "web", None), {}, "namespace must be"),
        (("StatefulSet", "web"), {"kubernetes_conn_id": ""}, "kubernetes_conn_id"),
        (("StatefulSet", "web"), {"on_failure": "yes"}, "on_failure"),
        (("StatefulSet", "web"), {"share_watches": 0}, "share_watches"),
        (("StatefulSet", "web"), {"watcher_name": " "}, "watcher_name"),
        (("StatefulSet", "web"), {"policy": {"min_stable": 3}}, "unknown field(s) 'min_stable'"),
        (("StatefulSet", "web"), {"policy": {"min_stable_seconds": -1}}, "min_stable_seconds"),
        (("StatefulSet", "web"), {"policy": 3}, "policy must be"),
        (("StatefulSet", "web"), {"check_interval": 0.1}, "check_interval"),
        (("StatefulSet", "web"), {"pod_selector": "app=web"}, "pod_selector"),
        (("StatefulSet", "web"), {"api_version": "apps/v1"}, "api_version is only"),
        (("Kafka", "events"), {"api_version": "v1beta2"}, "api_version must be"),
        (("Kafka", "events"), {"api_version": "a/v1", "failure_reasons": "Bad"}, "failure_reasons"),
        (("Kafka", "events"), {"api_version": "a/v1", "condition": ""}, "condition"),
    ],
    ids=[
        "a misspelt kind names the kinds there are",
        "a name that is not RFC 1123 is refused",
        "a StatefulSet name longer than a label is refused",
        "an empty name is refused",
        "an upper-case namespace is refused",
        "no namespace is refused: the URI names it",
        "an empty connection id is refused",
        "on_failure must be a bool, not a string",
        "share_watches must be a bool",
        "a blank watcher name is refused",
        "an unknown policy field is named",
        "a negative window is refused by the policy's own check",
        "a policy that is not a mapping is refused",
        "a sub-second check interval is refused",
        "a pod selector is only for custom resources",
        "api_version on a built-in kind is refused",
        "an api_version without a group is refused",
        "failure reasons given as one string are refused",
        "an empty condition is refused",
    ],
)
def test_bad_arguments_fail_at_parse_time_naming_the_field(
    args: tuple[Any, ...], kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError) as raised:
        workload_asset(*args, **kwargs)
    assert field in str(raised.value)
