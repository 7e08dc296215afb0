"""The slim decoder: only the fields the rules read, the same verdicts as full decoding.

Bodies are made here as the API server sends them (a JSON list of objects) and
decoded by :func:`decode_body` exactly as the hooks do; the verdicts over the slim
dicts are compared with those over ``json.loads``, on healthy and failing objects,
on any JSON value put anywhere in them (hypothesis), and on the real objects of
``../shared/fixtures``.
"""

from __future__ import annotations

import builtins
import importlib
import json
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_sts_provider.exceptions import TransientKubernetesError
from airflow_sts_provider.hooks import decode
from airflow_sts_provider.hooks.decode import decode_body, peek_continue
from airflow_sts_provider.hooks.wire import Request
from airflow_sts_provider.readiness import (
    Verdict,
    evaluate_daemonset,
    evaluate_deployment,
    evaluate_pod,
    evaluate_statefulset,
)

from ..rules.builders import (
    NEW_HASH,
    NOW,
    controller_revision,
    daemonset,
    deployment,
    ds_pods,
    pod,
    replicaset,
    rs_pod,
    sts,
    sts_pods,
)
from ..rules.real_objects import fixtures_dir, normalise, ten_minutes_after

Json = dict[str, Any]

PODS = Request("list", "pods", "default")
REPLICASETS = Request("list", "replicasets", "default")
REVISIONS = Request("list", "controllerrevisions", "default")
EVENTS = Request("list", "events", "default")


def body(items: Any, kind: str = "PodList", token: str | None = None) -> bytes:
    """A LIST response as the API server writes it: kind, apiVersion, metadata, items."""
    meta: Json = {"resourceVersion": "42"}
    if token is not None:
        meta["continue"] = token
    return json.dumps({"kind": kind, "apiVersion": "v1", "metadata": meta, "items": items}).encode()


def slim(request: Request, items: Any) -> Any:
    return decode_body(request, body(items)).get("items")


def full(items: Any) -> Any:
    return json.loads(body(items)).get("items")


def dressed(obj: Json) -> Json:
    """``obj`` with what a real object carries and no rule reads."""
    obj = deepcopy(obj)
    meta = obj.setdefault("metadata", {})
    meta["managedFields"] = [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}]
    spec = obj.setdefault("spec", {})
    spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}}]
    for container in spec.get("containers") or ():
        container["image"] = "nginx:1.27"
        container["env"] = [{"name": "A", "value": "1"}]
    return obj


# --------------------------------------------------------------------------- what is kept


def test_a_slim_pod_keeps_what_the_rules_read_and_drops_the_rest() -> None:
    given_pod = dressed(pod(0))
    (kept,) = slim(PODS, [given_pod])
    assert "managedFields" not in kept["metadata"]
    assert "volumes" not in kept["spec"]
    assert kept["spec"]["containers"] == [{"name": "main"}]
    assert kept["metadata"]["labels"] == given_pod["metadata"]["labels"]
    assert kept["metadata"]["ownerReferences"] == given_pod["metadata"]["ownerReferences"]
    (status,) = kept["status"]["containerStatuses"]
    assert "image" not in status
    assert status["state"] == given_pod["status"]["containerStatuses"][0]["state"]
    assert kept["status"]["phase"] == given_pod["status"]["phase"]


def test_a_slim_revision_drops_its_pod_template() -> None:
    revision = controller_revision()
    revision["data"] = {"spec": {"template": dressed(pod(0))}}
    (kept,) = slim(REVISIONS, [revision])
    assert "data" not in kept
    assert kept["revision"] == revision["revision"]
    assert kept["metadata"]["labels"] == revision["metadata"]["labels"]


def test_the_list_metadata_paging_reads_is_kept() -> None:
    decoded = decode_body(PODS, body([], token="abc"))
    assert decoded["metadata"] == {"resourceVersion": "42", "continue": "abc"}


