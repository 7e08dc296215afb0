"""StatefulSetHook: one poke's worth of API reads, judged by the readiness rules.

It is a :class:`KubernetesHook`, so every option of the ``kubernetes`` connection
(in_cluster, kube_config_path, kube_config as dict/JSON/YAML, namespace,
cluster_context, disable_verify_ssl) works unchanged and no connection type is
registered twice. What it adds is the read path the rules need and nothing else:
GET the workload, LIST its pods by the workload's own selector in pages, read the
bodies as raw JSON (``_preload_content=False``: model objects cost ~9x the parse),
take "now" from the API server's ``Date`` header, and call the rules. Errors are
mapped to three outcomes a sensor can act on: permanent (401/403), "not there
yet" (404 of the workload), transient (429, 5xx, timeouts, dropped connections).
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import urllib3.exceptions
import yaml
from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook
from kubernetes.client.exceptions import ApiException

from airflow_sts_provider.hooks._kube_io import (
    EVENTS_PER_POD,
    PAGE_LIMIT,
    REQUEST_TIMEOUT,
    ContinueExpiredError,
    KubernetesApiCallError,
    KubernetesPermissionError,
    NotFoundError,
    Obj,
    Pager,
    Request,
    ServerClock,
    TransientKubernetesError,
    decode_object,
    error_for_status,
    evaluate,
    event_field_selector,
    label_selector,
    not_found_verdict,
    pods_needing_events,
    tls_failure,
    transient,
    warning_event_lines,
)
from airflow_sts_provider.hooks.credentials import (
    configuration_secrets,
    kubeconfig_secrets,
    mask,
)
from airflow_sts_provider.readiness import ReadinessPolicy, Verdict

__all__ = [
    "KubernetesApiCallError",
    "KubernetesPermissionError",
    "ReadStats",
    "StatefulSetHook",
    "TransientKubernetesError",
]

#: Failing pods whose events are read per poke: a 1,000-pod crash loop must not cost 1,000 LISTs.
MAX_PODS_WITH_EVENTS: Final = 5

_NETWORK_ERRORS = (urllib3.exceptions.HTTPError, OSError)


def _is_certificate_error(exc: BaseException) -> bool:
    """urllib3 wraps a failed certificate check in MaxRetryError(SSLError(...))."""
    reason = getattr(exc, "reason", None)
    for candidate in (exc, reason, getattr(reason, "__cause__", None)):
        if isinstance(candidate, ssl.SSLCertVerificationError):
            return True
        if isinstance(
            candidate, urllib3.exceptions.SSLError
        ) and "CERTIFICATE_VERIFY_FAILED" in str(candidate):
            return True
    return False


@dataclass
class ReadStats:
    """What the last ``get_*readiness`` call cost: for logs, benchmarks and paging tests."""

    requests: int = 0
    pages: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    server_time: bool = False


class StatefulSetHook(KubernetesHook):
    """Answers "is this StatefulSet / Deployment / Pod really running?" with a ``Verdict``.

    :param request_timeout: (connect, read) seconds per request; the default keeps a
        hung API server from holding a worker slot.
    :param page_limit: ``limit`` of each paged LIST.
    :param transient_retries: immediate retries of one request after a transient error
        (with a short backoff) before the poke gives up and reports "not done".
    Every other argument is :class:`KubernetesHook`'s.
    """

    conn_name_attr = "kubernetes_conn_id"
    default_conn_name = "kubernetes_default"
    conn_type = "kubernetes"
    hook_name = "Kubernetes StatefulSet readiness"

    def __init__(
        self,
        *args: Any,
        request_timeout: tuple[float, float] = REQUEST_TIMEOUT,
        page_limit: int = PAGE_LIMIT,
        transient_retries: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if page_limit < 1:
            raise ValueError(f"page_limit must be >= 1, got {page_limit}")
        if transient_retries < 0:
            raise ValueError(f"transient_retries must be >= 0, got {transient_retries}")
        self.request_timeout = request_timeout
        self.page_limit = page_limit
        self.transient_retries = transient_retries
        self._warned_no_date = False
        self.last_stats = ReadStats()
        self._warned_events: set[str] = set()

    # ------------------------------------------------------------------ public API

    def resolve_namespace(self, namespace: str | None = None) -> str:
        """The argument, else the connection's ``namespace`` extra, else ``default``."""
        return namespace or self.get_namespace() or self.DEFAULT_NAMESPACE

    def get_readiness(
        self, name: str, namespace: str | None = None, policy: ReadinessPolicy | None = None
    ) -> Verdict:
        """Judge StatefulSet ``name``: one GET, one paged LIST of its pods, events if failing."""
        return self.get_workload_readiness("StatefulSet", name, namespace, policy)

    def get_deployment_readiness(
        self, name: str, namespace: str | None = None, policy: ReadinessPolicy | None = None
    ) -> Verdict:
        """Judge Deployment ``name``: GET it, LIST its ReplicaSets and its pods."""
        return self.get_workload_readiness("Deployment", name, namespace, policy)

    def get_pod_readiness(
        self, name: str, namespace: str | None = None, policy: ReadinessPolicy | None = None
    ) -> Verdict:
        """Judge a single pod ``name`` by the pod rules."""
        return self.get_workload_readiness("Pod", name, namespace, policy)

    def get_workload_readiness(
        self,
        kind: str,
        name: str,
        namespace: str | None = None,
        policy: ReadinessPolicy | None = None,
    ) -> Verdict:
        """The one read-and-judge path behind the three ``get_*readiness`` methods.

        :raises KubernetesPermissionError: 401/403 on any read the rules need.
        :raises TransientKubernetesError: 429, 5xx, timeouts, dropped connections.
        """
        ns = self.resolve_namespace(namespace)
        policy = policy or ReadinessPolicy()
        clock = ServerClock()
        self.last_stats = ReadStats()
        getter, resource = self._getter(kind)
        try:
            workload = self._read(Request("get", resource, ns, name), clock, getter, name=name)
        except NotFoundError:
            return not_found_verdict(kind, name, ns)
        pods: list[Obj] = []
        replicasets: list[Obj] = []
        if kind != "Pod":
            selector = label_selector(workload)
            if kind == "Deployment":
                replicasets = self._list(
                    Request("list", "replicasets", ns),
                    clock,
                    self.apps_v1_client.list_namespaced_replica_set,
                    label_selector=selector,
                )
            pods = self._list(
                Request("list", "pods", ns),
                clock,
                self.core_v1_client.list_namespaced_pod,
                label_selector=selector,
            )
        verdict = evaluate(
            kind,
            workload,
            pods=pods,
            replicasets=replicasets,
            now=self._now(clock),
            policy=policy,
        )
        judged = [workload] if kind == "Pod" else pods
        uids = {
            str((obj.get("metadata") or {}).get("name")): (obj.get("metadata") or {}).get("uid")
            for obj in judged
        }
        return self._with_events(verdict, ns, uids)

    def get_conn(self) -> Any:
        """The cncf client, with what it authenticates with registered as secrets to mask."""
        api_client = super().get_conn()
        secrets = configuration_secrets(getattr(api_client, "configuration", None))
        secrets += kubeconfig_secrets(self._connection_kubeconfig())
        mask(secrets)
        return api_client

    def trigger_connection_kwargs(self) -> dict[str, Any]:
        """How the triggerer reaches the same cluster, without a single secret.

        Trigger arguments are stored in clear in Airflow's metadata DB, so the
        connection travels by id only and the triggerer resolves it itself. When the
        connection holds no cluster configuration, this hook fell back to in-cluster
        or to a kubeconfig file; the async hook tries neither by itself, so ship that
        choice: ``in_cluster=True``, or the file's *path* (``config_file``), which the
        triggerer must be able to read (the trigger says so clearly when it cannot).
        """
        configured = self.config_dict or any(
            self._get_field(key)  # type: ignore[no-untyped-call]
            for key in ("in_cluster", "kube_config", "kube_config_path")
        )
        if configured:
            return {}
        if self.is_in_cluster:
            return {"in_cluster": True}
        path = self.config_file or os.environ.get("KUBECONFIG", "")
        if path and os.pathsep not in path and os.path.isfile(path):
            return {"config_file": os.path.abspath(path)}
        return {}

    def _connection_kubeconfig(self) -> Any:
        """The connection's inline ``kube_config`` as a dict, for masking (never logged)."""
        value = self._get_field("kube_config")  # type: ignore[no-untyped-call]
        if isinstance(value, str):
            try:
                return yaml.safe_load(value)
            except yaml.YAMLError:
                return None
        return value

    # ------------------------------------------------------------------ internals

    def _getter(self, kind: str) -> tuple[Callable[..., Any], str]:
        if kind == "StatefulSet":
            return self.apps_v1_client.read_namespaced_stateful_set, "statefulsets"
        if kind == "Deployment":
            return self.apps_v1_client.read_namespaced_deployment, "deployments"
        if kind == "Pod":
            return self.core_v1_client.read_namespaced_pod, "pods"
        raise ValueError(f"unknown kind {kind!r}; expected StatefulSet, Deployment or Pod")

    def _now(self, clock: ServerClock) -> datetime:
        self.last_stats.server_time = clock.has_server_time
        if not clock.has_server_time and not self._warned_no_date:
            self._warned_no_date = True
            self.log.warning(
                "The Kubernetes API server sent no Date header; judging stability windows "
                "by this worker's clock, which may differ from the cluster's."
            )
        return clock.now()

    def _read(
        self, request: Request, clock: ServerClock, call: Callable[..., Any], **kwargs: Any
    ) -> Obj:
        """One request with a few quick retries of transient failures."""
        attempt = 0
        while True:
            try:
                return self._read_once(request, clock, call, kwargs)
            except TransientKubernetesError as exc:
                if attempt >= self.transient_retries:
                    raise
                attempt += 1
                delay = 0.25 * 2 ** (attempt - 1)
                self.log.info(
                    "%s; retrying in %.2fs (%d/%d)", exc, delay, attempt, self.transient_retries
                )
                time.sleep(delay)

    def _read_once(
        self, request: Request, clock: ServerClock, call: Callable[..., Any], kwargs: dict[str, Any]
    ) -> Obj:
        namespace = request.namespace
        self.last_stats.requests += 1
        try:
            response = call(
                namespace=namespace,
                _preload_content=False,
                _request_timeout=self.request_timeout,
                **kwargs,
            )
            try:
                data = response.data
            finally:
                response.release_conn()
        except ApiException as exc:
            raise error_for_status(
                request, exc.status or 0, exc.body, has_continue=bool(kwargs.get("_continue"))
            ) from exc
        except _NETWORK_ERRORS as exc:
            if _is_certificate_error(exc):
                raise tls_failure(request, exc) from exc
            raise transient(request, exc) from exc
        clock.observe(response.headers.get("Date"))
        return decode_object(request, data)

    def _list(
        self, request: Request, clock: ServerClock, call: Callable[..., Any], **kwargs: Any
    ) -> list[Obj]:
        """A paged LIST (``limit``/``continue``), restarted once if its token expires."""
        pager = Pager(limit=self.page_limit)
        while not pager.done:
            try:
                page = self._read(request, clock, call, **kwargs, **pager.params())
            except ContinueExpiredError as exc:
                self.log.info("%s; listing again from the first page", exc)
                pager.restart(exc)
                continue
            pager.add(page)
        self.last_stats.pages[request.resource] = pager.pages
        self.last_stats.items[request.resource] = len(pager.items)
        return pager.items

    def _with_events(self, verdict: Verdict, namespace: str, uids: Mapping[str, Any]) -> Verdict:
        """Add the newest Warning events of failing pods; reading them never fails a poke."""
        names = pods_needing_events(verdict)[:MAX_PODS_WITH_EVENTS]
        if not names:
            return verdict
        events: dict[str, Sequence[str]] = {}
        clock = ServerClock()
        for pod_name in names:
            request = Request("list", "events", namespace)
            try:
                page = self._read_once(
                    request,
                    clock,
                    self.core_v1_client.list_namespaced_event,
                    {"field_selector": event_field_selector(pod_name)},
                )
            except KubernetesApiCallError as exc:
                key = type(exc).__name__
                if key not in self._warned_events:
                    self._warned_events.add(key)
                    self.log.warning("Could not read events of failing pods: %s", exc)
                break
            lines = warning_event_lines(
                page.get("items") or (), pod_uid=uids.get(pod_name), limit=EVENTS_PER_POD
            )
            if lines:
                events[pod_name] = lines
        return verdict.with_pod_events(events) if events else verdict
