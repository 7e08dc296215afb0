"""CustomResourceDefinitions: a CRD's kind appears in discovery and its objects are served.

Real ``kubernetes`` client over HTTPS, and ``kubectl`` (skipped where it is absent).
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from kube_test_cluster.cluster import EmulatedCluster

Obj = dict[str, Any]
KUBECTL = shutil.which("kubectl")
GROUP, VERSION, PLURAL = "kafka.strimzi.io", "v1beta2", "kafkas"

CRD: Obj = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "kafkas.kafka.strimzi.io"},
    "spec": {
        "group": GROUP,
        "names": {
            "kind": "Kafka",
            "listKind": "KafkaList",
            "plural": PLURAL,
            "singular": "kafka",
            "shortNames": ["k"],
            "categories": ["strimzi"],
        },
        "scope": "Namespaced",
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object"}},
            }
        ],
    },
}


def raw(
    cluster: EmulatedCluster, method: str, path: str, body: Any = None, content_type: str = ""
) -> Any:
    """One HTTPS request as a client sends it (token, the cluster's CA)."""
    context = ssl.create_default_context(cadata=(cluster.server.ca_pem or b"").decode())
    headers = {"Authorization": f"Bearer {cluster.token}", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = content_type or "application/json"
    request = urllib.request.Request(cluster.url + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, context=context) as response:
        return json.loads(response.read())


def kafka(name: str, replicas: int = 3, **labels: str) -> Obj:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Kafka",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"kafka": {"replicas": replicas}},
        "status": {"ignored": True},
    }


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(speed=5) as running:
        api = client.ApiClient(config.new_client_from_config_dict(running.kubeconfig).configuration)
        client.ApiextensionsV1Api(api).create_custom_resource_definition(CRD)
        yield running


@pytest.fixture(scope="module")
def custom(cluster: EmulatedCluster) -> client.CustomObjectsApi:
    api = client.ApiClient(config.new_client_from_config_dict(cluster.kubeconfig).configuration)
    return client.CustomObjectsApi(api)


def test_the_kind_appears_in_discovery(cluster: EmulatedCluster) -> None:
    api = client.ApiClient(config.new_client_from_config_dict(cluster.kubeconfig).configuration)
    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    assert groups[GROUP].preferred_version.group_version == f"{GROUP}/{VERSION}"
    assert "apiextensions.k8s.io" in groups
    body = raw(cluster, "GET", f"/apis/{GROUP}/{VERSION}")
    found = {r["name"]: r for r in body["resources"]}
    assert found[PLURAL] == {
        "name": PLURAL,
        "singularName": "kafka",
        "namespaced": True,
        "kind": "Kafka",
        "verbs": [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ],
        "shortNames": ["k"],
        "categories": ["strimzi"],
    }
    assert "kafkas/status" in found
    group = raw(cluster, "GET", f"/apis/{GROUP}")
    assert group["versions"] == [{"groupVersion": f"{GROUP}/{VERSION}", "version": VERSION}]
    crd = cluster.get("customresourcedefinitions", "kafkas.kafka.strimzi.io", "")
    assert crd is not None
    assert {c["type"]: c["status"] for c in crd["status"]["conditions"]} == {
        "NamesAccepted": "True",
        "Established": "True",
    }


def test_another_cluster_does_not_serve_it() -> None:
    with EmulatedCluster(manual_clock=True) as other:
        api = client.ApiClient(config.new_client_from_config_dict(other.kubeconfig).configuration)
        groups = [g.name for g in client.ApisApi(api).get_api_versions().groups]
        assert GROUP not in groups
        with pytest.raises(ApiException) as error:
            client.CustomObjectsApi(api).list_namespaced_custom_object(
                GROUP, VERSION, "default", PLURAL
            )
        assert error.value.status == 404


def test_create_get_list_select_and_page(custom: client.CustomObjectsApi) -> None:
    for index in range(3):
        created = custom.create_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, kafka(f"page-{index}", tier="paged")
        )
        assert created["kind"] == "Kafka"
        assert created["metadata"]["generation"] == 1
        assert "status" not in created  # the status subresource: a create drops status
    got = custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "page-1")
    assert got["spec"] == {"kafka": {"replicas": 3}}
    listed = custom.list_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, label_selector="tier=paged", limit=2
    )
    assert listed["kind"] == "KafkaList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["page-0", "page-1"]
    rest = custom.list_namespaced_custom_object(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        label_selector="tier=paged",
        _continue=listed["metadata"]["continue"],
    )
    assert [i["metadata"]["name"] for i in rest["items"]] == ["page-2"]
    by_name = custom.list_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, field_selector="metadata.name=page-2"
    )
    assert [i["metadata"]["name"] for i in by_name["items"]] == ["page-2"]


