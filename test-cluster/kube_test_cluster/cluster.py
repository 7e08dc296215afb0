"""``EmulatedCluster``: the whole test cluster behind one object.

Clock, store, API server (HTTPS, bearer token, optional RBAC and faults) and
control plane (controllers, scheduler, kubelets), started and stopped together,
plus what a test needs around them: a kubeconfig (as a dict and as a private
file), the Airflow connection that points at it, scenarios, manifests, and
time control::

    with EmulatedCluster(speed=20) as cluster:
        cluster.apply_scenario("crashloop")
        os.environ["AIRFLOW_CONN_KUBERNETES_DEFAULT"] = cluster.airflow_connection_json()
        ...

With ``manual_clock=True`` time stands still until :meth:`EmulatedCluster.advance`
moves it; the control plane still reacts at once to every write, at the
current emulated time.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import yaml

from kube_test_cluster import scenarios
from kube_test_cluster.apiserver.faults import Faults
from kube_test_cluster.apiserver.rbac import Authorizer
from kube_test_cluster.apiserver.server import ApiServer
from kube_test_cluster.clock import Clock
from kube_test_cluster.machinery.topology import NODES, Node
from kube_test_cluster.manager import ControlPlane
from kube_test_cluster.registry.deletion import DeleteOptions, Deleter
from kube_test_cluster.registry.store import RESOURCES, Obj, Store, StoreError
from kube_test_cluster.registry.validation import reset_status

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Kind -> plural resource name, for manifests
KINDS = {kind: resource for resource, (_, kind, _) in RESOURCES.items()}
KINDS["CustomResourceDefinition"] = "customresourcedefinitions"


class EmulatedCluster:
    """A started-on-demand emulated Kubernetes cluster (also a context manager).

    ``token=None`` makes a random bearer token (``token=""`` turns authentication
    off, and :meth:`start` logs one warning saying so); ``role`` is a Role/ClusterRole
    manifest (path, YAML text or parsed documents) the token is limited to; ``faults``
    a :class:`Faults` to share; ``ca`` a ``trustme.CA`` to sign the server certificate
    with (default: a fresh throwaway CA, shared within the process); ``nodes`` the node
    names or :class:`~.machinery.topology.Node` specs (labels, taints, cordoned; default
    ``node-1`` to ``node-3``, untainted), served read-only as Node objects.
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        manual_clock: bool = False,
        tls: bool = True,
        token: str | None = None,
        role: str | Path | Mapping[str, Any] | Iterable[Mapping[str, Any]] | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ca: Any = None,
        nodes: Iterable[str | Node] | None = None,
    ) -> None:
        self.clock = Clock(speed=speed, manual=manual_clock)
        self.store = Store(self.clock)
        self.faults = faults if faults is not None else Faults()
        if token is None:
            token = secrets.token_urlsafe(24)
        authorizer = Authorizer.from_manifest(role) if role is not None else None
        self.server = ApiServer(
            self.store,
            self.clock,
            host=host,
            port=port,
            tls=tls,
            token=token or None,
            authorizer=authorizer,
            faults=self.faults,
            ca=ca,
        )
        self.control_plane = ControlPlane(
            self.store, self.clock, nodes=NODES if nodes is None else nodes
        )
        self._dir: Path | None = None
        self._kubeconfig_path: Path | None = None
        self._started = False

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> EmulatedCluster:
        """Serve the API, write the kubeconfig, run the control plane; returns when ready."""
        if self._started:
            raise RuntimeError("the cluster is already started")
        if self.control_plane.closed:
            raise RuntimeError("a stopped cluster cannot be restarted; make a new one")
        self.server.start()
        try:
            self._dir = Path(tempfile.mkdtemp(prefix="sts-emulator-"))
            self._kubeconfig_path = self.server.write_kubeconfig(self._dir / "kubeconfig")
            self.control_plane.start()
        except BaseException:
            self.server.stop()
            raise
        self._started = True
        if self.server.token is None:
            log.warning(
                "WARNING: authentication is off: %s accepts every request without a token",
                self.server.url,
            )
        log.info("test cluster serving %s", self.server.url)
        return self

    def stop(self) -> None:
        """Stop everything and remove the kubeconfig file (safe to call twice)."""
        self.control_plane.stop()
        self.server.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._started = False

    def __enter__(self) -> EmulatedCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- client configuration --------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.server.url

    @property
    def token(self) -> str | None:
        return self.server.token

    @property
    def kubeconfig(self) -> dict[str, Any]:
        """A kubeconfig dict (CA data inline, bearer token), namespace ``default``."""
        return self.server.kubeconfig()

    @property
    def kubeconfig_path(self) -> Path:
        """The kubeconfig written at start into a private temporary directory."""
        if self._kubeconfig_path is None:
            raise RuntimeError("the cluster is not started")
        return self._kubeconfig_path

    def airflow_connection_json(self, namespace: str = "default") -> str:
        """``AIRFLOW_CONN_KUBERNETES_DEFAULT`` in Airflow's JSON form."""
        extra = {"kube_config": self.server.kubeconfig(namespace), "namespace": namespace}
        return json.dumps({"conn_type": "kubernetes", "extra": extra})

    def airflow_connection_uri(self, namespace: str = "default") -> str:
        """The same connection as an Airflow URI (``kubernetes://?__extra__=...``)."""
        extra = {"kube_config": self.server.kubeconfig(namespace), "namespace": namespace}
        return "kubernetes://?__extra__=" + quote(json.dumps(extra), safe="")

    def stats(self) -> dict[str, Any]:
        """What the API server counted: ``watches_open`` (watch connections open now),
        ``watches_opened``, ``requests_total``, ``requests`` by ``"verb resource"``
        (``"watch pods"``, ``"list statefulsets"``), ``seconds`` since it started and
        ``requests_per_minute``."""
        return self.server.stats.snapshot()

    # -- objects ---------------------------------------------------------------------------
    def apply_scenario(
        self, name: str, *, replicas: int | None = None, namespace: str = "default"
    ) -> list[Obj]:
        """Create scenario ``name``'s objects and schedule its later steps; returns the objects."""
        plan = scenarios.build(name, namespace=namespace, replicas=replicas)
        return self._apply_plan(name, plan, namespace)

    def apply_examples(self, *, namespace: str = "default") -> list[Obj]:
        """Create what the example DAGs wait for with their default params (``serve
        --examples``): StatefulSets ``kafka`` and ``postgres``, Deployment ``model-server``."""
        return self._apply_plan("examples", scenarios.examples(namespace=namespace), namespace)

    def _apply_plan(self, name: str, plan: scenarios.Plan, namespace: str) -> list[Obj]:
        self.ensure_namespace(namespace)
        created = []
        for resource, obj in plan.requires:
            meta = obj["metadata"]
            if self.store.get(resource, meta.get("namespace", ""), meta["name"]) is None:
                created.append(self._create_or_replace(resource, obj))
        created += [self._create_or_replace(resource, obj) for resource, obj in plan.objects]
        start = self.clock.now()
        for step in plan.steps:
            self.control_plane.at(
                start + timedelta(seconds=step.after), _runner(self, name, namespace, step)
            )
        log.info("scenario %s applied in namespace %s", name, namespace)
        return created

    def apply(self, manifests: str | Path | Obj | Iterable[Obj]) -> list[Obj]:
        """Create or replace objects from dicts, a YAML string or a YAML file path.

        Like ``kubectl apply``: a new object starts with a fresh status; an existing
        one gets the manifest's metadata and spec and keeps its status.
        """
        created = []
        for doc in _documents(manifests):
            kind = doc.get("kind", "")
            resource = KINDS.get(kind) or next(
                (
                    plural
                    for plural, custom in self.store.custom.items()
                    if custom.kind == kind and doc.get("apiVersion") in (None, custom.api_version)
                ),
                None,
            )
            if resource is None:
                raise ValueError(f"cannot apply kind {kind!r}; known kinds: {', '.join(KINDS)}")
            if resource == "nodes":
                raise ValueError(
                    "the test cluster's nodes are fixed when it is made: "
                    "EmulatedCluster(nodes=[Node(...), ...])"
                )
            created.append(self._create_or_replace(resource, doc))
        return created

    def _create_or_replace(self, resource: str, manifest: Obj) -> Obj:
        obj = copy.deepcopy(manifest)
        meta = obj.setdefault("metadata", {})
        namespaced = self.store.resources[resource][2]
        if namespaced:
            meta["namespace"] = meta.get("namespace") or "default"
            self.ensure_namespace(meta["namespace"])
        with self.store.lock:
            existing = self.store.get(resource, meta.get("namespace", ""), meta.get("name", ""))
            if existing is None:
                reset_status(resource, obj)
                return self.store.create(resource, obj)
            for kept in ("uid", "creationTimestamp", "resourceVersion", "generation"):
                if kept in existing["metadata"]:
                    meta[kept] = existing["metadata"][kept]
            if "status" in existing:
                obj["status"] = existing["status"]
            return self.store.replace(resource, obj)

    def ensure_namespace(self, namespace: str) -> None:
        with contextlib.suppress(StoreError):
            if self.store.get("namespaces", "", namespace) is None:
                self.store.create("namespaces", {"metadata": {"name": namespace}, "spec": {}})

    def get(self, resource: str, name: str, namespace: str = "default") -> Obj | None:
        """A copy of one stored object (``resource`` is the plural name, e.g. ``pods``)."""
        return self.store.get(resource, namespace, name)

    def create(self, resource: str, manifest: Obj) -> Obj:
        """Create one object as ``POST`` does (a fresh status; 409 if it exists)."""
        obj = copy.deepcopy(manifest)
        reset_status(resource, obj)
        return self.store.create(resource, obj)

    def patch(
        self, resource: str, namespace: str, name: str, mutate: Callable[[Obj], None]
    ) -> None:
        """Change an object in place (generation bumps when the spec changes)."""
        self.store.update(resource, namespace, name, mutate)

    def update_status(
        self, resource: str, namespace: str, name: str, status: Callable[[Obj], Obj]
    ) -> None:
        """Replace the status only, as ``PUT .../status`` does: ``status`` gets a copy of the
        object and returns its new status (a controller reading ``metadata.generation``)."""

        def write(obj: Obj) -> None:
            obj["status"] = status(copy.deepcopy(obj))

        self.store.update(resource, namespace, name, write)

    def delete(
        self,
        resource: str,
        namespace: str,
        name: str,
        *,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> None:
        """Delete as ``DELETE`` on the API does (graceful pods, propagation policies)."""
        obj = self.store.get(resource, namespace, name)
        if obj is None:
            raise KeyError(f"{resource} {namespace}/{name} not found")
        options = DeleteOptions(grace_period=grace_period_seconds, propagation=propagation_policy)
        Deleter(self.store, self.clock).delete(resource, obj, options)

    @property
    def events(self) -> list[Obj]:
        """Every event in the cluster, oldest first."""
        events = self.store.list("events")
        return sorted(events, key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))

    # -- time ------------------------------------------------------------------------------
    def step(self, passes: int | None = None) -> int:
        """Reconcile until nothing is left to do at the current emulated time (or for
        ``passes`` passes: a controller does one bounded burst of work per pass)."""
        return self.control_plane.step(passes)

    def advance(self, seconds: float) -> None:
        """Move the clock forward, reconciling at every timer on the way."""
        self.control_plane.advance(seconds)

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.05
    ) -> T:
        """Poll ``predicate`` until it returns something truthy; TimeoutError after ``timeout``
        real seconds (the clock is not advanced: with a manual clock, call :meth:`advance`)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            time.sleep(interval)


def _runner(
    cluster: EmulatedCluster, name: str, namespace: str, step: scenarios.Step
) -> Callable[[], None]:
    def run() -> None:
        try:
            if step.until is not None and not step.until(cluster):
                when = cluster.clock.now() + timedelta(seconds=step.poll)
                cluster.control_plane.at(when, run)  # not yet: look again later
                return
            log.info("scenario %s (%s): %s", name, namespace, step.description)
            step.action(cluster)
        except (StoreError, KeyError) as error:  # the user changed the story: skip the step
            log.warning("scenario %s: step skipped: %s", name, error)

    return run


def _documents(manifests: str | Path | Obj | Iterable[Obj]) -> list[Obj]:
    if isinstance(manifests, Mapping):
        raw: list[Any] = [manifests]
    elif isinstance(manifests, Path) or (
        isinstance(manifests, str) and "\n" not in manifests and Path(manifests).is_file()
    ):
        raw = list(yaml.safe_load_all(Path(manifests).read_text()))
    elif isinstance(manifests, str):
        raw = list(yaml.safe_load_all(manifests))
    else:
        raw = list(manifests)
    docs: list[Obj] = []
    for doc in raw:
        if not doc:
            continue
        if str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
            docs.extend(dict(item) for item in doc["items"])
        else:
            docs.append(dict(doc))
    return docs
