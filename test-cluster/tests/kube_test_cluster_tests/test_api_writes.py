"""Writes through real clients: create, replace, the patch types, /status, /scale, DELETE."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client

from kube_test_cluster_tests.conftest import ApiCluster, raw_request

STS = "/apis/apps/v1/namespaces/default/statefulsets"


def _sts_body(name: str = "web", replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
            },
        },
        "status": {"replicas": 99, "readyReplicas": 99},
    }


def test_create_fills_server_fields_defaults_and_resets_status(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    created = client.AppsV1Api(api_client).create_namespaced_stateful_set(
        "default", _sts_body(), _preload_content=False
    )
    body = json.loads(created.data)
    assert created.status == 201
    meta = body["metadata"]
    assert meta["namespace"] == "default"
    assert meta["generation"] == 1
    assert meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"]
    assert body["spec"]["podManagementPolicy"] == "OrderedReady"
    assert body["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": 0},
    }
    assert body["status"] == {"replicas": 0, "availableReplicas": 0}
    assert api_cluster.store.get("statefulsets", "default", "web") == body


def test_created_pods_start_pending(api_cluster: ApiCluster, api_client: Any) -> None:
    pod = client.CoreV1Api(api_client).create_namespaced_pod(
        "default",
        {
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": "Running"},
        },
    )
    assert pod.status.phase == "Pending"
    assert pod.status.qos_class == "BestEffort"
    assert pod.spec.containers[0].image_pull_policy == "Always"
    assert pod.spec.termination_grace_period_seconds == 30


def test_generate_name_makes_a_unique_name(api_cluster: ApiCluster, api_client: Any) -> None:
    v1 = client.CoreV1Api(api_client)
    body = {"metadata": {"generateName": "job-"}, "spec": {"containers": [{"name": "c"}]}}
    first = v1.create_namespaced_pod("default", body).metadata.name
    second = v1.create_namespaced_pod("default", body).metadata.name
    assert first.startswith("job-") and second.startswith("job-") and first != second


@pytest.mark.parametrize(
    ("path", "body", "code", "reason", "message"),
    [
        (STS, _sts_body(), 409, "AlreadyExists", 'statefulsets.apps "web" already exists'),
        (
            "/apis/apps/v1/namespaces/nowhere/statefulsets",
            _sts_body("other"),
            404,
            "NotFound",
            'namespaces "nowhere" not found',
        ),
        (STS, {**_sts_body("Bad_Name")}, 422, "Invalid", 'StatefulSet "Bad_Name" is invalid'),
        (
            STS,
            {**_sts_body("x"), "apiVersion": "v1"},
            400,
            "BadRequest",
            "the API version in the data (v1) does not match the expected API version (apps/v1)",
        ),
        (
            STS,
            {**_sts_body("x"), "metadata": {"name": "x", "namespace": "other"}},
            400,
            "BadRequest",
            "the namespace of the provided object does not match",
        ),
        (
            STS,
            {
                "metadata": {"name": "x"},
                "spec": {
                    "selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {}}},
                },
            },
            422,
            "Invalid",
            "`selector` does not match template `labels`",
        ),
        (STS, b"{not json", 400, "BadRequest", "json parse error"),
    ],
    ids=[
        "a duplicate name",
        "a namespace that does not exist",
        "an invalid name",
        "a wrong apiVersion",
        "a namespace differing from the URL",
        "a selector that does not match the template",
        "a malformed body",
    ],
)
def test_bad_creates_are_refused_like_the_apiserver(
    *, api_cluster: ApiCluster, path: str, body: Any, code: int, reason: str, message: str
) -> None:
    api_cluster.statefulset("web")
    response = raw_request(api_cluster, "POST", path, body=body)
    assert (response.status, response.json()["reason"]) == (code, reason)
    assert message in response.json()["message"]


def test_replace_bumps_generation_only_on_spec_change(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    apps = client.AppsV1Api(api_client)
    api_cluster.statefulset("web")
    current = apps.read_namespaced_stateful_set("web", "default")
    current.metadata.labels = {"team": "data"}
    relabelled = apps.replace_namespaced_stateful_set("web", "default", current)
    assert relabelled.metadata.generation == 1
    relabelled.spec.replicas = 5
    resized = apps.replace_namespaced_stateful_set("web", "default", relabelled)
    assert resized.metadata.generation == 2
    assert int(resized.metadata.resource_version) > int(relabelled.metadata.resource_version)


def test_replace_with_a_stale_resource_version_is_409_conflict(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    apps = client.AppsV1Api(api_client)
    api_cluster.statefulset("web")
    stale = apps.read_namespaced_stateful_set("web", "default")
    api_cluster.store.update(
        "statefulsets", "default", "web", lambda s: s["spec"].update(replicas=4)
    )
    stale.spec.replicas = 7
    with pytest.raises(client.ApiException) as caught:
        apps.replace_namespaced_stateful_set("web", "default", stale)
    body = json.loads(caught.value.body)
    assert (caught.value.status, body["reason"]) == (409, "Conflict")
    assert body["message"] == (
        'Operation cannot be fulfilled on statefulsets.apps "web": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )


def test_the_main_resource_ignores_status_and_status_ignores_spec(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    apps = client.AppsV1Api(api_client)
    api_cluster.statefulset("web")
    apps.patch_namespaced_stateful_set(
        "web", "default", {"spec": {"replicas": 4}, "status": {"readyReplicas": 9}}
    )
    apps.patch_namespaced_stateful_set_status(
        "web", "default", {"spec": {"replicas": 1}, "status": {"readyReplicas": 2}}
    )
    stored = api_cluster.store.get("statefulsets", "default", "web")
    assert stored is not None
    assert stored["spec"]["replicas"] == 4
    assert stored["status"]["readyReplicas"] == 2
    assert stored["metadata"]["generation"] == 2


def test_status_put_replaces_only_the_status(api_cluster: ApiCluster, api_client: Any) -> None:
    apps = client.AppsV1Api(api_client)
    api_cluster.statefulset("web")
    sts = apps.read_namespaced_stateful_set("web", "default")
    sts.spec.replicas = 10
    sts.status = client.V1StatefulSetStatus(replicas=3, ready_replicas=3, observed_generation=1)
    written = apps.replace_namespaced_stateful_set_status("web", "default", sts)
    assert (written.spec.replicas, written.status.ready_replicas) == (3, 3)


@pytest.mark.parametrize(
    ("content_type", "patch", "expected_env", "expected_images"),
    [
        (
            "application/strategic-merge-patch+json",
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"name": "app", "env": [{"name": "B", "value": "2"}]}]
                        }
                    }
                }
            },
            [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            ["nginx:1.27", "busybox:1"],
        ),
        (
            "application/strategic-merge-patch+json",
            {
                "spec": {
                    "template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}
                }
            },
            [{"name": "A", "value": "1"}],
            ["nginx:1.27"],
        ),
        (
            "application/merge-patch+json",
            {
                "spec": {
                    "template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}
                }
            },
            None,
            ["nginx:1.28"],
        ),
        (
            "application/json-patch+json",
            [
                {
                    "op": "replace",
                    "path": "/spec/template/spec/containers/1/image",
                    "value": "busybox:2",
                },
                {"op": "remove", "path": "/spec/template/spec/containers/0/env"},
            ],
            None,
            ["nginx:1.27", "busybox:2"],
        ),
        (
            "application/apply-patch+yaml",
            {"spec": {"replicas": 2}},
            [{"name": "A", "value": "1"}],
            ["nginx:1.27", "busybox:1"],
        ),
    ],
    ids=[
        "strategic merge merges containers and env by name",
        "strategic merge deletes a container with $patch delete",
        "merge patch replaces the container list",
        "json patch edits by position",
        "apply patch is served as a merge",
    ],
)
def test_patch_types(
    api_cluster: ApiCluster,
    content_type: str,
    patch: Any,
    expected_env: list[dict[str, str]] | None,
    expected_images: list[str],
) -> None:
    body = _sts_body()
    body["spec"]["template"]["spec"]["containers"] = [
        {"name": "app", "image": "nginx:1.27", "env": [{"name": "A", "value": "1"}]},
        {"name": "sidecar", "image": "busybox:1"},
    ]
    assert raw_request(api_cluster, "POST", STS, body=body).status == 201
    response = raw_request(
        api_cluster,
        "PATCH",
        f"{STS}/web",
        body=patch,
        headers={"Content-Type": content_type},
    )
    assert response.status == 200, response.body
    containers = response.json()["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == expected_images
    assert containers[0].get("env") == expected_env


def test_an_unknown_patch_type_is_415(api_cluster: ApiCluster) -> None:
    api_cluster.statefulset("web")
    response = raw_request(
        api_cluster, "PATCH", f"{STS}/web", body={}, headers={"Content-Type": "text/plain"}
    )
    assert (response.status, response.json()["reason"]) == (415, "UnsupportedMediaType")


def test_a_patch_pinning_an_old_resource_version_conflicts(api_cluster: ApiCluster) -> None:
    api_cluster.statefulset("web")
    response = raw_request(
        api_cluster,
        "PATCH",
        f"{STS}/web",
        body={"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 1}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status == 409


def test_a_no_op_patch_keeps_the_resource_version(api_cluster: ApiCluster) -> None:
    before = api_cluster.statefulset("web")["metadata"]["resourceVersion"]
    response = raw_request(
        api_cluster,
        "PATCH",
        f"{STS}/web",
        body={"spec": {"replicas": 3}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.json()["metadata"]["resourceVersion"] == before


def test_scale_reads_and_writes_spec_replicas(api_cluster: ApiCluster, api_client: Any) -> None:
    apps = client.AppsV1Api(api_client)
    api_cluster.statefulset("web", replicas=3)
    api_cluster.store.update(
        "statefulsets", "default", "web", lambda s: s["status"].update(replicas=2)
    )
    scale = apps.read_namespaced_stateful_set_scale("web", "default")
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (3, 2, "app=web")
    apps.patch_namespaced_stateful_set_scale("web", "default", {"spec": {"replicas": 5}})
    scale.spec.replicas = 0
    scale.metadata.resource_version = None
    assert apps.replace_namespaced_stateful_set_scale("web", "default", scale).spec.replicas == 0
    stored = api_cluster.store.get("statefulsets", "default", "web")
    assert stored is not None
    assert (stored["spec"]["replicas"], stored["metadata"]["generation"]) == (0, 3)


def test_scale_to_a_negative_count_is_invalid(api_cluster: ApiCluster) -> None:
    api_cluster.statefulset("web")
    response = raw_request(
        api_cluster,
        "PATCH",
        f"{STS}/web/scale",
        body={"spec": {"replicas": -1}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert (response.status, response.json()["reason"]) == (422, "Invalid")


def test_changing_a_statefulset_selector_is_forbidden(api_cluster: ApiCluster) -> None:
    api_cluster.statefulset("web")
    response = raw_request(
        api_cluster,
        "PATCH",
        f"{STS}/web",
        body={"spec": {"serviceName": "other"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status == 422
    assert "updates to statefulset spec for fields other than" in response.json()["message"]


# -- DELETE ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod_kwargs", "query", "body", "stays", "grace"),
    [
        ({}, "", None, True, 30),
        ({"terminationGracePeriodSeconds": 5}, "", None, True, 5),
        ({}, "?gracePeriodSeconds=10", None, True, 10),
        ({}, "", {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 12}, True, 12),
        ({}, "?gracePeriodSeconds=0", None, False, None),
        ({"node": None}, "", None, False, None),
        ({"phase": "Succeeded"}, "", None, False, None),
    ],
    ids=[
        "a running pod gets the default 30 s grace",
        "the pod's own terminationGracePeriodSeconds",
        "gracePeriodSeconds from the query",
        "gracePeriodSeconds from DeleteOptions",
        "grace 0 removes at once",
        "an unscheduled pod is removed at once",
        "a finished pod is removed at once",
    ],
)
def test_pod_deletion_is_graceful_when_a_kubelet_runs_it(
    *,
    api_cluster: ApiCluster,
    pod_kwargs: dict[str, Any],
    query: str,
    body: Any,
    stays: bool,
    grace: int | None,
) -> None:
    api_cluster.pod("p", **pod_kwargs)
    response = raw_request(
        api_cluster, "DELETE", f"/api/v1/namespaces/default/pods/p{query}", body=body
    )
    assert response.status == 200
    returned = response.json()
    assert returned["kind"] == "Pod"
    stored = api_cluster.store.get("pods", "default", "p")
    assert (stored is not None) is stays
    if stays:
        assert stored is not None
        assert stored["metadata"]["deletionGracePeriodSeconds"] == grace
        assert returned["metadata"]["deletionTimestamp"] == stored["metadata"]["deletionTimestamp"]


def test_deleting_a_terminating_pod_only_shortens_its_grace(api_cluster: ApiCluster) -> None:
    api_cluster.pod("p")
    path = "/api/v1/namespaces/default/pods/p"
    raw_request(api_cluster, "DELETE", f"{path}?gracePeriodSeconds=10")
    raw_request(api_cluster, "DELETE", f"{path}?gracePeriodSeconds=60")
    stored = api_cluster.store.get("pods", "default", "p")
    assert stored is not None
    assert stored["metadata"]["deletionGracePeriodSeconds"] == 10
    raw_request(api_cluster, "DELETE", f"{path}?gracePeriodSeconds=0")
    assert api_cluster.store.get("pods", "default", "p") is None


def _owned_pod(cluster: ApiCluster, owner: dict[str, Any], name: str) -> None:
    ref = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    cluster.pod(name)
    cluster.store.update(
        "pods", "default", name, lambda p: p["metadata"].update(ownerReferences=[ref])
    )


def test_background_deletion_removes_the_owner_at_once(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    owner = api_cluster.statefulset("web")
    _owned_pod(api_cluster, owner, "web-0")
    status = client.AppsV1Api(api_client).delete_namespaced_stateful_set("web", "default")
    assert status.status == "Success"
    assert status.details.uid == owner["metadata"]["uid"]
    assert api_cluster.store.get("statefulsets", "default", "web") is None
    # dependents are the garbage collector's business
    assert api_cluster.store.get("pods", "default", "web-0") is not None


def test_foreground_deletion_waits_for_the_finalizer(
    api_cluster: ApiCluster, api_client: Any
) -> None:
    owner = api_cluster.statefulset("web")
    _owned_pod(api_cluster, owner, "web-0")
    client.AppsV1Api(api_client).delete_namespaced_stateful_set(
        "web", "default", propagation_policy="Foreground"
    )
    marked = api_cluster.store.get("statefulsets", "default", "web")
    assert marked is not None
    assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert marked["metadata"]["deletionTimestamp"]
    # what the garbage collector does once the dependents are gone:
    api_cluster.store.update(
        "statefulsets", "default", "web", lambda s: s["metadata"].update(finalizers=[])
    )
    assert api_cluster.store.get("statefulsets", "default", "web") is None


def test_orphan_deletion_strips_owner_references(api_cluster: ApiCluster, api_client: Any) -> None:
    owner = api_cluster.statefulset("web")
    _owned_pod(api_cluster, owner, "web-0")
    client.AppsV1Api(api_client).delete_namespaced_stateful_set(
        "web", "default", body=client.V1DeleteOptions(propagation_policy="Orphan")
    )
    assert api_cluster.store.get("statefulsets", "default", "web") is None
    orphan = api_cluster.store.get("pods", "default", "web-0")
    assert orphan is not None
    assert "ownerReferences" not in orphan["metadata"]


def test_a_terminating_pod_with_a_finalizer_stays_until_it_is_cleared(
    api_cluster: ApiCluster,
) -> None:
    api_cluster.pod("p")
    api_cluster.store.update(
        "pods", "default", "p", lambda p: p["metadata"].update(finalizers=["test/hold"])
    )
    raw_request(api_cluster, "DELETE", "/api/v1/namespaces/default/pods/p?gracePeriodSeconds=0")
    assert api_cluster.store.get("pods", "default", "p") is not None
    api_cluster.store.update("pods", "default", "p", lambda p: p["metadata"].pop("finalizers"))
    assert api_cluster.store.get("pods", "default", "p") is None


def test_delete_preconditions_guard_against_a_replaced_object(api_cluster: ApiCluster) -> None:
    api_cluster.statefulset("web")
    response = raw_request(
        api_cluster,
        "DELETE",
        f"{STS}/web",
        body={"preconditions": {"uid": "not-the-uid"}},
    )
    assert (response.status, response.json()["reason"]) == (409, "Conflict")
    assert api_cluster.store.get("statefulsets", "default", "web") is not None


def test_delete_collection_honours_the_label_selector(api_cluster: ApiCluster) -> None:
    api_cluster.pod("a", labels={"app": "web"}, node=None)
    api_cluster.pod("b", labels={"app": "db"}, node=None)
    response = raw_request(
        api_cluster, "DELETE", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb"
    )
    assert response.json()["kind"] == "PodList"
    assert [p["metadata"]["name"] for p in api_cluster.store.list("pods")] == ["b"]


def test_deleting_a_namespace_deletes_its_content(api_cluster: ApiCluster) -> None:
    api_cluster.store.create("namespaces", {"metadata": {"name": "team"}})
    api_cluster.pod("a", namespace="team")
    response = raw_request(api_cluster, "DELETE", "/api/v1/namespaces/team")
    assert response.json()["status"]["phase"] == "Terminating"
    assert api_cluster.store.list("pods", "team") == []
    assert api_cluster.store.get("namespaces", "", "team") is None


def test_dry_run_changes_nothing(api_cluster: ApiCluster) -> None:
    api_cluster.statefulset("web")
    before = api_cluster.store.resource_version
    raw_request(api_cluster, "DELETE", f"{STS}/web?dryRun=All")
    raw_request(api_cluster, "POST", f"{STS}?dryRun=All", body=_sts_body("other"))
    assert api_cluster.store.resource_version == before
    assert api_cluster.store.get("statefulsets", "default", "web") is not None


@pytest.mark.parametrize(
    ("method", "path", "code", "reason"),
    [
        ("POST", f"{STS}/web", 405, "MethodNotAllowed"),
        ("GET", "/apis/apps/v1/namespaces/default/cronjobs", 404, "NotFound"),
        ("GET", "/apis/apps/v1/namespaces/default/statefulsets/web/log", 404, "NotFound"),
        ("GET", "/api/v1/statefulsets", 404, "NotFound"),
        ("GET", "/openapi/v2", 404, "NotFound"),
    ],
    ids=[
        "POST to a named object",
        "an unserved resource",
        "an unserved subresource",
        "a resource in the wrong group",
        "openapi, so kubectl skips validation",
    ],
)
def test_unserved_requests(
    api_cluster: ApiCluster, method: str, path: str, code: int, reason: str
) -> None:
    api_cluster.statefulset("web")
    response = raw_request(api_cluster, method, path, body={} if method == "POST" else None)
    assert (response.status, response.json()["reason"]) == (code, reason)


@pytest.mark.parametrize(
    ("patch", "code"),
    [
        ({"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}, 200),
        ({"spec": {"activeDeadlineSeconds": 60}}, 200),
        ({"spec": {"containers": [{"name": "app", "command": ["sh"]}]}}, 422),
        ({"spec": {"nodeName": "node-9"}}, 422),
    ],
    ids=[
        "an image may change",
        "the active deadline may change",
        "a command may not",
        "the node may not (that is the binding's job)",
    ],
)
def test_pod_specs_are_mostly_immutable(
    api_cluster: ApiCluster, patch: dict[str, Any], code: int
) -> None:
    api_cluster.pod("p")
    response = raw_request(
        api_cluster,
        "PATCH",
        "/api/v1/namespaces/default/pods/p",
        body=patch,
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert response.status == code


def test_delete_options_in_the_body_win_over_the_query(api_cluster: ApiCluster) -> None:
    """As in the apiserver: with a body, the query string's options are not read at all."""
    api_cluster.pod("p")
    raw_request(
        api_cluster,
        "DELETE",
        "/api/v1/namespaces/default/pods/p?gracePeriodSeconds=0",
        body={"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 12},
    )
    stored = api_cluster.store.get("pods", "default", "p")
    assert stored is not None
    assert stored["metadata"]["deletionGracePeriodSeconds"] == 12


def test_probes_get_the_apiservers_defaults() -> None:
    """kubectl describe shows timeout=1s period=10s #success=1 #failure=3, not zeros."""
    from kube_test_cluster.clock import Clock
    from kube_test_cluster.registry.store import Store

    store = Store(Clock(manual=True))
    container = {
        "name": "app",
        "image": "nginx:1.27",
        "readinessProbe": {"httpGet": {"port": 8080}, "initialDelaySeconds": 2},
        "livenessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 5},
    }
    pod = store.create(
        "pods",
        {"metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": [container]}},
    )
    stored = pod["spec"]["containers"][0]
    assert stored["readinessProbe"] == {
        "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        "initialDelaySeconds": 2,
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert stored["livenessProbe"] == {
        "tcpSocket": {"port": 8080},
        "periodSeconds": 5,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
