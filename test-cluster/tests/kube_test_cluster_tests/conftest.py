"""Fixtures for the emulator's tests: a started API server over a fresh store.

Helpers may append fixtures here; keep existing ones unchanged.
"""

from __future__ import annotations

import http.client
import json
import secrets
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kube_test_cluster.apiserver.faults import Faults
from kube_test_cluster.apiserver.server import ApiServer
from kube_test_cluster.clock import Clock
from kube_test_cluster.registry.store import Store


@dataclass
class ApiCluster:
    """A running :class:`ApiServer` and the handles a test drives it with."""

    server: ApiServer
    store: Store
    clock: Clock
    faults: Faults
    kubeconfig: Path
    token: str

    def pod(
        self,
        name: str,
        *,
        namespace: str = "default",
        labels: dict[str, str] | None = None,
        node: str | None = "node-1",
        phase: str = "Running",
        **spec: Any,
    ) -> dict[str, Any]:
        """Store a pod directly (no controller involved) and return it."""
        body: dict[str, Any] = {
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}], **spec},
            "status": {"phase": phase},
        }
        if node:
            body["spec"]["nodeName"] = node
        return self.store.create("pods", body)

    def statefulset(
        self, name: str, *, replicas: int = 3, namespace: str = "default"
    ) -> dict[str, Any]:
        labels = {"app": name}
        return self.store.create(
            "statefulsets",
            {
                "metadata": {"name": name, "namespace": namespace},
                "spec": {
                    "replicas": replicas,
                    "serviceName": name,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
                    },
                },
            },
        )


@pytest.fixture
def api_cluster(tmp_path: Path) -> Iterator[ApiCluster]:
    """An HTTPS API server with a bearer token, a manual clock and a fresh store."""
    clock = Clock(manual=True)
    store = Store(clock)
    faults = Faults(seed=7)
    token = secrets.token_urlsafe(16)
    server = ApiServer(store, clock, token=token, faults=faults, bookmark_interval=0.2)
    server.start()
    try:
        path = server.write_kubeconfig(tmp_path / "kubeconfig")
        yield ApiCluster(server, store, clock, faults, path, token)
    finally:
        server.stop()


@pytest.fixture
def api_client(api_cluster: ApiCluster) -> Iterator[Any]:
    """A sync ``kubernetes`` ApiClient configured from the cluster's kubeconfig file."""
    from kubernetes import config

    client = config.new_client_from_config(config_file=str(api_cluster.kubeconfig))
    try:
        yield client
    finally:
        client.close()


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    cluster: ApiCluster,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: Any = None,
    token: str | bool | None = True,
    timeout: float = 10.0,
) -> RawResponse:
    """One HTTP request with nothing but the standard library (exact headers, no retries).

    ``token=True`` sends the cluster's token, a string sends that string, ``None`` none.
    """
    server = cluster.server
    if server.ca_pem is not None:
        context = ssl.create_default_context(cadata=server.ca_pem.decode())
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", server.port, context=context, timeout=timeout
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    sent = dict(headers or {})
    if token is True:
        sent.setdefault("Authorization", f"Bearer {cluster.token}")
    elif isinstance(token, str):
        sent.setdefault("Authorization", f"Bearer {token}")
    payload: bytes | None = None
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        data = response.read()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


# --------------------------------------------------------------------------- control plane
# (appended by the controllers helper: a store driven synchronously by the control plane)


