"""Wrong shapes never raise: JSON of any type where the rules read a field is WAITING.

The reason names the field ("status.conditions is not a list (string)") and the
verdict carries the id of the rule that needed it (issue 10, section 3).
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any

import pytest

from airflow_sts_provider.readiness import (
    State,
    Verdict,
    evaluate_daemonset,
    evaluate_deployment,
    evaluate_pod,
    evaluate_resource,
    evaluate_statefulset,
)

from .builders import (
    NEW_HASH,
    NOW,
    broker,
    controller_revision,
    daemonset,
    deployment,
    ds_pods,
    pod,
    replicaset,
    resource,
    rs_pod,
    sts,
    sts_pods,
)

Json = dict[str, Any]


def _set(obj: Any, path: str, value: Any) -> Any:
    """A copy of ``obj`` with the dotted ``path`` set to ``value`` (``containerStatuses.0``)."""
    copy = deepcopy(obj)
    keys = path.split(".")
    cur = copy
    for key in keys[:-1]:
        cur = cur[int(key)] if isinstance(cur, list) else cur[key]
    last = keys[-1]
    if isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value
    return copy


def _pod(path: str, value: Any) -> Json:
    built: Json = _set(pod(1), path, value) if path else value
    return built


POD_CASES = [
    pytest.param({"status": {"conditions": "-3"}}, "status.conditions is not a list", "P6"),
    pytest.param({"metadata": "3"}, "metadata is not an object", "P1"),
    pytest.param({"spec": [{}]}, "spec is not an object", "P6"),
    pytest.param(
        {"spec": {"initContainers": {"a": {}}}}, "spec.initContainers is not a list", "P6"
    ),
    pytest.param(
        {"status": {"containerStatuses": [None]}},
        "status.containerStatuses[0] is not an object (null)",
        "P6",
    ),
    pytest.param(
        _pod("status.containerStatuses.0.restartCount", "3"),
        "status.containerStatuses[0].restartCount is not an integer (string)",
        "P4",
    ),
    pytest.param(
        _pod("status.containerStatuses.0.state", "running"),
        "status.containerStatuses[0].state is not an object",
        "P6",
    ),
    pytest.param(
        _pod("status.containerStatuses.0.state.running", []),
        "state.running is not an object (list)",
        "P6",
    ),
    pytest.param(_pod("metadata.labels", ["a"]), "metadata.labels is not an object", "P1"),
    pytest.param(_pod("status.conditions", [1, 2]), "status.conditions[0] is not an object", "P6"),
    pytest.param([{}], "pod is not an object (list)", "P6"),
    pytest.param("3", "pod is not an object (string)", "P6"),
    pytest.param(None, "pod is not an object (null)", "P6"),
]


@pytest.mark.parametrize(("given", "words", "rule"), POD_CASES)
def test_a_pod_of_a_wrong_shape_waits_naming_the_field(given: Any, words: str, rule: str) -> None:
    verdict = evaluate_pod(given, now=NOW)
    assert verdict.state is State.WAITING, verdict.reason
    assert words in verdict.reason
    assert verdict.rules == (rule,)
    assert verdict.pods[0].reason.startswith(verdict.pods[0].name)


def _sts(given: Any, pods: Any = None) -> Verdict:
    return evaluate_statefulset(given, sts_pods(2) if pods is None else pods, now=NOW)


def _deploy(given: Any, replicasets: Any = None, pods: Any = None) -> Verdict:
    return evaluate_deployment(
        given,
        [replicaset(NEW_HASH)] if replicasets is None else replicasets,
        [rs_pod(0), rs_pod(1), rs_pod(2)] if pods is None else pods,
        now=NOW,
    )


def _ds(given: Any, pods: Any = None, revisions: Any = None) -> Verdict:
    return evaluate_daemonset(
        given,
        ds_pods(3) if pods is None else pods,
        now=NOW,
        revisions=[controller_revision()] if revisions is None else revisions,
    )


def _res(given: Any, pods: Any = ()) -> Verdict:
    return evaluate_resource(given, pods, now=NOW)


WORKLOAD_CASES = [
    # StatefulSet
    pytest.param(lambda: _sts({"metadata": "3"}), "metadata is not an object", ("S1",)),
    pytest.param(lambda: _sts({"spec": [{}]}), "spec is not an object (list)", ("S3",)),
    pytest.param(
        lambda: _sts(_set(sts(replicas=2), "spec.replicas", "2")),
        "spec.replicas is not an integer (string)",
        ("S3",),
    ),
    pytest.param(
        lambda: _sts(_set(sts(replicas=2), "metadata.generation", "2")),
        "metadata.generation is not an integer (string)",
        ("S2",),
    ),
    pytest.param(
        lambda: _sts(_set(sts(replicas=2), "spec.updateStrategy", "RollingUpdate")),
        "spec.updateStrategy is not an object",
        ("S6",),
    ),
    pytest.param(
        lambda: _sts(_set(sts(replicas=2), "status", [1])), "status is not an object", ("S3",)
    ),
    pytest.param(lambda: _sts(["web"]), "StatefulSet is not an object (list)", ("S3",)),
    pytest.param(lambda: _sts(sts(replicas=2), pods="web-0"), "pods is not a list", ("S9",)),
    pytest.param(
        lambda: _sts(sts(replicas=2), pods=[*sts_pods(2), None, 3]),
        "pods[2], pods[3] are not an object",
        ("S9",),
    ),
    pytest.param(
        lambda: _sts(sts(replicas=2), pods=[_set(p, "status", "x") for p in sts_pods(2)]),
        "web-0: cannot be judged: status is not an object (string)",
        ("S10", "P6"),
    ),
    # Deployment
    pytest.param(lambda: _deploy({"metadata": "3"}), "metadata is not an object", ("D1",)),
    pytest.param(
        lambda: _deploy(_set(deployment(), "status.conditions", "-3")),
        "status.conditions is not a list (string)",
        ("D3",),
    ),
    pytest.param(
        lambda: _deploy(_set(deployment(), "metadata.generation", "2")),
        "metadata.generation is not an integer",
        ("D2",),
    ),
    pytest.param(
        lambda: _deploy(deployment(), replicasets=[{"metadata": []}]),
        "metadata is not an object (list)",
        ("D6",),
    ),
    pytest.param(
        lambda: _deploy(deployment(), replicasets={"a": {}}), "replicasets is not a list", ("D6",)
    ),
    pytest.param(
        lambda: _deploy(deployment(), pods=[[], rs_pod(0)]), "pods[0] is not an object", ("D6",)
    ),
    # DaemonSet
    pytest.param(lambda: _ds({"spec": [{}]}), "spec is not an object", ("DS5",)),
    pytest.param(
        lambda: _ds(_set(daemonset(), "status.desiredNumberScheduled", "3")),
        "status.desiredNumberScheduled is not an integer (string)",
        ("DS3",),
    ),
    pytest.param(
        lambda: _ds(daemonset(), revisions=[{"metadata": "3", "revision": 2}]),
        "metadata is not an object (string)",
        ("DS5",),
    ),
    pytest.param(
        lambda: _ds(daemonset(), revisions=[{"revision": "2"}]),
        "revision is not an integer (string)",
        ("DS5",),
    ),
    pytest.param(lambda: _ds(daemonset(), revisions=7), "revisions is not a list", ("DS5",)),
    pytest.param(
        lambda: _ds(daemonset(), pods=[_set(p, "spec", [{}]) for p in ds_pods(3)]),
        "spec is not an object (list)",
        ("DS8", "P6"),
    ),
    # Resource
    pytest.param(lambda: _res({"metadata": "3"}), "metadata is not an object", ("G1",)),
    pytest.param(
        lambda: _res(_set(resource(), "metadata.generation", "2")),
        "metadata.generation is not an integer",
        ("G2",),
    ),
    pytest.param(
        lambda: _res(resource(), pods=[broker(0), "x"]), "pods[1] is not an object", ("G8",)
    ),
    pytest.param(lambda: _res(resource(), pods={"a": 1}), "pods is not a list", ("G8",)),
]


@pytest.mark.parametrize(("judge", "words", "rules"), WORKLOAD_CASES)
def test_a_workload_of_a_wrong_shape_waits_naming_the_field(
    judge: Callable[[], Verdict], words: str, rules: tuple[str, ...]
) -> None:
    verdict = judge()
    assert verdict.state is State.WAITING, verdict.reason
    assert words in verdict.reason
    assert set(rules) <= set(verdict.rules), verdict.rules
