"""Authentication (bearer tokens over TLS) and RBAC from real Role manifests."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from kube_test_cluster.apiserver.rbac import Attributes, Authorizer
from kube_test_cluster.apiserver.server import ApiServer
from kube_test_cluster_tests.conftest import ApiCluster, raw_request

WORKER_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: sts-sensor
  namespace: default
rules:
  - apiGroups: ["apps"]
    resources: ["statefulsets"]
    verbs: ["get", "list", "watch"]
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["list", "watch"]
  - apiGroups: [""]
    resources: ["events"]
    verbs: ["list"]
  - apiGroups: ["apps"]
    resources: ["deployments/scale"]
    verbs: ["get"]
    resourceNames: ["api"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: sts-sensor
  namespace: default
subjects:
  - kind: ServiceAccount
    name: airflow
    namespace: default
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: sts-sensor
"""


def test_requests_without_a_token_are_401_unauthorized(api_cluster: ApiCluster) -> None:
    response = raw_request(api_cluster, "GET", "/api/v1/namespaces/default/pods", token=None)
    assert response.status == 401
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }
    assert "date" in response.headers


def test_a_wrong_token_is_401_for_the_python_client(
    api_cluster: ApiCluster, tmp_path: Path
) -> None:
    kubeconfig = api_cluster.server.kubeconfig()
    kubeconfig["users"][0]["user"]["token"] = "wrong"
    api_client = config.new_client_from_config_dict(kubeconfig)
    with pytest.raises(client.ApiException) as caught:
        client.CoreV1Api(api_client).list_namespaced_pod("default")
    assert caught.value.status == 401


@pytest.mark.parametrize(
    "header",
    ["authorization", "AUTHORIZATION", "Authorization"],
    ids=["lower case as the python client sends it", "upper case", "canonical case"],
)
def test_header_names_are_case_insensitive(api_cluster: ApiCluster, header: str) -> None:
    response = raw_request(
        api_cluster,
        "GET",
        "/api/v1/namespaces/default/pods",
        headers={header: f"Bearer {api_cluster.token}"},
        token=None,
    )
    assert response.status == 200


def test_discovery_also_needs_the_token(api_cluster: ApiCluster) -> None:
    assert raw_request(api_cluster, "GET", "/version", token=None).status == 401
    assert raw_request(api_cluster, "GET", "/version").json()["gitVersion"] == "v1.32.4"


def test_tls_is_verified_against_the_kubeconfig_ca(api_cluster: ApiCluster) -> None:
    context = ssl.create_default_context()  # the system CAs do not know the throwaway CA
    import http.client

    conn = http.client.HTTPSConnection("127.0.0.1", api_cluster.server.port, context=context)
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/version")
    conn.close()
    assert api_cluster.server.kubeconfig()["clusters"][0]["cluster"]["certificate-authority-data"]


def test_plain_http_serves_without_tls(tmp_path: Path) -> None:
    from kube_test_cluster.clock import Clock
    from kube_test_cluster.registry.store import Store

    clock = Clock(manual=True)
    with ApiServer(Store(clock), clock, tls=False) as server:
        cluster = ApiCluster(server, server.store, clock, server.faults, tmp_path, "")
        assert server.url.startswith("http://")
        assert server.ca_pem is None
        api_client = config.new_client_from_config_dict(server.kubeconfig())
        namespaces = client.CoreV1Api(api_client).list_namespace()
        assert "default" in [n.metadata.name for n in namespaces.items]
        assert raw_request(cluster, "GET", "/version", token=None).status == 200


@pytest.fixture
def rbac_cluster(api_cluster: ApiCluster) -> Iterator[ApiCluster]:
    api_cluster.server.authorizer = Authorizer.from_manifest(WORKER_ROLE)
    api_cluster.statefulset("web")
    api_cluster.store.create(
        "deployments",
        {
            "metadata": {"name": "api", "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"app": "api"}},
                "template": {
                    "metadata": {"labels": {"app": "api"}},
                    "spec": {"containers": [{"name": "c", "image": "x:1"}]},
                },
            },
        },
    )
    yield api_cluster


@pytest.mark.parametrize(
    ("call", "allowed"),
    [
        (lambda c: client.AppsV1Api(c).read_namespaced_stateful_set("web", "default"), True),
        (lambda c: client.AppsV1Api(c).list_namespaced_stateful_set("default"), True),
        (lambda c: client.CoreV1Api(c).list_namespaced_pod("default"), True),
        (lambda c: client.AppsV1Api(c).read_namespaced_deployment_scale("api", "default"), True),
        (lambda c: client.CoreV1Api(c).read_namespaced_pod("web-0", "default"), False),
        (lambda c: client.AppsV1Api(c).read_namespaced_deployment("api", "default"), False),
        (
            lambda c: client.AppsV1Api(c).patch_namespaced_stateful_set_scale(
                "web", "default", {"spec": {"replicas": 1}}
            ),
            False,
        ),
        (lambda c: client.CoreV1Api(c).list_pod_for_all_namespaces(), False),
        (lambda c: client.AppsV1Api(c).list_namespaced_stateful_set("kube-system"), False),
    ],
    ids=[
        "get a statefulset is granted",
        "list statefulsets is granted",
        "list pods is granted",
        "a resourceName-limited subresource is granted for that name",
        "get of a pod is not granted (only list)",
        "deployments are not granted",
        "the scale subresource needs its own rule",
        "a Role never grants cluster-wide lists",
        "a Role grants nothing in other namespaces",
    ],
)
def test_rbac_allows_exactly_what_the_role_grants(
    rbac_cluster: ApiCluster, api_client: Any, call: Any, allowed: bool
) -> None:
    if allowed:
        call(api_client)
        return
    with pytest.raises(client.ApiException) as caught:
        call(api_client)
    assert caught.value.status == 403
    assert json.loads(caught.value.body)["reason"] == "Forbidden"