@pytest.mark.parametrize(
    ("request_", "is_slim"),
    [
        pytest.param(PODS, True, id="a LIST of core v1 pods is decoded slim"),
        pytest.param(REPLICASETS, True, id="a LIST of apps/v1 ReplicaSets is decoded slim"),
        pytest.param(EVENTS, True, id="a LIST of core v1 events is decoded slim"),
        pytest.param(
            Request("get", "pods", "default", "web-0"), False, id="a GET of one pod is in full"
        ),
        pytest.param(
            Request("list", "statefulsets", "default"),
            False,
            id="a LIST of workloads is in full (their watches and selectors read more)",
        ),
        pytest.param(
            Request("list", "pods", "default", group="example.com"),
            False,
            id="a custom resource that calls itself pods is in full",
        ),
        pytest.param(
            Request("list", "kafkas", "default", group="kafka.strimzi.io", version="v1beta2"),
            False,
            id="a custom resource is in full",
        ),
        pytest.param(
            Request("list", "pods", "default", version="v2"),
            False,
            id="another version of pods is in full",
        ),
    ],
)
def test_which_bodies_are_decoded_slim(request_: Request, is_slim: bool) -> None:
    (decoded,) = decode_body(request_, body([dressed(pod(0))]))["items"]
    assert ("volumes" not in decoded.get("spec", {})) is is_slim


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    "items",
    [
        pytest.param([{"metadata": "3"}], id="metadata a string is decoded in full"),
        pytest.param([{"spec": {"containers": {"a": {}}}}], id="containers an object: in full"),
        pytest.param([{"status": {"containerStatuses": [None]}}], id="a null status: in full"),
        pytest.param([None], id="a null pod is decoded in full"),
        pytest.param([[{}]], id="a pod that is a list is decoded in full"),
        pytest.param({"a": 1}, id="items an object is decoded in full"),
        pytest.param(
            [{"status": {"containerStatuses": [{"state": {"running": []}}]}}],
            id="state.running a list is decoded in full",
        ),
    ],
)
def test_a_body_the_schema_does_not_fit_is_decoded_in_full(items: Any) -> None:
    assert slim(PODS, items) == full(items)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("3", id="a count that is a string reaches the rules as it is"),
        pytest.param(1.5, id="a count that is a float reaches the rules as it is"),
        pytest.param({"n": 3}, id="a count that is an object reaches the rules as it is"),
    ],
)
def test_a_leaf_of_any_type_is_kept_as_it_is(value: Any) -> None:
    given_pod = pod(0)
    given_pod["status"]["containerStatuses"][0]["restartCount"] = value
    (kept,) = slim(PODS, [given_pod])
    assert kept["status"]["containerStatuses"][0]["restartCount"] == value


REQUESTS = [
    pytest.param(PODS, id="slim"),
    pytest.param(Request("get", "statefulsets", "default", "web"), id="full"),
]


