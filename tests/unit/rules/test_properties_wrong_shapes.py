"""Properties under wrong JSON types and shapes, checked with hypothesis (issue 10, section 3).

The other property tests strip fields; these put any JSON value (a string where
a number is expected, a list of nulls, an object where a list is...) into any
field of healthy objects, and into the lists of pods, ReplicaSets and revisions.
For every input: the rules return a Verdict and never raise; a pod is READY only
if every field the rules read has its type (:mod:`readiness.shapes`); and a call
on a small input is fast.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from copy import deepcopy
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_sts_provider.readiness import (
    State,
    Verdict,
    evaluate_daemonset,
    evaluate_deployment,
    evaluate_pod,
    evaluate_resource,
    evaluate_statefulset,
    shapes,
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

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = 2.0  # seconds: a call on a few small objects takes milliseconds

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**4), max_value=10**4),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "3", "-3", "True", "Running", "2024-05-01T10:00:00Z", "2024-13-01"]),
    st.text(max_size=8),
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _put(value: Any, path: tuple[Any, ...], junk: Any) -> Any:
    if not path:
        return junk
    copy = deepcopy(value)
    cur = copy
    for key in path[:-1]:
        cur = cur[key]
    cur[path[-1]] = junk
    return copy


@st.composite
def spoiled(draw: st.DrawFn, args: list[Any]) -> list[Any]:
    """``args`` with one to three fields anywhere in them replaced by any JSON value."""
    args = list(args)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        index = draw(st.integers(min_value=0, max_value=len(args) - 1))
        path = draw(st.sampled_from(list(_paths(args[index]))))
        args[index] = _put(args[index], path, draw(JUNK))
    return args


def _timed(judge: Callable[[], Verdict]) -> Verdict:
    started = time.perf_counter()
    verdict = judge()
    assert time.perf_counter() - started < SLOW
    assert isinstance(verdict, Verdict)
    assert isinstance(verdict.reason, str) and verdict.reason
    return verdict


def _judged_pods_well_formed(verdict: Verdict, pods: Any) -> None:
    """Every pod a READY verdict counted has every field the pod rules read well typed."""
    names = {report.name for report in verdict.pods}
    for obj in shapes.entries(pods, "S9", "pods")[0]:
        meta = obj.get("metadata")
        if isinstance(meta, dict) and str(meta.get("name") or "<unnamed pod>") in names:
            assert _well_formed(obj), obj


def _well_formed(obj: Any) -> bool:
    """The evidence READY needs, read independently of the rules: any doubt is False."""
    try:
        status, spec = obj["status"], obj["spec"]
        ready = [
            c for c in status["conditions"] if isinstance(c, dict) and c.get("type") == "Ready"
        ]
        _stamp(ready[0]["lastTransitionTime"])
        names = [c["name"] for c in spec["containers"]]
        inits = [c["name"] for c in spec.get("initContainers") or ()]
        seen = {s["name"]: s for s in status["containerStatuses"]}
        seen_init = {s["name"]: s for s in status.get("initContainerStatuses") or ()}
        checks = [
            status["phase"] == "Running",
            ready[0]["status"] == "True",
            bool(names),
            all(_count(seen_init[n].get("restartCount")) for n in inits),
        ]
        for name in names:
            container = seen[name]
            _stamp(container["state"]["running"]["startedAt"])
            checks += [container["ready"] is True, _count(container.get("restartCount"))]
        return all(checks)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        return False


def _count(value: Any) -> bool:
    """A restart count: an integer never below 0, or null (absent, as the API's conventions
    read it). A negative one would cancel another container's restarts (issue 15)."""
    return value is None or (type(value) is int and value >= 0)


def _stamp(value: Any) -> None:
    """RFC 3339 with a zone, or it raises: a date alone or a zone-less time is not a time."""
    if not isinstance(value, str):
        raise TypeError(value)
    if not re.fullmatch(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?(Z|[+-][0-9:]{4,5})", value
    ):
        raise ValueError(value)
    datetime.fromisoformat(value)


@SETTINGS
@given(spoiled([pod(1, init=("migrate",), sidecars=("proxy",))]))
def test_a_spoiled_pod_never_raises_and_is_ready_only_when_well_formed(args: list[Any]) -> None:
    (obj,) = args
    verdict = _timed(lambda: evaluate_pod(obj, now=NOW))
    if verdict.state is State.READY:
        assert _well_formed(obj), obj


@SETTINGS
@given(spoiled([sts(replicas=2), sts_pods(2)]))
def test_a_spoiled_statefulset_never_raises_nor_is_ready_on_bad_shapes(args: list[Any]) -> None:
    obj, pods = args
    verdict = _timed(lambda: evaluate_statefulset(obj, pods, now=NOW))
    if verdict.state is State.READY:
        assert not shapes.problems(obj, shapes.STATEFULSET, "StatefulSet")
        _judged_pods_well_formed(verdict, pods)


@SETTINGS
@given(spoiled([deployment(replicas=2), [replicaset(NEW_HASH)], [rs_pod(0), rs_pod(1)]]))
def test_a_spoiled_deployment_never_raises_nor_is_ready_on_bad_shapes(args: list[Any]) -> None:
    obj, replicasets, pods = args
    verdict = _timed(lambda: evaluate_deployment(obj, replicasets, pods, now=NOW))
    if verdict.state is State.READY:
        assert not shapes.problems(obj, shapes.DEPLOYMENT, "Deployment")
        _judged_pods_well_formed(verdict, pods)


@SETTINGS
@given(spoiled([daemonset(), ds_pods(3), [controller_revision()]]))
def test_a_spoiled_daemonset_never_raises_nor_is_ready_on_bad_shapes(args: list[Any]) -> None:
    obj, pods, revisions = args
    verdict = _timed(lambda: evaluate_daemonset(obj, pods, now=NOW, revisions=revisions))
    if verdict.state is State.READY:
        assert not shapes.problems(obj, shapes.DAEMONSET, "DaemonSet")
        _judged_pods_well_formed(verdict, pods)


@SETTINGS
@given(spoiled([resource(), [broker(0), broker(1)]]))
def test_a_spoiled_resource_never_raises_nor_is_ready_on_bad_shapes(args: list[Any]) -> None:
    obj, pods = args
    verdict = _timed(lambda: evaluate_resource(obj, pods, now=NOW))
    if verdict.state is State.READY:
        assert not shapes.problems(obj, shapes.RESOURCE, "resource")
        assert all(_well_formed(p) for p in shapes.entries(pods, "G8", "pods")[0])