@dataclass
class Sim:
    """A store, a manual clock and the control plane driving it, with no HTTP and no thread.

    Every change happens inside :meth:`advance`/:meth:`step`, so a test sees exactly the
    states the controllers and the kubelet go through, at exact emulated times.
    """

    store: Store
    clock: Clock
    plane: Any  # ControlPlane (imported lazily, as the plugin does)
    #: pod names in the order they were marked for deletion (or removed at once)
    deletions: list[str]

    def step(self) -> None:
        self.plane.step()

    def advance(self, seconds: float) -> None:
        self.plane.advance(seconds)

    def create(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj = json.loads(json.dumps(obj))
        obj["metadata"].setdefault("namespace", "default")
        created = self.store.create(resource, obj)
        self.step()
        return created

    def patch(self, resource: str, name: str, mutate: Any) -> None:
        self.store.update(resource, "default", name, mutate)
        self.step()

    def delete(self, resource: str, name: str, *, policy: str | None = None) -> None:
        from kube_test_cluster.registry.deletion import DeleteOptions, Deleter

        obj = self.store.get(resource, "default", name)
        assert obj is not None, f"{resource} {name} not found"
        Deleter(self.store, self.clock).delete(resource, obj, DeleteOptions(propagation=policy))
        self.step()

    def get(self, resource: str, name: str) -> dict[str, Any]:
        obj = self.store.get(resource, "default", name)
        assert obj is not None, f"{resource} {name} not found"
        return obj

    def pods(self, prefix: str = "") -> list[dict[str, Any]]:
        """Pods whose name starts with ``prefix``, StatefulSet pods by ordinal."""

        def order(pod: dict[str, Any]) -> tuple[int, str]:
            tail = pod["metadata"]["name"].rsplit("-", 1)[-1]
            return (int(tail) if tail.isdigit() else -1, pod["metadata"]["name"])

        found = self.store.list("pods", "default")
        return sorted((p for p in found if p["metadata"]["name"].startswith(prefix)), key=order)

    def names(self, prefix: str = "") -> list[str]:
        return [p["metadata"]["name"] for p in self.pods(prefix)]

    def events(self, name: str | None = None, reason: str | None = None) -> list[dict[str, Any]]:
        events = [
            e
            for e in self.store.list("events")
            if (name is None or e["involvedObject"]["name"] == name)
            and (reason is None or e["reason"] == reason)
        ]
        return sorted(events, key=lambda e: (e["firstTimestamp"], e["metadata"]["name"]))

    def advance_until(self, predicate: Any, limit: float = 600, step: float = 0.5) -> float:
        """Advance in ``step``s until ``predicate()``; returns the emulated seconds it took."""
        waited = 0.0
        while not predicate():
            if waited >= limit:
                raise AssertionError(f"not reached within {limit} emulated seconds")
            self.advance(step)
            waited += step
        return waited


@pytest.fixture
def sim() -> Iterator[Sim]:
    from kube_test_cluster.manager import ControlPlane

    clock = Clock(manual=True)
    store = Store(clock)
    store.create("namespaces", {"metadata": {"name": "default"}, "spec": {}})
    deletions: list[str] = []

    def track(change: Any) -> None:
        if change.resource != "pods":
            return
        old = change.old or {}
        marked = change.obj["metadata"].get("deletionTimestamp") and not old.get(
            "metadata", {}
        ).get("deletionTimestamp")
        removed = change.type == "DELETED" and not old.get("metadata", {}).get("deletionTimestamp")
        if marked or removed:
            deletions.append(change.obj["metadata"]["name"])

    store.add_listener(track)
    plane = ControlPlane(store, clock)
    yield Sim(store, clock, plane, deletions)
    assert plane.errors == [], "a controller raised (see the log)"


def pod_template(
    app: str = "web",
    *,
    behaviour: str | None = None,
    ordinals: dict[int, str] | None = None,
    image: str = "nginx:1.27",
    probe: bool = True,
    **spec: Any,
) -> dict[str, Any]:
    """A workload's pod template: one container ``app``, readiness probe, scripted behaviour."""
    annotations = {}
    if behaviour:
        annotations["sts.emulator/behaviour"] = behaviour
    for ordinal, text in (ordinals or {}).items():
        annotations[f"sts.emulator/behaviour-{ordinal}"] = text
    container: dict[str, Any] = {"name": "app", "image": image}
    if probe:
        container["readinessProbe"] = {"httpGet": {"path": "/", "port": 80}}
    metadata: dict[str, Any] = {"labels": {"app": app}}
    if annotations:
        metadata["annotations"] = annotations
    return {"metadata": metadata, "spec": {"containers": [container], **spec}}


def sts_manifest(
    name: str = "web", replicas: int = 3, template: dict[str, Any] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": template or pod_template(name),
            **spec,
        },
    }


def deployment_manifest(
    name: str = "api", replicas: int = 3, template: dict[str, Any] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template or pod_template(name),
            **spec,
        },
    }


def is_ready(pod: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in pod.get("status", {}).get("conditions") or []
    )