@pytest.mark.parametrize("request_", REQUESTS)
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"[1, 2]", id="a JSON list is transient"),
        pytest.param(b'"text"', id="a JSON string is transient"),
        pytest.param(b"null", id="JSON null is transient"),
        pytest.param(b"<html>502 Bad Gateway</html>", id="an HTML page is transient"),
        pytest.param(b'{"kind": "PodList", "items": [', id="a truncated body is transient"),
        pytest.param(b"", id="an empty body is transient"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_transient(request_: Request, data: bytes) -> None:
    with pytest.raises(TransientKubernetesError):
        decode_body(request_, data)


def test_without_msgspec_every_body_is_decoded_with_json(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_msgspec(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "msgspec" or name.startswith("msgspec."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_msgspec)
    try:
        reloaded = importlib.reload(decode)
        assert reloaded.HAVE_MSGSPEC is False
        (decoded,) = reloaded.decode_body(PODS, body([dressed(pod(0))]))["items"]
        assert "volumes" in decoded["spec"]
        with pytest.raises(TransientKubernetesError):
            reloaded.decode_body(PODS, b"[1]")
    finally:
        monkeypatch.undo()
        importlib.reload(decode)
    assert decode.HAVE_MSGSPEC is True


# --------------------------------------------------------------------------- continue


@pytest.mark.parametrize(
    ("data", "token"),
    [
        pytest.param(body([pod(0)], token="eyJ2IjoxfQ"), "eyJ2IjoxfQ", id="the token is read"),
        pytest.param(body([pod(0)]), None, id="the last page has no token"),
        pytest.param(body([pod(0)], token=""), None, id="an empty token is no token"),
        pytest.param(body([], token='a"b'), 'a"b', id="an escaped quote is read as JSON reads it"),
        pytest.param(
            b'{"items": [{"metadata": {"continue": "x"}}], "metadata": {}}',
            None,
            id="a token-like field inside the items is not the list's token",
        ),
        pytest.param(b"<html>", None, id="a body that is not JSON has no token"),
    ],
)
def test_the_continue_token_is_read_from_the_first_bytes(data: bytes, token: str | None) -> None:
    assert peek_continue(data) == token


# --------------------------------------------------------------------------- verdicts

Judge = Callable[[Callable[[Request, Any], Any]], Verdict]


def _sts(pods: Sequence[Json]) -> Judge:
    return lambda read: evaluate_statefulset(sts(), read(PODS, pods), now=NOW)


def _deploy(replicasets: Sequence[Json], pods: Sequence[Json]) -> Judge:
    return lambda read: evaluate_deployment(
        deployment(), read(REPLICASETS, replicasets), read(PODS, pods), now=NOW
    )


def _ds(pods: Sequence[Json], revisions: Sequence[Json]) -> Judge:
    return lambda read: evaluate_daemonset(
        daemonset(), read(PODS, pods), now=NOW, revisions=read(REVISIONS, revisions)
    )


def _crashing(obj: Json) -> Json:
    obj = deepcopy(obj)
    status = obj["status"]["containerStatuses"][0]
    status["ready"] = False
    status["restartCount"] = 7
    status["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m"}}
    status["lastState"] = {
        "terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2024-05-01T09:59:00Z"}
    }
    return obj


JUDGES = [
    pytest.param(_sts([dressed(p) for p in sts_pods(3)]), id="a ready StatefulSet"),
    pytest.param(
        _sts([sts_pods(3)[0], _crashing(sts_pods(3)[1])]), id="a crash-looping StatefulSet"
    ),
    pytest.param(
        _deploy([replicaset(NEW_HASH)], [rs_pod(0), rs_pod(1), rs_pod(2)]), id="a ready Deployment"
    ),
    pytest.param(
        _deploy([replicaset(NEW_HASH)], [rs_pod(0), _crashing(rs_pod(1))]),
        id="a crash-looping Deployment",
    ),
    pytest.param(_ds(ds_pods(3), [controller_revision()]), id="a ready DaemonSet"),
    pytest.param(
        _ds([_crashing(p) for p in ds_pods(2)], [controller_revision()]),
        id="a crash-looping DaemonSet",
    ),
]


def both(judge: Judge) -> tuple[Json, Json]:
    return judge(slim).to_dict(), judge(lambda _request, items: full(items)).to_dict()


@pytest.mark.parametrize("judge", JUDGES)
def test_slim_decoding_gives_the_verdict_full_decoding_gives(judge: Judge) -> None:
    slim_verdict, full_verdict = both(judge)
    assert slim_verdict == full_verdict


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**4), max_value=10**4),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "3", "True", "Running", "2024-05-01T10:00:00Z", "CrashLoopBackOff"]),
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
    cur = value
    for key in path[:-1]:
        cur = cur[key]
    cur[path[-1]] = junk
    return value


