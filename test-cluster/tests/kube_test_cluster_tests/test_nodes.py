"""The Node API: the emulated nodes served as a real cluster serves its v1 Nodes.

The nodes the scheduler binds to and the DaemonSet controller counts are the ones
``GET /api/v1/nodes`` lists (read-only), with the labels, taints, conditions,
capacity and ``nodeInfo`` a kubelet reports, as Tables for kubectl, in discovery,
and behind RBAC as a cluster-scoped resource. kubectl tests skip where it is absent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch

from kube_test_cluster.apiserver.discovery import GIT_VERSION
from kube_test_cluster.apiserver.rbac import Authorizer
from kube_test_cluster.cluster import EmulatedCluster
from kube_test_cluster.machinery.topology import CONTROL_PLANE_TAINT, Node
from kube_test_cluster.nodes.kubelet import KUBELET_VERSION, node_object
from kube_test_cluster_tests.conftest import ApiCluster, raw_request
from kube_test_cluster_tests.kubectl import KUBECTL, kubectl

Obj = dict[str, Any]
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")

ROLE = "node-role.kubernetes.io/control-plane"
NODES = [
    Node("cp", labels={ROLE: ""}, taints=(CONTROL_PLANE_TAINT,)),
    Node("w1", labels={"disk": "ssd"}),
    Node("w2", unschedulable=True),
]
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(manual_clock=True, nodes=NODES) as running:
        yield running


def get(cluster: EmulatedCluster, path: str, accept: str | None = None) -> Any:
    answer = raw_request(_api(cluster), "GET", path, headers={"Accept": accept} if accept else {})
    assert answer.status == 200, answer.body
    return answer.json()


def _api(cluster: EmulatedCluster) -> ApiCluster:
    return ApiCluster(
        cluster.server,
        cluster.store,
        cluster.clock,
        cluster.faults,
        cluster.kubeconfig_path,
        cluster.token or "",
    )


def node(cluster: EmulatedCluster, name: str) -> Obj:
    body: Obj = get(cluster, f"/api/v1/nodes/{name}")
    return body


def condition(obj: Obj, type_: str) -> Obj:
    return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


# -- the objects ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "read", "expected"),
    [
        ("w1", lambda n: n["metadata"]["labels"]["kubernetes.io/hostname"], "w1"),
        (
            "w1",
            lambda n: {
                k: v for k, v in n["metadata"]["labels"].items() if k.endswith(("/os", "/arch"))
            },
            {
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
            },
        ),
        ("w1", lambda n: n["metadata"]["labels"]["disk"], "ssd"),
        ("cp", lambda n: n["metadata"]["labels"][ROLE], ""),
        ("cp", lambda n: n["spec"]["taints"], [CONTROL_PLANE_TAINT]),
        ("w1", lambda n: ("taints" in n["spec"], "unschedulable" in n["spec"]), (False, False)),
        (
            "w2",
            lambda n: (n["spec"]["unschedulable"], n["spec"]["taints"]),
            (True, [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
        ),
        (
            "w1",
            lambda n: {k: condition(n, k)["status"] for k in ("Ready", "MemoryPressure")},
            {"Ready": "True", "MemoryPressure": "False"},
        ),
        (
            "w1",
            lambda n: (condition(n, "Ready")["reason"], condition(n, "Ready")["message"]),
            ("KubeletReady", "kubelet is posting ready status"),
        ),
        (
            "w1",
            lambda n: [c["type"] for c in n["status"]["conditions"]],
            ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"],
        ),
        (
            "w1",
            lambda n: {k: n["status"]["allocatable"][k] for k in ("cpu", "memory", "pods")},
            {"cpu": "8", "memory": "32827500Ki", "pods": "110"},
        ),
        ("w1", lambda n: n["status"]["capacity"] == n["status"]["allocatable"], True),
        ("w1", lambda n: n["status"]["nodeInfo"]["kubeletVersion"], GIT_VERSION),
        (
            "w1",
            lambda n: (
                n["status"]["nodeInfo"]["operatingSystem"],
                n["status"]["nodeInfo"]["architecture"],
            ),
            ("linux", "amd64"),
        ),
        (
            "w1",
            lambda n: n["status"]["addresses"],
            [
                {"address": "172.18.0.3", "type": "InternalIP"},
                {"address": "w1", "type": "Hostname"},
            ],
        ),
        (
            "w1",
            lambda n: (n["spec"]["podCIDR"], n["spec"]["podCIDRs"]),
            ("10.244.16.0/20", ["10.244.16.0/20"]),
        ),
        (
            "w1",
            lambda n: (n["apiVersion"], n["kind"], "namespace" in n["metadata"]),
            ("v1", "Node", False),
        ),
    ],
    ids=[
        "the hostname label is the node's name",
        "the os and arch labels are linux and amd64, the beta ones too",
        "a node's own labels are kept",
        "a role is a node-role label with an empty value",
        "a control-plane taint is in spec.taints",
        "an untainted schedulable node has neither taints nor unschedulable",
        "a cordoned node is unschedulable and carries the unschedulable taint",
        "every node is Ready without pressure",
        "Ready is posted by the kubelet in its words",
        "the four kubelet conditions come in the kubelet's order",
        "allocatable gives cpu, memory and pods",
        "capacity equals allocatable with nothing reserved",
        "the kubelet version is the apiserver's version",
        "nodeInfo gives the operating system and the architecture",
        "addresses give the internal IP and the hostname",
        "the pod CIDR is the slice pod IPs come from",
        "a Node is a cluster-scoped v1 object",
    ],
)
def test_a_node_is_served_as_a_kubelet_registers_it(
    cluster: EmulatedCluster, name: str, read: Any, expected: Any
) -> None:
    assert read(node(cluster, name)) == expected


def test_the_kubelet_version_is_the_served_version() -> None:
    assert KUBELET_VERSION == GIT_VERSION


def test_the_python_client_lists_reads_and_watches_the_nodes(cluster: EmulatedCluster) -> None:
    api = client.CoreV1Api(config.new_client_from_config_dict(cluster.kubeconfig))
    listed = api.list_node()
    assert [n.metadata.name for n in listed.items] == ["cp", "w1", "w2"]
    assert listed.metadata.resource_version
    read = api.read_node("w2")
    assert read.spec.unschedulable is True
    assert read.status.node_info.kubelet_version == GIT_VERSION
    ready = [c for c in read.status.conditions if c.type == "Ready"]
    assert [c.status for c in ready] == ["True"]
    seen = []
    stream = watch.Watch()
    for event in stream.stream(api.list_node, timeout_seconds=30):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            stream.stop()
    assert sorted(seen) == [("ADDED", "cp"), ("ADDED", "w1"), ("ADDED", "w2")]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("fieldSelector=spec.unschedulable%3Dtrue", ["w2"]),
        ("fieldSelector=spec.unschedulable%3Dfalse", ["cp", "w1"]),
        ("fieldSelector=metadata.name%3Dw1", ["w1"]),
        (f"labelSelector={ROLE}", ["cp"]),
        ("labelSelector=disk%3Dssd", ["w1"]),
        ("limit=2", ["cp", "w1"]),
    ],
    ids=[
        "a field selector finds the cordoned nodes",
        "a field selector finds the schedulable nodes",
        "a field selector finds a node by name",
        "a label selector finds the control plane by its role",
        "a label selector finds a node by its own label",
        "a limit pages the list",
    ],
)
def test_lists_of_nodes_take_selectors_and_limits(
    cluster: EmulatedCluster, query: str, names: list[str]
) -> None:
    body = get(cluster, f"/api/v1/nodes?{query}")
    assert body["kind"] == "NodeList"
    assert [n["metadata"]["name"] for n in body["items"]] == names


def test_an_unsupported_field_selector_is_refused_as_the_apiserver_does(
    cluster: EmulatedCluster,
) -> None:
    answer = raw_request(_api(cluster), "GET", "/api/v1/nodes?fieldSelector=status.phase%3DX")
    assert answer.status == 400
    assert answer.json()["message"] == "field label not supported: status.phase"


# -- Tables and discovery ------------------------------------------------------------------


def test_a_table_has_the_columns_of_kubectl_get_nodes(cluster: EmulatedCluster) -> None:
    body = get(cluster, "/api/v1/nodes", TABLE)
    columns = [(c["name"], c["priority"]) for c in body["columnDefinitions"]]
    assert columns == [
        ("Name", 0),
        ("Status", 0),
        ("Roles", 0),
        ("Age", 0),
        ("Version", 0),
        ("Internal-IP", 1),
        ("External-IP", 1),
        ("OS-Image", 1),
        ("Kernel-Version", 1),
        ("Container-Runtime", 1),
    ]


@pytest.mark.parametrize(
    ("name", "cells"),
    [
        ("cp", ["cp", "Ready", "control-plane", "v1.32.4", "172.18.0.2", "<none>"]),
        ("w1", ["w1", "Ready", "<none>", "v1.32.4", "172.18.0.3", "<none>"]),
        ("w2", ["w2", "Ready,SchedulingDisabled", "<none>", "v1.32.4", "172.18.0.4", "<none>"]),
    ],
    ids=[
        "a control-plane node shows its role",
        "a worker shows no role",
        "a cordoned node shows SchedulingDisabled",
    ],
)
def test_a_table_row_is_what_kubectl_prints(
    cluster: EmulatedCluster, name: str, cells: list[str]
) -> None:
    [row] = get(cluster, f"/api/v1/nodes/{name}", TABLE)["rows"]
    assert [c for i, c in enumerate(row["cells"]) if i != 3] == cells[:3] + cells[3:] + [
        "Debian GNU/Linux 12 (bookworm)",
        "6.8.0-1021-azure",
        "containerd://2.0.3",
    ]
    assert row["cells"][3] == "0s"  # the held clock has not moved since the kubelet registered


def test_discovery_lists_nodes_as_a_cluster_scoped_read_only_resource(
    cluster: EmulatedCluster,
) -> None:
    resources = {r["name"]: r for r in get(cluster, "/api/v1")["resources"]}
    assert resources["nodes"] == {
        "name": "nodes",
        "singularName": "node",
        "namespaced": False,
        "kind": "Node",
        "verbs": ["get", "list", "watch"],
        "shortNames": ["no"],
    }
    assert resources["nodes/status"]["verbs"] == ["get"]


# -- read-only -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/nodes", {"metadata": {"name": "w9"}}),
        ("PATCH", "/api/v1/nodes/w1", {"spec": {"unschedulable": True}}),
        ("PUT", "/api/v1/nodes/w1", {"metadata": {"name": "w1"}}),
        ("DELETE", "/api/v1/nodes/w1", None),
        ("DELETE", "/api/v1/nodes", None),
        ("PUT", "/api/v1/nodes/w1/status", {"metadata": {"name": "w1"}}),
    ],
    ids=[
        "a node cannot be created",
        "a node cannot be cordoned by a patch",
        "a node cannot be replaced",
        "a node cannot be deleted",
        "the nodes cannot be deleted as a collection",
        "a node's status cannot be written",
    ],
)
def test_the_nodes_are_read_only(
    cluster: EmulatedCluster, method: str, path: str, body: Obj | None
) -> None:
    headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
    answer = raw_request(_api(cluster), method, path, headers=headers, body=body)
    assert answer.status == 405
    assert answer.json()["reason"] == "MethodNotAllowed"
    assert "EmulatedCluster(nodes=" in answer.json()["message"]
    assert [n["metadata"]["name"] for n in cluster.store.list("nodes")] == ["cp", "w1", "w2"]


def test_applying_a_node_manifest_says_where_nodes_come_from(cluster: EmulatedCluster) -> None:
    with pytest.raises(ValueError, match=r"EmulatedCluster\(nodes="):
        cluster.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "w9"}})


# -- RBAC: nodes are cluster-scoped --------------------------------------------------------


def cluster_role(*rules: Obj, kind: str = "ClusterRole", namespace: str | None = None) -> Obj:
    metadata: Obj = {"name": "nodes-reader"}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "rules": list(rules),
    }


READ_NODES = {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        (cluster_role(READ_NODES), "/api/v1/nodes", 200),
        (cluster_role(READ_NODES), "/api/v1/nodes/w1", 200),
        (cluster_role(READ_NODES), "/api/v1/nodes?watch=true&timeoutSeconds=1", 200),
        (cluster_role(READ_NODES, kind="Role", namespace="default"), "/api/v1/nodes", 403),
        (cluster_role(READ_NODES, kind="Role", namespace="default"), "/api/v1/nodes/w1", 403),
        (cluster_role(READ_NODES, kind="Role"), "/api/v1/nodes", 403),
        (
            cluster_role({**READ_NODES, "verbs": ["get"], "resourceNames": ["w1"]}),
            "/api/v1/nodes/w1",
            200,
        ),
        (
            cluster_role({**READ_NODES, "verbs": ["get"], "resourceNames": ["w1"]}),
            "/api/v1/nodes",
            403,
        ),
        (
            cluster_role({"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}),
            "/api/v1/nodes",
            403,
        ),
        (
            cluster_role({"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["get"]}),
            "/api/v1/nodes/w1/status",
            200,
        ),
    ],
    ids=[
        "a ClusterRole lets list the nodes",
        "a ClusterRole lets get a node",
        "a ClusterRole lets watch the nodes",
        "a Role in a namespace grants no nodes, which are cluster-scoped",
        "a Role in a namespace grants no node either",
        "a Role without a namespace grants no nodes either",
        "a ClusterRole may name the one node it lets get",
        "a ClusterRole naming one node does not let list them",
        "a ClusterRole for pods does not let list nodes",
        "the status subresource needs its own rule",
    ],
)
def test_rbac_treats_nodes_as_cluster_scoped(
    api_cluster: ApiCluster, role: Obj, path: str, status: int
) -> None:
    for index, spec in enumerate(NODES):
        api_cluster.store.create("nodes", node_object(spec, index, api_cluster.clock.now()))
    api_cluster.server.authorizer = Authorizer.from_manifest(role)
    answer = raw_request(api_cluster, "GET", path)
    assert answer.status == status, answer.body


def test_a_denied_node_list_is_worded_as_the_apiserver_words_it(api_cluster: ApiCluster) -> None:
    api_cluster.server.authorizer = Authorizer.from_manifest(
        cluster_role(READ_NODES, kind="Role", namespace="default")
    )
    answer = raw_request(api_cluster, "GET", "/api/v1/nodes")
    assert answer.json()["message"] == (
        'nodes is forbidden: User "system:serviceaccount:airflow:airflow-worker" cannot list '
        'resource "nodes" in API group "" at the cluster scope'
    )


# -- the nodes the controllers use are the ones served -------------------------------------


def template(**spec: Any) -> Obj:
    return {
        "metadata": {"labels": {"app": "x"}},
        "spec": {"containers": [{"name": "app", "image": "app:1"}], **spec},
    }


def test_the_served_nodes_are_the_ones_pods_land_on() -> None:
    with EmulatedCluster(manual_clock=True, nodes=NODES) as held:
        held.apply(
            [
                {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "metadata": {"name": "agent", "namespace": "default"},
                    "spec": {
                        "selector": {"matchLabels": {"app": "agent"}},
                        "template": {**template(), "metadata": {"labels": {"app": "agent"}}},
                    },
                },
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": "web", "namespace": "default"},
                    "spec": {
                        "replicas": 3,
                        "selector": {"matchLabels": {"app": "x"}},
                        "template": template(),
                    },
                },
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "pinned", "namespace": "default"},
                    "spec": template(nodeSelector={"kubernetes.io/hostname": "w2"})["spec"],
                },
            ]
        )
        held.advance(5)
        served = {n["metadata"]["name"]: n for n in held.store.list("nodes")}
        pods = held.store.list("pods", "default")
        placed = {p["metadata"]["name"]: p["spec"].get("nodeName") for p in pods}
        # the DaemonSet tolerates the cordon, not the control plane's taint
        assert sorted(v for k, v in placed.items() if k.startswith("agent-")) == ["w1", "w2"]
        assert held.get("daemonsets", "agent")["status"]["desiredNumberScheduled"] == 2  # type: ignore[index]
        # ordinary pods go to the one schedulable, untainted node
        assert {v for k, v in placed.items() if k.startswith("web-")} == {"w1"}
        # and every pod reports its node's InternalIP as its hostIP
        for pod in pods:
            if pod["spec"].get("nodeName"):
                addresses = served[pod["spec"]["nodeName"]]["status"]["addresses"]
                assert pod["status"]["hostIP"] == addresses[0]["address"]
        pinned = held.get("pods", "pinned")
        assert pinned is not None
        assert pinned["status"]["conditions"][0]["message"] == (
            "0/3 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, "
            "1 node(s) were unschedulable. preemption: 0/3 nodes are available: "
            "3 Preemption is not helpful for scheduling."
        )


# -- kubectl -------------------------------------------------------------------------------


def rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()]


@needs_kubectl
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("get", "nodes"),
            [
                ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
                ["cp", "Ready", "control-plane", "0s", "v1.32.4"],
                ["w1", "Ready", "<none>", "0s", "v1.32.4"],
                ["w2", "Ready,SchedulingDisabled", "<none>", "0s", "v1.32.4"],
            ],
        ),
        (("get", "no", "w1", "--no-headers"), [["w1", "Ready", "<none>", "0s", "v1.32.4"]]),
        (("get", "nodes", "-l", ROLE, "-o", "name"), [["node/cp"]]),
        (
            ("get", "nodes", "--field-selector", "spec.unschedulable=true", "-o", "name"),
            [["node/w2"]],
        ),
    ],
    ids=[
        "kubectl get nodes prints NAME STATUS ROLES AGE VERSION",
        "the short name no gets one node",
        "a label selector finds the control plane",
        "a field selector finds the cordoned node",
    ],
)
def test_kubectl_gets_the_nodes(
    cluster: EmulatedCluster, args: tuple[str, ...], expected: list[list[str]]
) -> None:
    assert rows(kubectl(cluster.kubeconfig_path, *args).stdout) == expected


@needs_kubectl
def test_kubectl_get_node_as_json_is_the_node_object(cluster: EmulatedCluster) -> None:
    printed = json.loads(kubectl(cluster.kubeconfig_path, "get", "node", "cp", "-o", "json").stdout)
    stored = cluster.store.get("nodes", "", "cp")
    assert printed == stored
    assert printed["kind"] == "Node"
    assert printed["status"]["nodeInfo"]["kubeletVersion"] == "v1.32.4"


@needs_kubectl
def test_kubectl_cordon_is_refused_with_the_reason(cluster: EmulatedCluster) -> None:
    result = kubectl(cluster.kubeconfig_path, "cordon", "w1", check=False)
    # (kubectl cordon reports a failed patch on stderr but exits 0)
    assert 'error: unable to cordon node "w1"' in result.stderr
    assert "the test cluster serves its nodes read-only" in result.stderr
    assert "unschedulable" not in cluster.store.get("nodes", "", "w1")["spec"]  # type: ignore[index]
