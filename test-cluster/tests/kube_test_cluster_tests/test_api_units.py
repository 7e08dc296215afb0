"""The server's pure pieces, table-driven: selectors, patches, printers, routes, discovery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kube_test_cluster.apiserver import discovery, protobuf, tables
from kube_test_cluster.apiserver.router import Discovery, ResourceRequest, resolve
from kube_test_cluster.registry.patch import json_patch, merge_patch, strategic_merge
from kube_test_cluster.registry.selectors import (
    SelectorError,
    format_label_selector,
    parse_field_selector,
    parse_label_selector,
)
from kube_test_cluster.registry.status import ApiError

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ("a=1", {"a": "1"}, True),
        ("a=1", {}, False),
        ("a!=1", {}, True),
        ("a in (1, 2),b", {"a": "2", "b": ""}, True),
        ("a notin (1,2)", {"a": "3"}, True),
        ("!a", {"b": "1"}, True),
        ("a>5", {"a": "10"}, True),
        ("a<5", {"a": "x"}, False),
        ("example.com/tier=web", {"example.com/tier": "web"}, True),
        ("a=", {"a": ""}, True),
    ],
    ids=[
        "equality holds",
        "equality needs the key",
        "inequality holds without the key",
        "set membership and existence",
        "notin with another value",
        "absence",
        "greater than compares integers",
        "less than on a non-integer never matches",
        "prefixed keys",
        "an empty value",
    ],
)
def test_label_selector_matching(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert parse_label_selector(selector).matches(labels) is matches


@pytest.mark.parametrize(
    "selector",
    ["a in (1", "a in 1", "a=b c", "a=(", "-a=1", "a,,b", "a=1,", "a=" + "x" * 64],
    ids=[
        "an unclosed set",
        "a set without parentheses",
        "two values",
        "a parenthesis as value",
        "a key starting with a dash",
        "an empty requirement",
        "a trailing comma",
        "a value longer than 63 characters",
    ],
)
def test_malformed_label_selectors_raise(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


def test_field_selectors_know_their_resource() -> None:
    event = {"metadata": {"name": "e"}, "involvedObject": {"name": "web-0", "kind": "Pod"}}
    assert parse_field_selector("involvedObject.name=web-0", "events").matches(event)
    assert not parse_field_selector("involvedObject.kind!=Pod", "events").matches(event)
    with pytest.raises(SelectorError, match=r"field label not supported: involvedObject\.name"):
        parse_field_selector("involvedObject.name=web-0", "pods")


def test_format_label_selector_renders_match_expressions() -> None:
    selector = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "zone", "operator": "NotIn", "values": ["c"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "team", "operator": "Exists"},
        ],
    }
    text = format_label_selector(selector)
    assert text == "a=1,b=2,tier in (api,web),zone notin (c),!canary,team"
    assert parse_label_selector(text).matches({"a": "1", "b": "2", "tier": "api", "team": "x"})


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        ({"a": 1, "b": {"c": 2}}, {"b": {"c": None, "d": 3}}, {"a": 1, "b": {"d": 3}}),
        ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
        ({"a": 1}, {"a": {"b": 1}}, {"a": {"b": 1}}),
    ],
    ids=["null deletes and maps merge", "lists are replaced", "a scalar becomes a map"],
)
def test_merge_patch(target: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(target, patch) == expected


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        (
            {"conditions": [{"type": "Ready", "status": "False"}, {"type": "X", "status": "1"}]},
            {"conditions": [{"type": "Ready", "status": "True"}]},
            {"conditions": [{"type": "Ready", "status": "True"}, {"type": "X", "status": "1"}]},
        ),
        (
            {"ports": [{"containerPort": 80}, {"containerPort": 443}]},
            {"ports": [{"containerPort": 443, "$patch": "delete"}]},
            {"ports": [{"containerPort": 80}]},
        ),
        (
            {"containers": [{"name": "a"}, {"name": "b"}]},
            {"containers": [{"name": "c"}, {"$patch": "replace"}]},
            {"containers": [{"name": "c"}]},
        ),
        (
            {"metadata": {"labels": {"a": "1", "b": "2"}}},
            {"metadata": {"labels": {"$patch": "replace", "c": "3"}}},
            {"metadata": {"labels": {"c": "3"}}},
        ),
        (
            {"finalizers": ["a", "b"]},
            {"finalizers": ["c"], "$deleteFromPrimitiveList/finalizers": ["a"]},
            {"finalizers": ["b", "c"]},
        ),
        (
            {"tolerations": [{"key": "a"}]},
            {"tolerations": [{"key": "b"}], "$setElementOrder/tolerations": [{"key": "b"}]},
            {"tolerations": [{"key": "b"}]},
        ),
    ],
    ids=[
        "conditions merge by type",
        "$patch delete removes a keyed element",
        "$patch replace in a list replaces the list",
        "$patch replace in a map replaces the map",
        "finalizers merge as a set and honour deleteFromPrimitiveList",
        "lists without a merge key are replaced, order directives ignored",
    ],
)
def test_strategic_merge(target: Any, patch: Any, expected: Any) -> None:
    assert strategic_merge(target, patch) == expected


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        ([{"op": "add", "path": "/a/-", "value": 3}], {"a": [1, 2, 3], "b": {"c": 1}}),
        ([{"op": "add", "path": "/a/0", "value": 0}], {"a": [0, 1, 2], "b": {"c": 1}}),
        ([{"op": "remove", "path": "/b/c"}], {"a": [1, 2], "b": {}}),
        ([{"op": "move", "from": "/b/c", "path": "/d"}], {"a": [1, 2], "b": {}, "d": 1}),
        ([{"op": "copy", "from": "/a/1", "path": "/e"}], {"a": [1, 2], "b": {"c": 1}, "e": 2}),
        (
            [
                {"op": "test", "path": "/b/c", "value": 1},
                {"op": "replace", "path": "/b/c", "value": 5},
            ],
            {"a": [1, 2], "b": {"c": 5}},
        ),
        ([{"op": "add", "path": "/b/x~1y", "value": 1}], {"a": [1, 2], "b": {"c": 1, "x/y": 1}}),
    ],
    ids=["append", "insert", "remove", "move", "copy", "test then replace", "escaped pointer"],
)
def test_json_patch(ops: list[Any], expected: Any) -> None:
    assert json_patch({"a": [1, 2], "b": {"c": 1}}, ops) == expected


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "remove", "path": "/nope"}],
        [{"op": "replace", "path": "/nope", "value": 1}],
        [{"op": "test", "path": "/a", "value": 2}],
        [{"op": "add", "path": "/x/y", "value": 1}],
        [{"op": "frobnicate", "path": "/a"}],
    ],
    ids=[
        "removing a missing key",
        "replacing a missing key",
        "a failing test",
        "adding under a missing parent",
        "an unknown operation",
    ],
)
def test_json_patch_errors(ops: list[Any]) -> None:
    with pytest.raises(ApiError):
        json_patch({"a": 1}, ops)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (59, "59s"),
        (119, "119s"),
        (120, "2m"),
        (150, "2m30s"),
        (600, "10m"),
        (10799, "179m"),
        (10800, "3h"),
        (12600, "3h30m"),
        (30000, "8h"),
        (3 * 86400, "3d"),
        (3 * 86400 + 7200, "3d2h"),
        (30 * 86400, "30d"),
        (3 * 365 * 86400, "3y"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration_matches_kubectl(seconds: int, text: str) -> None:
    assert tables.human_duration(seconds) == text


def _pod(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "creationTimestamp": "2026-01-01T11:55:00Z"},
        "spec": {
            "containers": [{"name": "a"}, {"name": "b"}],
            "initContainers": [{"name": "init"}],
        },
        "status": status,
    }


@pytest.mark.parametrize(
    ("pod", "cells"),
    [
        (_pod(phase="Pending"), ["p", "0/2", "Pending", "0", "5m"]),
        (
            _pod(
                phase="Pending",
                initContainerStatuses=[
                    {"name": "init", "state": {"waiting": {"reason": "PodInitializing"}}}
                ],
            ),
            ["p", "0/2", "Init:0/1", "0", "5m"],
        ),
        (
            _pod(
                phase="Running",
                containerStatuses=[
                    {"name": "a", "ready": True, "restartCount": 0, "state": {"running": {}}},
                    {
                        "name": "b",
                        "ready": False,
                        "restartCount": 4,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                        "lastState": {"terminated": {"finishedAt": "2026-01-01T11:58:00Z"}},
                    },
                ],
            ),
            ["p", "1/2", "CrashLoopBackOff", "4 (2m ago)", "5m"],
        ),
        (
            _pod(
                phase="Running",
                containerStatuses=[
                    {"name": "a", "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}
                ],
            ),
            ["p", "0/2", "OOMKilled", "0", "5m"],
        ),
        (_pod(phase="Failed", reason="Evicted"), ["p", "0/2", "Evicted", "0", "5m"]),
    ],
    ids=["pending", "initializing", "crash looping", "OOM killed", "evicted"],
)
def test_pod_table_cells_match_kubectl(pod: dict[str, Any], cells: list[str]) -> None:
    assert tables.row("pods", pod, NOW, "None")["cells"][:5] == cells


def test_a_terminating_pod_prints_terminating() -> None:
    pod = _pod(phase="Running")
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T12:00:30Z"
    assert tables.row("pods", pod, NOW, "None")["cells"][2] == "Terminating"


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        (
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
            "g=meta.k8s.io,application/json",
            True,
        ),
        ("application/json", False),
        (None, False),
        ("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", False),
    ],
    ids=["kubectl's get", "plain json", "no header", "metadata lists are not tables"],
)
def test_accepts_table(accept: str | None, wanted: bool) -> None:
    assert tables.accepts_table(accept) is wanted


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/version", Discovery("version")),
        ("/apis/apps", Discovery("group", "apps")),
        ("/apis/apps/v1", Discovery("resources", "apps", "v1")),
        ("/api/v1/pods", ResourceRequest("", "v1", "pods", None, None, None, False)),
        (
            "/api/v1/namespaces/ns/pods/p/status",
            ResourceRequest("", "v1", "pods", "ns", "p", "status", False),
        ),
        ("/api/v1/namespaces/ns", ResourceRequest("", "v1", "namespaces", None, "ns", None, False)),
        (
            "/apis/apps/v1/watch/namespaces/ns/statefulsets",
            ResourceRequest("apps", "v1", "statefulsets", "ns", None, None, True),
        ),
        ("/apis/apps/v1/namespaces/ns/pods", None),
        ("/apis/batch/v1/jobs", None),
        ("/api/v1/namespaces/ns/pods/p/exec", None),
        ("/healthz", None),
    ],
    ids=[
        "version",
        "a group",
        "a group version",
        "pods in all namespaces",
        "a pod's status",
        "a namespace",
        "a legacy watch",
        "pods are not in apps",
        "an unserved group",
        "an unserved subresource",
        "an unknown path",
    ],
)
def test_routes(path: str, route: object) -> None:
    assert resolve(path) == route


def test_discovery_lists_subresources_and_short_names() -> None:
    resources = {r["name"]: r for r in discovery.api_resource_list("apps", "v1")["resources"]}
    assert resources["statefulsets"]["shortNames"] == ["sts"]
    assert resources["statefulsets"]["singularName"] == "statefulset"
    assert resources["statefulsets/scale"]["kind"] == "Scale"
    assert resources["statefulsets/scale"]["group"] == "autoscaling"
    assert "watch" in resources["deployments"]["verbs"]
    core = {r["name"]: r for r in discovery.api_resource_list("", "v1")["resources"]}
    assert core["namespaces"]["namespaced"] is False
    assert core["events"]["shortNames"] == ["ev"]
    assert [g["name"] for g in discovery.api_group_list()["groups"]] == ["apps"]


def _pb_field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (lengths here stay below 128 bytes)."""
    return bytes([number << 3 | 2, len(payload)]) + payload