def test_patch_status_and_generation(
    cluster: EmulatedCluster, custom: client.CustomObjectsApi
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, kafka("gen"))
    status = {
        "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]}
    }
    after_status = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, "default", PLURAL, "gen", status
    )
    assert after_status["status"]["conditions"][0]["type"] == "Ready"
    assert after_status["metadata"]["generation"] == 1
    labelled = custom.patch_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "gen", {"metadata": {"labels": {"x": "y"}}}
    )
    assert labelled["metadata"]["generation"] == 1
    merged = custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "gen",
        {"spec": {"kafka": {"replicas": 5}}, "status": {"ignored": "on the main resource"}},
    )
    assert merged["metadata"]["generation"] == 2
    assert merged["spec"]["kafka"]["replicas"] == 5
    assert merged["status"] == status["status"]
    patched = raw(
        cluster,
        "PATCH",
        f"/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}/gen",
        [{"op": "replace", "path": "/spec/kafka/replicas", "value": 7}],
        "application/json-patch+json",
    )
    assert patched["spec"]["kafka"]["replicas"] == 7
    assert patched["metadata"]["generation"] == 3
    custom.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "gen")
    with pytest.raises(ApiException) as error:
        custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "gen")
    assert error.value.status == 404
    assert json.loads(error.value.body)["details"]["group"] == GROUP


def test_watch_sees_changes(custom: client.CustomObjectsApi) -> None:
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    def run() -> None:
        stream = watch.Watch()
        for event in stream.stream(
            custom.list_namespaced_custom_object,
            GROUP,
            VERSION,
            "default",
            PLURAL,
            field_selector="metadata.name=watched",
            timeout_seconds=10,
        ):
            seen.append((event["type"], event["object"]["metadata"]["name"]))
            if event["type"] == "DELETED":
                stream.stop()
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, kafka("watched"))
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, "default", PLURAL, "watched", {"status": {"observedGeneration": 1}}
    )
    custom.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "watched")
    assert done.wait(15)
    assert seen[0] == ("ADDED", "watched")
    assert seen[-1] == ("DELETED", "watched")
    assert ("MODIFIED", "watched") in seen


def test_deleting_the_crd_removes_its_objects() -> None:
    with EmulatedCluster(manual_clock=True) as running:
        running.apply(CRD)
        running.apply(kafka("gone"))
        assert running.get(PLURAL, "gone") is not None
        running.delete("customresourcedefinitions", "", "kafkas.kafka.strimzi.io")
        assert PLURAL not in running.store.resources
        deleted = [c for c in running.store.changes_since(999) if c.resource == PLURAL]
        assert [c.type for c in deleted] == ["ADDED", "DELETED"]


def kubectl(cluster: EmulatedCluster, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    cache = cluster.kubeconfig_path.parent / "kube-cache"
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(cluster.kubeconfig_path), "--cache-dir", str(cache), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed here")
def test_kubectl_get_and_wait_for_a_condition(
    cluster: EmulatedCluster, custom: client.CustomObjectsApi
) -> None:
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, kafka("kube"))
    table = kubectl(cluster, "get", "kafka")
    assert table.returncode == 0, table.stderr
    assert "kube" in table.stdout
    as_json = kubectl(cluster, "get", "kafka", "kube", "-o", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["spec"]["kafka"]["replicas"] == 3

    def ready_later() -> None:
        custom.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "kube",
            {
                "status": {
                    "observedGeneration": 1,
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "lastTransitionTime": "2026-01-01T00:00:00Z",
                        }
                    ],
                }
            },
        )

    timer = threading.Timer(1.0, ready_later)
    timer.start()
    waited = kubectl(cluster, "wait", "--for=condition=Ready", "kafka/kube", "--timeout=30s")
    timer.join()
    assert waited.returncode == 0, waited.stderr
    assert "condition met" in waited.stdout
    short = kubectl(cluster, "get", "k", "-o", "name")
    assert "kafka.kafka.strimzi.io/kube" in short.stdout
