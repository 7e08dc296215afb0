"""The fast paths change no verdict: proved over drawn pods and sets, checked with hypothesis.

Two shortcuts keep a poke of thousands of pods as cheap as the single module was
(issue 7): :func:`pods.quiet` lets a pod that P3-P6 have nothing to say about
skip them, and :func:`statefulset.by_ordinal` finds the expected pods by name
instead of parsing every pod's name (:func:`statefulset.by_pod`). Each is proved
here against the path it shortcuts, on healthy, broken, stripped and spoiled
input (any JSON value in any field), so a rule added to P3-P6 that the gate does
not know about fails these tests instead of going unasked.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_sts_provider.readiness import ReadinessPolicy
from airflow_sts_provider.readiness import pods as pod_rules
from airflow_sts_provider.readiness import statefulset as sts_rules

from .builders import NEW_REV, NOW, OLD_REV, pod, sts
from .test_properties import CATALOGUE, KINDS
from .test_properties_wrong_shapes import JUNK, _paths, _put

Json = dict[str, Any]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _never(pod: Any, policy: ReadinessPolicy) -> bool:
    """A gate that never lets a pod skip P3-P6: the rules as they are without the fast path."""
    return False


POLICIES = st.builds(
    ReadinessPolicy,
    min_stable_seconds=st.sampled_from([0.0, 30.0, 60.0]),
    max_restarts=st.integers(min_value=0, max_value=3),
    restart_window_seconds=st.sampled_from([0.0, 60.0, 900.0]),
)

LAYOUTS: list[dict[str, Any]] = [
    {},
    {"containers": ("main", "metrics")},
    {"init": ("migrate",)},
    {"init": ("migrate",), "sidecars": ("proxy",)},
]


def _tweaked(obj: Json, tweak: str) -> Json:
    """What P6 reads beyond the catalogue: readiness gates, statuses of other names or none."""
    copy = deepcopy(obj)
    spec, status = copy["spec"], copy["status"]
    if tweak == "gate":
        spec["readinessGates"] = [{"conditionType": "example.com/lb"}]
    elif tweak == "gate passed":
        spec["readinessGates"] = [{"conditionType": "example.com/lb"}]
        status["conditions"].append({"type": "example.com/lb", "status": "True"})
    elif tweak == "renamed" and status.get("containerStatuses"):
        status["containerStatuses"][-1]["name"] = "other"
    elif tweak == "status lost" and status.get("containerStatuses"):
        status["containerStatuses"].pop()
    elif tweak == "reordered" and status.get("containerStatuses"):
        status["containerStatuses"].reverse()
    return copy


TWEAKS = ["none", "gate", "gate passed", "renamed", "status lost", "reordered"]


@st.composite
def drawn_pods(draw: st.DrawFn) -> Json:
    """A pod of any catalogue condition and container layout, maybe stripped or spoiled."""
    changes = CATALOGUE[draw(st.sampled_from([k for k in KINDS if CATALOGUE[k][1] is not None]))]
    obj = pod(1, **(changes[1] or {}), **draw(st.sampled_from(LAYOUTS)))
    obj = _tweaked(obj, draw(st.sampled_from(TWEAKS)))
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        path = draw(st.sampled_from(list(_paths(obj))))
        remove = bool(path) and draw(st.booleans())
        obj = _without(obj, path) if remove else _put(obj, path, draw(JUNK))
    return obj


def _without(obj: Any, path: tuple[Any, ...]) -> Any:
    copy = deepcopy(obj)
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return copy


@SETTINGS
@given(drawn_pods(), POLICIES)
def test_the_pod_fast_path_never_changes_a_pod_verdict(obj: Json, policy: ReadinessPolicy) -> None:
    fast = pod_rules.judge_pod(obj, NOW, policy)
    slow = pod_rules.judge_pod(obj, NOW, policy, gate=_never)
    assert fast == slow
    assert fast[0].reason == slow[0].reason


@SETTINGS
@given(drawn_pods(), POLICIES)
def test_a_pod_the_gate_lets_through_is_one_p3_to_p6_find_nothing_in(
    obj: Json, policy: ReadinessPolicy
) -> None:
    try:
        judged = pod_rules._Pod(obj)
        through = pod_rules.quiet(judged, policy)
    except pod_rules._UNREADABLE:
        return  # judge_pod names the wrong field; the test above proves both paths agree
    if through:
        assert pod_rules.p3_to_p6(judged, NOW, policy) == []


HEALTHY: list[Json] = [
    pod(1),
    pod(1, containers=("main", "metrics")),
    pod(1, init=("migrate",), sidecars=("proxy",)),
]


@pytest.mark.parametrize("obj", HEALTHY, ids=["one container", "two containers", "init+sidecar"])
def test_a_healthy_pod_takes_the_fast_path(obj: Json) -> None:
    """Else the properties above would prove nothing: the gate must let healthy pods through."""
    assert pod_rules.quiet(pod_rules._Pod(obj), ReadinessPolicy())


def _renamed_status(obj: Json) -> Json:
    copy = deepcopy(obj)
    copy["status"]["containerStatuses"][0]["name"] = "other"
    return copy


def _gated(obj: Json) -> Json:
    copy = deepcopy(obj)
    copy["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"}]
    return copy


@pytest.mark.parametrize(
    ("obj", "policy"),
    [
        pytest.param(_renamed_status(pod(1)), ReadinessPolicy(), id="a status of another name"),
        pytest.param(_gated(pod(1)), ReadinessPolicy(), id="a readiness gate"),
        pytest.param(
            pod(1, restarts=1, last_exit=1), ReadinessPolicy(), id="restarts over max_restarts"
        ),
        pytest.param(pod(1, ready=False), ReadinessPolicy(), id="condition Ready False"),
        pytest.param(
            pod(1, containers=("main", "metrics"), container="metrics", ready=False),
            ReadinessPolicy(),
            id="one container not ready",
        ),
    ],
)
def test_a_pod_some_rule_of_p3_to_p6_tells_about_is_not_let_through(
    obj: Json, policy: ReadinessPolicy
) -> None:
    assert not pod_rules.quiet(pod_rules._Pod(obj), policy)


# --------------------------------------------------------------------------- by ordinal

NAMES = [
    *(f"web-{i}" for i in range(8)),
    "web-01",
    "web-00",
    "web--1",
    "web-",
    "web-1-2",
    "web-\u00b2",  # a superscript two: str.isdigit() says yes, int() says no
    "web-\u0663",  # an Arabic-Indic three: int() reads it, the API never names a pod so
    "api-1",
    "web",
]


@st.composite
def named_sets(draw: st.DrawFn) -> tuple[Json, dict[str, pod_rules.Judged], int]:
    """A StatefulSet, the judged pods by name (any names), and a cap on missing pods named."""
    obj = sts(
        replicas=draw(st.integers(min_value=0, max_value=8)),
        ordinals_start=draw(st.sampled_from([None, 0, 1, 2])),
        strategy=draw(st.sampled_from(["RollingUpdate", "OnDelete"])),
        pod_management=draw(st.sampled_from(["OrderedReady", "Parallel"])),
    )
    judged: dict[str, pod_rules.Judged] = {}
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=8, unique=True)):
        kind = draw(st.sampled_from([k for k in KINDS if CATALOGUE[k][1] is not None]))
        revision = draw(st.sampled_from([NEW_REV, OLD_REV]))
        one = pod(0, name=name, revision=revision, **(CATALOGUE[kind][1] or {}))
        judged[name] = pod_rules.judge_pod(one, NOW, ReadinessPolicy())
    return obj, judged, draw(st.integers(min_value=0, max_value=9))


def _walk(
    way: Callable[..., None], obj: Json, judged: dict[str, pod_rules.Judged], cap: int
) -> tuple[Any, ...]:
    left = dict(judged)
    out = sts_rules._Pods()
    saved, sts_rules.MAX_MISSING_NAMED = sts_rules.MAX_MISSING_NAMED, cap
    try:
        way(sts_rules._read(obj), left, out, ReadinessPolicy())
    finally:
        sts_rules.MAX_MISSING_NAMED = saved
    fields = (out.ready, out.at_update, out.outdated, out.blocker)
    return (tuple(out.reports), tuple(out.rules), fields, sorted(left))


@SETTINGS
@given(named_sets())
def test_finding_the_expected_pods_by_name_tells_what_parsing_their_names_tells(
    case: tuple[Json, dict[str, pod_rules.Judged], int],
) -> None:
    obj, judged, cap = case
    assert _walk(sts_rules.by_ordinal, obj, judged, cap) == _walk(
        sts_rules.by_pod, obj, judged, cap
    )