def _namespace_protobuf(name: str, labels: dict[str, str]) -> bytes:
    """The body ``kubectl create namespace NAME`` sends, built by hand."""
    meta = _pb_field(1, name.encode())
    for key, value in labels.items():
        meta += _pb_field(11, _pb_field(1, key.encode()) + _pb_field(2, value.encode()))
    raw = _pb_field(1, meta) + _pb_field(2, b"") + _pb_field(3, b"")
    type_meta = _pb_field(1, b"v1") + _pb_field(2, b"Namespace")
    return b"k8s\x00" + _pb_field(1, type_meta) + _pb_field(2, raw) + _pb_field(4, b"")


def test_protobuf_namespaces_decode_to_json() -> None:
    body = _namespace_protobuf("team", {"owner": "data"})
    assert protobuf.decode(body, "Namespace") == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team", "labels": {"owner": "data"}},
        "spec": {},
    }


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"{}", "Namespace"),
        (_namespace_protobuf("team", {}), "Pod"),
        (b"k8s\x00\x0a\x7f", "Namespace"),
    ],
    ids=["JSON is not protobuf", "other kinds are not supported", "truncated bytes"],
)
def test_protobuf_refusals(body: bytes, kind: str) -> None:
    with pytest.raises(protobuf.ProtobufError):
        protobuf.decode(body, kind)
