"""Deferrable mode: wait in the triggerer by watching the workload and its pods.

A poking sensor asks "ready yet?" every ``poke_interval``; the trigger instead
lists once and then follows watch streams (the workload by name, its pods by the
workload's selector, and for a Deployment its ReplicaSets), re-judging with the
very same rules on every batch of events. Nothing changes in the API when a pod
merely *becomes stable*, so the trigger also wakes up by itself when the first
stability window ends, and at least every ``check_interval`` to refresh the
server's clock (the ``Date`` header) and catch graces that ran out.

Resilience, as a long-lived client must have: a watch that ends is resumed from
the last resourceVersion seen (bookmarks included); 410 Gone means "relist";
429/5xx/timeouts/dropped connections restart the cycle with capped exponential
backoff; 401/403 end the wait with an ``error`` event naming the missing right.
It fires exactly one event:
``{"status": "success"|"failed"|"timeout"|"error", "verdict": {...}|None, "message": str}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, NamedTuple

import aiohttp
from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook
from airflow.triggers.base import BaseTrigger, TriggerEvent
from kubernetes_asyncio import client as async_client
from kubernetes_asyncio import config as async_config
from kubernetes_asyncio.client.exceptions import ApiException

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
    failure_message,
    label_selector,
    not_found_verdict,
    pods_needing_events,
    seconds_until_change,
    tls_failure,
    transient,
    warning_event_lines,
    where,
)
from airflow_sts_provider.hooks.credentials import amask, configuration_secrets
from airflow_sts_provider.readiness import ReadinessPolicy, State, Verdict

__all__ = [
    "DeploymentRunningTrigger",
    "PodRunningTrigger",
    "StatefulSetRunningTrigger",
    "WorkloadRunningTrigger",
    "trigger_for",
]

#: Server-side length of one watch request; the stream is resumed when it ends.
WATCH_SECONDS: Final = 240
#: Backoff after a transient error: first delay and cap, in seconds.
BACKOFF_FIRST: Final = 0.5
BACKOFF_CAP: Final = 30.0
#: How many failing pods get their events read before the ``failed`` event.
MAX_PODS_WITH_EVENTS: Final = 5

_NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


class _TriggerKubeHook(AsyncKubernetesHook):
    """The cncf async hook, plus what it does not do: ``disable_verify_ssl``, ``config_file``
    (apache/airflow#72301) and masking the credentials it loaded."""

    async def _load_config(self) -> None:
        if self.config_file and not self._config_loaded:
            await self._load_config_file(self.config_file)
        else:
            await super()._load_config()  # type: ignore[no-untyped-call]
        flag = await self._get_field("disable_verify_ssl")  # type: ignore[no-untyped-call]
        verify_off = flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")
        if verify_off and self.client_configuration is not None:
            self.client_configuration.verify_ssl = False
        await amask(configuration_secrets(self.client_configuration))

    async def _load_config_file(self, path: str) -> None:
        """The kubeconfig file the worker used, read where the triggerer runs."""
        if not os.path.isfile(path):
            raise KubernetesApiCallError(
                f"the worker reached the cluster through the kubeconfig file {path} (KUBECONFIG), "
                "which the triggerer cannot read; set kube_config or kube_config_path on the "
                f"connection {self.conn_id!r}, or make that file available to the triggerer",
                verb="get",
                resource="kubeconfig",
                namespace=None,
            )
        if self.client_configuration is None:
            self.client_configuration = async_client.Configuration()
        await async_config.load_kube_config(
            config_file=path,
            client_configuration=self.client_configuration,
            context=self.cluster_context or await self._get_field("cluster_context"),  # type: ignore[no-untyped-call]
        )
        self._config_loaded = True


class _WatchSpec(NamedTuple):
    """One watch to follow: the request, the list call, where to start, and its selector."""

    request: Request
    call: Callable[..., Any]
    resource_version: str | None
    selector: dict[str, Any]


class _RelistError(Exception):
    """A watch fell too far behind (410 Gone): list again and watch from the new version."""


@dataclass
class _Backoff:
    """Capped exponential backoff with jitter, reset after every successful cycle."""

    failures: int = 0

    def next(self) -> float:
        self.failures += 1
        wait = min(BACKOFF_CAP, BACKOFF_FIRST * 2.0 ** (self.failures - 1))
        return wait * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class _Objects:
    """The trigger's picture of the cluster, kept current by watch events."""

    workload: Obj | None = None
    pods: dict[str, Obj] = field(default_factory=dict)
    replicasets: dict[str, Obj] = field(default_factory=dict)

    def apply(self, resource: str, kind: str, obj: Obj) -> None:
        name = str((obj.get("metadata") or {}).get("name"))
        if resource == "workload":
            self.workload = None if kind == "DELETED" else obj
            return
        table = self.pods if resource == "pods" else self.replicasets
        if kind == "DELETED":
            table.pop(name, None)
        else:
            table[name] = obj


class _Api:
    """Raw-JSON reads and watches over kubernetes_asyncio, with the hook's error mapping."""

    def __init__(self, api_client: Any, clock: ServerClock) -> None:
        self.core = async_client.CoreV1Api(api_client)
        self.apps = async_client.AppsV1Api(api_client)
        self.clock = clock

    async def read(self, request: Request, call: Callable[..., Any], **kwargs: Any) -> Obj:
        response = await self._open(request, call, kwargs, REQUEST_TIMEOUT)
        try:
            data = await response.read()
        except _NETWORK_ERRORS as exc:
            raise transient(request, exc) from exc
        finally:
            response.release()
        return decode_object(request, data)

    async def list(
        self, request: Request, call: Callable[..., Any], **kwargs: Any
    ) -> tuple[list[Obj], str | None]:
        pager = Pager(limit=PAGE_LIMIT)
        while not pager.done:
            try:
                page = await self.read(request, call, **kwargs, **pager.params())
            except ContinueExpiredError as exc:
                pager.restart(exc)
                continue
            pager.add(page)
        return pager.items, pager.resource_version

    async def watch(
        self,
        request: Request,
        call: Callable[..., Any],
        resource_version: str | None,
        **kwargs: Any,
    ) -> AsyncIterator[Obj]:
        """Yield the raw watch events (``{"type", "object"}``) of one watch request."""
        params = {
            "watch": True,
            "allow_watch_bookmarks": True,
            "timeout_seconds": WATCH_SECONDS,
            **kwargs,
        }
        if resource_version:
            params["resource_version"] = resource_version
        timeout = (REQUEST_TIMEOUT[0], WATCH_SECONDS + REQUEST_TIMEOUT[1])
        response = await self._open(request, call, params, timeout)
        buffer = b""
        try:
            async for chunk in response.content.iter_any():
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield decode_object(request, line)
        except _NETWORK_ERRORS as exc:
            raise transient(request, exc) from exc
        finally:
            response.release()

    async def _open(
        self,
        request: Request,
        call: Callable[..., Any],
        kwargs: Mapping[str, Any],
        timeout: tuple[float, float],
    ) -> Any:
        try:
            response = await call(
                namespace=request.namespace,
                _preload_content=False,
                _request_timeout=timeout,
                **kwargs,
            )
        except ApiException as exc:
            raise error_for_status(request, exc.status or 0, exc.body) from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise tls_failure(request, exc) from exc
        except _NETWORK_ERRORS as exc:
            raise transient(request, exc) from exc
        self.clock.observe(response.headers.get("Date"))
        if response.status >= 300:
            try:
                body = await response.read()
            except _NETWORK_ERRORS:
                body = b""
            finally:
                response.release()
            raise error_for_status(
                request, response.status, body, has_continue=bool(kwargs.get("_continue"))
            )
        return response


class WorkloadRunningTrigger(BaseTrigger):
    """Fire once when a workload is READY, FAILED (with ``fail_fast``), or the deadline passes.

    :param name: the workload's name.
    :param namespace: its namespace (resolved by the sensor).
    :param kubernetes_conn_id: the ``kubernetes`` connection.
    :param in_cluster: the worker reached the API in-cluster with no configuration.
    :param config_file: path of the kubeconfig file the worker used when the connection
        holds no configuration (the triggerer reads it there; never its contents).
    :param connection_extras: deprecated, for triggers deferred by 0.1: extras in clear.
        Never sent any more; the triggerer resolves ``kubernetes_conn_id`` itself.
    :param config_dict: deprecated likewise (a kubeconfig in clear in the metadata DB).
    :param cluster_context: kubeconfig context to use.
    :param policy: :class:`ReadinessPolicy` fields as a dict.
    :param fail_fast: fire ``failed`` on a FAILED verdict (else keep waiting).
    :param check_interval: longest sleep between two judgements without events.
    :param deadline: epoch seconds after which the trigger fires ``timeout``.
    """

    kind: ClassVar[str] = "StatefulSet"

    def __init__(
        self,
        *,
        name: str,
        namespace: str,
        kubernetes_conn_id: str | None = "kubernetes_default",
        in_cluster: bool | None = None,
        config_file: str | None = None,
        connection_extras: dict[str, Any] | None = None,
        config_dict: dict[str, Any] | None = None,
        cluster_context: str | None = None,
        policy: dict[str, Any] | None = None,
        fail_fast: bool = True,
        check_interval: float = 30.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.name = name
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.connection_extras = connection_extras
        self.config_dict = config_dict
        self.in_cluster = in_cluster
        self.config_file = config_file
        self.cluster_context = cluster_context
        self.policy = dict(policy or {})
        self.fail_fast = fail_fast
        self.check_interval = max(float(check_interval), 0.1)
        self.deadline = deadline
        self._readiness_policy = ReadinessPolicy(**self.policy)
        self._last: Verdict | None = None
        self._logged: tuple[Any, ...] | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Everything needed to rebuild this trigger in the triggerer: no credentials.

        Airflow stores these arguments in clear in its metadata DB; the connection
        goes by id. The deprecated ``connection_extras``/``config_dict`` are kept only
        for a trigger that was deferred with them, so it survives a triggerer restart.
        """
        kwargs: dict[str, Any] = {
            "name": self.name,
            "namespace": self.namespace,
            "kubernetes_conn_id": self.kubernetes_conn_id,
            "in_cluster": self.in_cluster,
            "config_file": self.config_file,
            "cluster_context": self.cluster_context,
            "policy": self.policy,
            "fail_fast": self.fail_fast,
            "check_interval": self.check_interval,
            "deadline": self.deadline,
        }
        for legacy in ("connection_extras", "config_dict"):
            if getattr(self, legacy) is not None:
                kwargs[legacy] = getattr(self, legacy)
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def _hook(self) -> AsyncKubernetesHook:
        return _TriggerKubeHook(
            conn_id=self.kubernetes_conn_id,
            in_cluster=self.in_cluster,
            config_file=self.config_file,
            config_dict=self.config_dict,
            cluster_context=self.cluster_context,
            connection_extras=self.connection_extras,
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Watch and judge until there is an answer; yield it as the one event."""
        yield TriggerEvent(await self._wait())  # type: ignore[no-untyped-call]

    async def _wait(self) -> dict[str, Any]:
        hook = self._hook()
        backoff = _Backoff()
        while True:
            try:
                async with hook.get_conn() as api_client:
                    result = await self._cycle(_Api(api_client, ServerClock()), backoff)
                if result is not None:
                    return result
            except KubernetesPermissionError as exc:
                return self._event("error", str(exc))
            except _RelistError as exc:
                self.log.info("Watch fell behind (%s); listing again", exc)
                await asyncio.sleep(self._bounded(backoff.next()))
            except TransientKubernetesError as exc:
                delay = self._bounded(backoff.next())
                self.log.warning("Kubernetes API unavailable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
            except KubernetesApiCallError as exc:
                return self._event("error", str(exc))
            if self._past_deadline():
                return self._timeout_event()

    # ------------------------------------------------------------------ one cycle

    async def _cycle(self, api: _Api, backoff: _Backoff) -> dict[str, Any] | None:
        """List, then watch and judge until decided (an event dict) or the watch must restart."""
        objects = _Objects()
        watches = await self._list(api, objects)
        backoff.reset()
        if objects.workload is None and self.kind != "Pod":
            self._remember(not_found_verdict(self.kind, self.name, self.namespace))
            if self._past_deadline():
                return self._timeout_event()
            await asyncio.sleep(self._bounded(self.check_interval))
            return None
        queue: asyncio.Queue[tuple[str, str, Obj] | BaseException] = asyncio.Queue()
        tasks = [
            asyncio.create_task(self._follow(api, resource, start, queue))
            for resource, start in watches.items()
        ]
        try:
            while True:
                verdict = self._judge(api, objects)
                if verdict.state is State.READY:
                    return self._event("success", f"{verdict.kind} {where(verdict)} is ready")
                if verdict.state is State.FAILED and self.fail_fast:
                    verdict = await self._with_events(api, verdict, objects)
                    self._remember(verdict)
                    return self._event("failed", failure_message(verdict))
                if self._past_deadline():
                    return self._timeout_event()
                wait = self._next_wake(api, verdict)
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=wait)
                except TimeoutError:
                    await self._refresh(api, objects)
                    continue
                while True:
                    if isinstance(item, BaseException):
                        raise item
                    objects.apply(*item)
                    if queue.empty():
                        break
                    item = queue.get_nowait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _list(self, api: _Api, objects: _Objects) -> dict[str, _WatchSpec]:
        """Initial state; returns what to watch, each from the version its list was taken at."""
        ns = self.namespace
        if self.kind == "Pod":
            request = Request("list", "pods", ns)
            selector = {"field_selector": f"metadata.name={self.name}"}
            items, rv = await api.list(request, api.core.list_namespaced_pod, **selector)
            objects.workload = items[0] if items else None
            return {
                "workload": _WatchSpec(
                    Request("watch", "pods", ns), api.core.list_namespaced_pod, rv, selector
                )
            }
        getter, lister, resource = self._workload_calls(api)
        try:
            objects.workload = await api.read(
                Request("get", resource, ns, self.name), getter, name=self.name
            )
        except NotFoundError:
            objects.workload = None
            return {}
        selector = {"label_selector": label_selector(objects.workload)}
        pods, rv = await api.list(
            Request("list", "pods", ns), api.core.list_namespaced_pod, **selector
        )
        objects.pods = {str(p["metadata"]["name"]): p for p in pods}
        watches: dict[str, _WatchSpec] = {
            "workload": _WatchSpec(
                Request("watch", resource, ns),
                lister,
                rv,
                {"field_selector": f"metadata.name={self.name}"},
            ),
            "pods": _WatchSpec(
                Request("watch", "pods", ns), api.core.list_namespaced_pod, rv, selector
            ),
        }
        if self.kind == "Deployment":
            replicasets, rs_rv = await api.list(
                Request("list", "replicasets", ns), api.apps.list_namespaced_replica_set, **selector
            )
            objects.replicasets = {str(r["metadata"]["name"]): r for r in replicasets}
            watches["replicasets"] = _WatchSpec(
                Request("watch", "replicasets", ns),
                api.apps.list_namespaced_replica_set,
                rs_rv,
                selector,
            )
        return watches

    def _workload_calls(self, api: _Api) -> tuple[Any, Any, str]:
        if self.kind == "StatefulSet":
            return (
                api.apps.read_namespaced_stateful_set,
                api.apps.list_namespaced_stateful_set,
                "statefulsets",
            )
        if self.kind == "Deployment":
            return (
                api.apps.read_namespaced_deployment,
                api.apps.list_namespaced_deployment,
                "deployments",
            )
        raise ValueError(f"unknown kind {self.kind!r}")

    async def _follow(
        self,
        api: _Api,
        resource: str,
        start: _WatchSpec,
        queue: asyncio.Queue[tuple[str, str, Obj] | BaseException],
    ) -> None:
        """Follow one watch, resuming from the last version seen; errors go to ``queue``."""
        request, call, resource_version, kwargs = start
        try:
            while True:
                async for event in api.watch(request, call, resource_version, **kwargs):
                    kind = str(event.get("type") or "")
                    obj = event.get("object") or {}
                    if kind == "ERROR":
                        code = obj.get("code")
                        if code == 410:
                            raise _RelistError(
                                f"watch {request.target}: {obj.get('message', '410 Gone')}"
                            )
                        raise error_for_status(request, int(code or 500), json.dumps(obj))
                    version = (obj.get("metadata") or {}).get("resourceVersion")
                    if version:
                        resource_version = version
                    if kind in ("ADDED", "MODIFIED", "DELETED"):
                        await queue.put((resource, kind, obj))
        except asyncio.CancelledError:
            raise
        except TransientKubernetesError as exc:
            if exc.status == 410:
                await queue.put(_RelistError(str(exc)))
            else:
                await queue.put(exc)
        except BaseException as exc:  # handed to the cycle, which re-raises it
            await queue.put(exc)

    async def _refresh(self, api: _Api, objects: _Objects) -> None:
        """Re-read the workload: a fresh ``Date`` for the clock, and a safety net for the watch."""
        ns = self.namespace
        if self.kind == "Pod":
            call, resource = api.core.read_namespaced_pod, "pods"
        else:
            call, _, resource = self._workload_calls(api)
        try:
            objects.workload = await api.read(
                Request("get", resource, ns, self.name), call, name=self.name
            )
        except NotFoundError:
            objects.workload = None

    # ------------------------------------------------------------------ judging

    def _judge(self, api: _Api, objects: _Objects) -> Verdict:
        if objects.workload is None:
            verdict = not_found_verdict(self.kind, self.name, self.namespace)
        else:
            verdict = evaluate(
                self.kind,
                objects.workload,
                pods=list(objects.pods.values()),
                replicasets=list(objects.replicasets.values()),
                now=api.clock.now(),
                policy=self._readiness_policy,
            )
        self._remember(verdict)
        return verdict

    def _remember(self, verdict: Verdict) -> None:
        self._last = verdict
        key = (verdict.state, verdict.ready, verdict.desired, verdict.revision)
        if key != self._logged:
            self._logged = key
            self.log.info(
                "%s %s: %s, %d/%d ready, revision %s: %s",
                verdict.kind,
                where(verdict),
                verdict.state.value.upper(),
                verdict.ready,
                verdict.desired,
                verdict.revision or "-",
                verdict.reason,
            )

    def _next_wake(self, api: _Api, verdict: Verdict) -> float:
        wait = self.check_interval
        until = seconds_until_change(verdict, self._readiness_policy, api.clock.now())
        if until is not None:
            wait = min(wait, until + 0.05)
        return self._bounded(wait)

    async def _with_events(self, api: _Api, verdict: Verdict, objects: _Objects) -> Verdict:
        owners = (
            [objects.workload] if self.kind == "Pod" and objects.workload else objects.pods.values()
        )
        uids = {str(o["metadata"].get("name")): o["metadata"].get("uid") for o in owners}
        events: dict[str, list[str]] = {}
        for pod_name in pods_needing_events(verdict)[:MAX_PODS_WITH_EVENTS]:
            try:
                page = await api.read(
                    Request("list", "events", self.namespace),
                    api.core.list_namespaced_event,
                    field_selector=event_field_selector(pod_name),
                )
            except KubernetesApiCallError as exc:
                self.log.warning("Could not read events of failing pods: %s", exc)
                break
            lines = warning_event_lines(
                page.get("items") or (), pod_uid=uids.get(pod_name), limit=EVENTS_PER_POD
            )
            if lines:
                events[pod_name] = lines
        return verdict.with_pod_events(events) if events else verdict

    # ------------------------------------------------------------------ deadline and events

    def _past_deadline(self) -> bool:
        return self.deadline is not None and time.time() >= self.deadline

    def _bounded(self, seconds: float) -> float:
        """Never sleep past the deadline."""
        if self.deadline is None:
            return max(seconds, 0.0)
        return max(0.0, min(seconds, self.deadline - time.time()))

    def _timeout_event(self) -> dict[str, Any]:
        last = self._last
        state = last.state.value.upper() if last else "UNKNOWN"
        reason = last.reason if last else "no answer from the Kubernetes API"
        where_ = f"{self.kind} {self.namespace}/{self.name}"
        return self._event("timeout", f"Sensor has timed out: {where_} still {state}: {reason}")

    def _event(self, status: str, message: str) -> dict[str, Any]:
        return {
            "status": status,
            "verdict": self._last.to_dict() if self._last else None,
            "message": message,
        }


class StatefulSetRunningTrigger(WorkloadRunningTrigger):
    """Watch a StatefulSet and its pods until it is really running (or broken)."""

    kind = "StatefulSet"


class DeploymentRunningTrigger(WorkloadRunningTrigger):
    """Watch a Deployment, its ReplicaSets and its pods until it is really running (or broken)."""

    kind = "Deployment"


class PodRunningTrigger(WorkloadRunningTrigger):
    """Watch one pod until it is Running, Ready and stable (or broken)."""

    kind = "Pod"


_TRIGGERS: Final[dict[str, type[WorkloadRunningTrigger]]] = {
    "StatefulSet": StatefulSetRunningTrigger,
    "Deployment": DeploymentRunningTrigger,
    "Pod": PodRunningTrigger,
}


def trigger_for(kind: str, **kwargs: Any) -> WorkloadRunningTrigger:
    """The trigger class for ``kind``, built with ``kwargs``."""
    try:
        cls = _TRIGGERS[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(_TRIGGERS)}") from None
    return cls(**kwargs)