@pytest.mark.parametrize(
    ("method", "path", "message", "details"),
    [
        (
            "GET",
            "/apis/apps/v1/namespaces/default/deployments/api",
            'deployments.apps "api" is forbidden: User "system:serviceaccount:default:airflow" '
            'cannot get resource "deployments" in API group "apps" in the namespace "default"',
            {"name": "api", "group": "apps", "kind": "deployments"},
        ),
        (
            "DELETE",
            "/api/v1/namespaces/default/pods",
            'pods is forbidden: User "system:serviceaccount:default:airflow" cannot '
            'deletecollection resource "pods" in API group "" in the namespace "default"',
            {"kind": "pods"},
        ),
        (
            "GET",
            "/api/v1/pods",
            'pods is forbidden: User "system:serviceaccount:default:airflow" cannot list '
            'resource "pods" in API group "" at the cluster scope',
            {"kind": "pods"},
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/default/statefulsets/web/scale",
            'statefulsets.apps "web" is forbidden: User "system:serviceaccount:default:airflow" '
            'cannot patch resource "statefulsets/scale" in API group "apps" in the namespace '
            '"default"',
            {"name": "web", "group": "apps", "kind": "statefulsets"},
        ),
        (
            "GET",
            "/api/v1/namespaces/default/events?watch=true",
            'events is forbidden: User "system:serviceaccount:default:airflow" cannot watch '
            'resource "events" in API group "" in the namespace "default"',
            {"kind": "events"},
        ),
    ],
    ids=[
        "get of a named object",
        "deletecollection",
        "a cluster-scope list",
        "a subresource",
        "watch",
    ],
)
def test_forbidden_uses_the_apiserver_wording(
    rbac_cluster: ApiCluster, method: str, path: str, message: str, details: dict[str, str]
) -> None:
    response = raw_request(
        rbac_cluster,
        method,
        path,
        body={} if method == "PATCH" else None,
        headers={"Content-Type": "application/merge-patch+json"} if method == "PATCH" else None,
    )
    assert response.status == 403
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "Forbidden",
        "details": details,
        "code": 403,
    }


def test_discovery_is_always_allowed(rbac_cluster: ApiCluster) -> None:
    for path in ("/version", "/api", "/api/v1", "/apis", "/apis/apps/v1"):
        assert raw_request(rbac_cluster, "GET", path).status == 200


def test_an_explicit_user_overrides_the_binding(tmp_path: Path) -> None:
    path = tmp_path / "role.yaml"
    path.write_text(WORKER_ROLE)
    authorizer = Authorizer.from_manifest(path, user="alice")
    assert authorizer.user == "alice"
    assert Authorizer.from_manifest(path).user == "system:serviceaccount:default:airflow"


@pytest.mark.parametrize(
    ("rule", "request_", "allowed"),
    [
        (
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            ("delete", "apps", "statefulsets", None, "ns", "x"),
            True,
        ),
        (
            {"apiGroups": ["apps"], "resources": ["*/scale"], "verbs": ["patch"]},
            ("patch", "apps", "deployments", "scale", "ns", "x"),
            True,
        ),
        (
            {"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get"]},
            ("get", "apps", "statefulsets", "status", "ns", "x"),
            True,
        ),
        (
            {"apiGroups": ["apps"], "resources": ["statefulsets"], "verbs": ["get"]},
            ("get", "apps", "statefulsets", "status", "ns", "x"),
            False,
        ),
        (
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"], "resourceNames": ["a"]},
            ("list", "", "pods", None, "ns", None),
            False,
        ),
    ],
    ids=[
        "wildcards grant everything",
        "a subresource wildcard grants that subresource of any resource",
        "a resource wildcard grants subresources",
        "a resource rule does not grant its subresources",
        "resourceNames never grant a list",
    ],
)
def test_cluster_role_rule_matching(
    rule: dict[str, Any], request_: tuple[Any, ...], allowed: bool
) -> None:
    authorizer = Authorizer.from_manifest(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "r"},
            "rules": [rule],
        }
    )
    assert authorizer.allows(Attributes(*request_)) is allowed


def test_a_manifest_without_roles_is_rejected() -> None:
    with pytest.raises(ValueError, match="no Role or ClusterRole"):
        Authorizer.from_manifest({"kind": "ConfigMap", "metadata": {"name": "x"}})