@st.composite
def spoiled(draw: st.DrawFn, objects: list[Any]) -> list[Any]:
    """``objects`` with one to three fields anywhere in them replaced by any JSON value."""
    objects = deepcopy(objects)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(list(_paths(objects))[1:]))
        objects = _put(objects, path, draw(JUNK))
    return objects


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(spoiled([*sts_pods(2), _crashing(sts_pods(3)[2])]))
def test_statefulset_pods_of_any_shape_give_the_verdict_full_decoding_gives(
    pods: list[Any],
) -> None:
    slim_verdict, full_verdict = both(_sts(pods))
    assert slim_verdict == full_verdict


@PROPERTY
@given(spoiled([replicaset(NEW_HASH), rs_pod(0), _crashing(rs_pod(1))]))
def test_deployment_lists_of_any_shape_give_the_verdict_full_decoding_gives(
    objects: list[Any],
) -> None:
    slim_verdict, full_verdict = both(_deploy(objects[:1], objects[1:]))
    assert slim_verdict == full_verdict


@PROPERTY
@given(spoiled([controller_revision(), *ds_pods(2)]))
def test_daemonset_lists_of_any_shape_give_the_verdict_full_decoding_gives(
    objects: list[Any],
) -> None:
    slim_verdict, full_verdict = both(_ds(objects[1:], objects[:1]))
    assert slim_verdict == full_verdict


# --------------------------------------------------------------------------- real objects

yaml = pytest.importorskip("yaml")
FIXTURES = fixtures_dir("STS_ARGO_FIXTURES", "argo-health")
REAL = sorted(FIXTURES.glob("*.yaml"))


def _real(path: Path) -> tuple[Json, datetime]:
    obj = normalise(yaml.safe_load(path.read_text()))
    return obj, ten_minutes_after(obj)


def _adopted(pods: list[Json], owner: Json) -> list[Json]:
    """The real pods as ``<owner>-<i>`` controlled by ``owner``, so its rules judge them."""
    meta = owner["metadata"]
    for index, given_pod in enumerate(pods):
        given_pod["metadata"]["name"] = f"{meta['name']}-{index}"
        ref = {
            "kind": owner["kind"],
            "name": meta["name"],
            "uid": meta.get("uid"),
            "controller": True,
        }
        given_pod["metadata"]["ownerReferences"] = [ref]
    return pods


@pytest.mark.skipif(not REAL, reason=f"real-object fixtures not found at {FIXTURES}")
@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=f"{p.stem} gives the same verdict slim") for p in REAL],
)
def test_real_objects_give_the_verdict_full_decoding_gives(path: Path) -> None:
    obj, now = _real(path)
    pods = _adopted([_real(p)[0] for p in REAL if p.name.startswith("pod-")], obj)
    if obj["kind"] == "Pod":
        verdicts = [evaluate_pod(items[0], now=now) for items in (slim(PODS, [obj]), full([obj]))]
    elif obj["kind"] == "StatefulSet":
        verdicts = [evaluate_statefulset(obj, p, now=now) for p in (slim(PODS, pods), full(pods))]
    else:
        verdicts = [
            evaluate_deployment(obj, [], p, now=now) for p in (slim(PODS, pods), full(pods))
        ]
    assert verdicts[0].to_dict() == verdicts[1].to_dict()


@pytest.mark.parametrize("enabled", [True, False], ids=["collector on stays on", "off stays off"])
def test_a_slim_decode_leaves_the_cyclic_collector_as_it_found_it(enabled: bool) -> None:
    import gc

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        body = json.dumps({"items": [pod(0)], "metadata": {}}).encode()
        assert decode_body(PODS, body)["items"]
        with pytest.raises(TransientKubernetesError):
            decode_body(PODS, b"<html>")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_overlapping_decodes_in_two_threads_leave_the_collector_on() -> None:
    """The interleaving that used to switch it off for good: one thread reads the switch
    while another has paused it, and the first to finish turns it back on too early."""
    import gc
    import threading

    assert gc.isenabled()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with decode._collector_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with decode._collector_paused():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first has finished; this one still decodes

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [False]
    assert gc.isenabled()
