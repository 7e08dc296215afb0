"""The hooks: every API read the provider makes, sync and async side by side.

Like the cncf provider's ``KubernetesHook`` and ``AsyncKubernetesHook`` (which these
extend, so every option of the ``kubernetes`` connection works and no connection
type is registered twice), :class:`WorkloadHook` serves the sensors' pokes and
:class:`AsyncWorkloadHook` the triggers. What one poke or one watch cycle reads is
written once in :mod:`~airflow_sts_provider.hooks.reads`; what a status means in
:mod:`~airflow_sts_provider.hooks.wire`; when to retry in
:mod:`~airflow_sts_provider.hooks.retry`. The hooks only move bytes: one request
per resource path (the kinds table gives group, version and plural), bodies read
as raw JSON (``_preload_content=False``: model objects cost ~9x the parse), "now"
from the API server's ``Date`` header.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Final

import aiohttp
import urllib3.exceptions
import yaml
from airflow.providers.cncf.kubernetes.hooks.kubernetes import (
    AsyncKubernetesHook,
    KubernetesHook,
)
from kubernetes.client.exceptions import ApiException
from kubernetes_asyncio import client as async_client
from kubernetes_asyncio import config as async_config
from kubernetes_asyncio.client.exceptions import ApiException as AsyncApiException

from airflow_sts_provider.exceptions import (
    KubernetesApiCallError,
    NotFoundError,
    TransientKubernetesError,
)
from airflow_sts_provider.hooks.clock import ServerClock, server_clock
from airflow_sts_provider.hooks.connection import explain_connection_error
from airflow_sts_provider.hooks.credentials import (
    amask,
    configuration_secrets,
    kubeconfig_secrets,
    mask,
)
from airflow_sts_provider.hooks.decode import decode_body, peek_continue
from airflow_sts_provider.hooks.follow import (
    Change,
    Expiries,
    Listed,
    Stale,
    WatchExpiredError,
    change_of,
)
from airflow_sts_provider.hooks.paging import PAGE_LIMIT, next_page_params
from airflow_sts_provider.hooks.reads import (
    Listing,
    Picture,
    Plan,
    Read,
    Watch,
    absence_plan,
    arun_plan,
    clock_plan,
    discovery_plan,
    events_plan,
    list_plan,
    no_match_plan,
    poke_plan,
    request_for,
    run_plan,
    watch_plan,
    workloads_plan,
)
from airflow_sts_provider.hooks.retry import DEFAULT_RETRY, RetryPolicy
from airflow_sts_provider.hooks.stamps import carry_stamps, sharpen_body, sharpen_stamps
from airflow_sts_provider.hooks.wire import (
    JsonObject,
    Request,
    decode_object,
    error_for_status,
    tls_failure,
    transient,
)
from airflow_sts_provider.kinds import (
    WORKLOAD_KINDS,
    ApiResource,
    Kind,
    ResourceSpec,
    kind_of,
    resource_kind,
)
from airflow_sts_provider.names import check_api_version, check_kind, check_name, check_namespace
from airflow_sts_provider.readiness import ReadinessPolicy, Verdict
from airflow_sts_provider.workloads import WorkloadsVerdict, combine

__all__ = ["AsyncWorkloadHook", "ReadStats", "WorkloadHook"]

#: (connect, read) seconds for one plain request; a hung API server must not hang a worker.
REQUEST_TIMEOUT: Final = (10.0, 30.0)
#: The fix for a bad namespace given to the async hook, whose namespace is required.
_NAMESPACE_FIX: Final = "e.g. namespace='default'"
#: Bytes of a body the async hook decodes on the event loop (~2 ms); bigger, in a thread.
DECODE_ON_THE_LOOP: Final = 256 * 1024
log = logging.getLogger(__name__)

#: Server-side length of one watch request; the stream is resumed when it ends.
WATCH_SECONDS: Final = 240
_HEADERS: Final = {"Accept": "application/json"}
_AUTH: Final = ["BearerToken"]
_SYNC_NETWORK_ERRORS = (urllib3.exceptions.HTTPError, OSError)
_ASYNC_NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


def _is_certificate_error(exc: BaseException) -> bool:
    """urllib3 raises SSLError, or wraps it in MaxRetryError(SSLError(...)) when it retries."""
    reason = getattr(exc, "reason", None)
    for candidate in (exc, reason, getattr(reason, "__cause__", None)):
        if isinstance(candidate, ssl.SSLCertVerificationError):
            return True
        if isinstance(candidate, urllib3.exceptions.SSLError) and (
            "CERTIFICATE_VERIFY_FAILED" in str(candidate)
        ):
            return True
    return False


def _network_failure(request: Request, exc: BaseException) -> KubernetesApiCallError:
    """An untrusted certificate is a configuration error; any other network failure a blip."""
    if _is_certificate_error(exc) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return tls_failure(request, exc)
    reason = getattr(exc, "reason", None)  # MaxRetryError: say what actually went wrong
    return transient(request, reason if isinstance(reason, BaseException) else exc)


def _header(headers: Any, name: str) -> str | None:
    """One header of an error answer (the clients hand a dict, HTTPHeaderDict or None)."""
    try:
        value = headers.get(name) if headers is not None else None
    except AttributeError:
        return None
    return value if isinstance(value, str) else None


def _truthy(flag: Any) -> bool:
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true")


@dataclass
class ReadStats:
    """What the last ``get_*readiness`` call cost: for logs, benchmarks and paging tests."""

    requests: int = 0
    pages: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    server_time: bool = False
    #: The "now" the verdict was judged at: the API server's, when it sent a Date.
    now: datetime | None = None


class _Settings:
    """What both hooks share: page size, timeout, retry policy, warn-once bookkeeping."""

    def __init__(
        self,
        *args: Any,
        request_timeout: tuple[float, float] = REQUEST_TIMEOUT,
        page_limit: int = PAGE_LIMIT,
        transient_retries: int = DEFAULT_RETRY.retries,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if page_limit < 1:
            raise ValueError(f"page_limit must be >= 1, got {page_limit}")
        self.request_timeout = request_timeout
        self.page_limit = page_limit
        self.retry = RetryPolicy(retries=transient_retries)
        self._warned: set[str] = set()
        self._discovered: dict[tuple[str, str], ApiResource] = {}

    @property
    def transient_retries(self) -> int:
        """Immediate retries of one request after a transient error."""
        return self.retry.retries

    @transient_retries.setter
    def transient_retries(self, value: int) -> None:
        self.retry = RetryPolicy(retries=value, first=self.retry.first, cap=self.retry.cap)

    def _warn_once(self, exc: KubernetesApiCallError) -> None:
        key = type(exc).__name__
        if key not in self._warned:
            self._warned.add(key)
            self.log.warning("Could not read events of failing pods: %s", exc)  # type: ignore[attr-defined]


class WorkloadHook(_Settings, KubernetesHook):
    """Answers "is this workload really running?" with a ``Verdict``, one poke at a time.

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
    hook_name = "Kubernetes workload readiness"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._warned_no_date = False
        self.last_stats = ReadStats()
        self._stats_lock = threading.Lock()

    # ------------------------------------------------------------------ public API

    def resolve_namespace(self, namespace: str | None = None) -> str:
        """The argument, else the connection's ``namespace`` extra, else ``default``.

        :raises ValueError: it cannot be a namespace's name (it would go into the URL).
        """
        if namespace:
            check_namespace(namespace)
            return namespace
        resolved = self.get_namespace() or self.DEFAULT_NAMESPACE
        source = f" (the namespace extra of connection {self.conn_id!r})"
        check_namespace(resolved, source=source, fix="or remove that extra to use 'default'")
        return resolved

    def get_workload_readiness(
        self,
        kind: str | Kind,
        name: str,
        namespace: str | None = None,
        policy: ReadinessPolicy | None = None,
    ) -> Verdict:
        """GET the workload, LIST what its kind reads by its selector, judge, add events.

        :raises KubernetesPermissionError: 401/403 on any read the rules need.
        :raises TransientKubernetesError: 429, 5xx, timeouts, dropped connections.
        :raises ValueError: ``name`` or ``namespace`` cannot be a Kubernetes name; nothing is sent.
        """
        spec = kind_of(kind)
        check_name(spec.name, name, max_length=spec.max_name_length)
        self.api_client  # noqa: B018 - the connection first: its mistakes get one clear line
        clock = ServerClock()
        self.last_stats = ReadStats()

        def answer(step: Read) -> Any:
            return self._answer(step, clock)

        policy = policy or ReadinessPolicy()
        picture = run_plan(poke_plan(spec, name, self.resolve_namespace(namespace), policy), answer)
        verdict = picture.judge(self._now(clock), policy)
        return run_plan(events_plan(verdict, picture, self._warn_once), answer)

    def resolve_kind(self, spec: ResourceSpec) -> Kind:
        """The row for a custom resource; its plural from API discovery, cached per hook.

        :raises UnservedKindError: the cluster does not serve ``spec.kind`` in its group.
        """
        check_api_version(spec.api_version)
        check_kind(spec.kind)
        key = (spec.api_version, spec.kind)
        if key not in self._discovered:
            clock = ServerClock()
            plan = discovery_plan(spec.api_version, spec.kind)
            self._discovered[key] = run_plan(plan, lambda step: self._answer(step, clock))
        return resource_kind(self._discovered[key], spec)

    def get_workloads_readiness(
        self,
        label_selector: str,
        kinds: Sequence[str] = WORKLOAD_KINDS,
        namespace: str | None = None,
        policy: ReadinessPolicy | None = None,
    ) -> WorkloadsVerdict:
        """Every workload of ``kinds`` matching ``label_selector``, each judged by its rules."""
        rows = [kind_of(kind) for kind in kinds]
        self.api_client  # noqa: B018 - the connection first: its mistakes get one clear line
        ns = self.resolve_namespace(namespace)
        clock = ServerClock()
        self.last_stats = ReadStats()

        def answer(step: Read) -> Any:
            return self._answer(step, clock)

        rules = policy or ReadinessPolicy()
        pictures = run_plan(workloads_plan(rows, label_selector, ns, rules), answer)
        now = self._now(clock)
        verdicts = [
            run_plan(events_plan(p.judge(now, rules), p, self._warn_once), answer) for p in pictures
        ]
        return combine(label_selector, ns, verdicts)

    def explain_absence(self, kind: str | Kind, name: str, namespace: str | None = None) -> str:
        """Why ``name`` is not found: a namespace that does not exist, or the closest names."""
        row = kind_of(kind)
        check_name(row.name, name, max_length=row.max_name_length)
        clock = ServerClock()
        plan = absence_plan(row, name, self.resolve_namespace(namespace))
        return run_plan(plan, lambda step: self._answer(step, clock))

    def explain_no_match(
        self, label_selector: str, kinds: Sequence[str], namespace: str | None = None
    ) -> str:
        """Why a release's selector matches nothing: the namespace, or the closest labels."""
        clock = ServerClock()
        rows = [kind_of(kind) for kind in kinds]
        plan = no_match_plan(rows, label_selector, self.resolve_namespace(namespace))
        return run_plan(plan, lambda step: self._answer(step, clock))

    @property
    def server(self) -> str:
        """The API server's URL this hook talks to (never a credential): for the logs."""
        return str(getattr(self.api_client.configuration, "host", "") or "?")

    @cached_property
    def api_client(self) -> Any:
        """The client, or one line naming the connection, the field and the fix."""
        try:
            return self.get_conn()
        except Exception as exc:
            raise explain_connection_error(self.conn_id, self._fields(), exc) from exc

    def _fields(self) -> dict[str, Any]:
        try:
            return {key: self._get_field(key) for key in ("kube_config_path", "kube_config")}  # type: ignore[no-untyped-call]
        except Exception:  # an unknown connection id: nothing to read
            return {}

    def get_conn(self) -> Any:
        """The cncf client, secrets masked, and urllib3's own retries off.

        urllib3 retries a refused connection three times, each with a warning line, on
        top of the hook's retry policy: an unreachable API server logged ~13 lines per
        poke. With them off, :class:`RetryPolicy` is the only one and a poke says once
        that the API is unavailable.
        """
        api_client = super().get_conn()
        pool = getattr(getattr(api_client, "rest_client", None), "pool_manager", None)
        if pool is not None:
            # Retry(0): fail at the first error, still wrapped in MaxRetryError, which the
            # client passes through (a bare SSLError it turns into a body-less ApiException).
            pool.connection_pool_kw["retries"] = urllib3.Retry(total=0, raise_on_status=False)
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

    # ------------------------------------------------------------------ internals

    def _connection_kubeconfig(self) -> Any:
        """The connection's inline ``kube_config`` as a dict, for masking (never logged)."""
        return _as_kubeconfig(self._get_field("kube_config"))  # type: ignore[no-untyped-call]

    def _now(self, clock: ServerClock) -> datetime:
        self.last_stats.server_time = clock.has_server_time
        if not clock.has_server_time and not self._warned_no_date:
            self._warned_no_date = True
            self.log.warning(
                "The Kubernetes API server sent no Date header; judging stability windows "
                "by this worker's clock, which may differ from the cluster's."
            )
        self.last_stats.now = clock.now()
        return self.last_stats.now

    def _answer(self, step: Read, clock: ServerClock) -> JsonObject | Listing:
        if not step.paged:
            return self._get(step.request, step.params, clock)
        pages = _SyncPages(self, clock)
        try:
            listing = run_plan(list_plan(step, self.page_limit, clock.now), pages.page)
        finally:
            pages.close()
        self.last_stats.pages[step.request.resource] = listing.pages
        self.last_stats.items[step.request.resource] = listing.count
        return listing

    def _get(
        self,
        request: Request,
        params: Mapping[str, Any],
        clock: ServerClock,
        *,
        first: Future[bytes] | None = None,
        on_bytes: Callable[[bytes], object] | None = None,
    ) -> JsonObject:
        """One request, retried in place after a transient error by the one retry policy.

        A body that cannot be decoded is transient too, so it is fetched again.
        ``first`` is the first attempt's bytes when they were requested ahead;
        ``on_bytes`` sees the bytes before they are decoded (to start the next page).
        """
        attempt = 0
        while True:
            try:
                data = (
                    first.result() if first is not None else self._get_once(request, params, clock)
                )
                first = None
                if on_bytes is not None:
                    on_bytes(data)
                return _decode(request, data, clock.upper())
            except TransientKubernetesError as exc:
                first = None
                attempt += 1
                if attempt > self.retry.retries:
                    raise
                delay = self.retry.delay(attempt, exc.retry_after)
                self.log.debug(
                    "%s; retrying in %.2fs (%d/%d)", exc, delay, attempt, self.retry.retries
                )
                time.sleep(delay)

    def _get_once(self, request: Request, params: Mapping[str, Any], clock: ServerClock) -> bytes:
        """One GET, its body as bytes; any thread (the next page is fetched beside a decode)."""
        with self._stats_lock:
            self.last_stats.requests += 1
        sent = time.monotonic()
        try:
            response = self.api_client.call_api(
                request.path,
                "GET",
                query_params=list(params.items()),
                header_params=dict(_HEADERS),
                auth_settings=_AUTH,
                _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=self.request_timeout,
            )
            try:
                data = response.data
            finally:
                response.release_conn()
        except ApiException as exc:
            if not exc.status:  # the client wraps an SSLError it caught itself in status 0
                raise _network_failure(request, exc) from exc
            clock.observe(_header(exc.headers, "Date"), sent)  # a 404 carries the time too
            raise error_for_status(
                request,
                exc.status,
                exc.body,
                has_continue="continue" in params,
                headers=exc.headers,
            ) from exc
        except _SYNC_NETWORK_ERRORS as exc:
            raise _network_failure(request, exc) from exc
        clock.observe(response.headers.get("Date"), sent)
        return bytes(data)


class _SyncPages:
    """The pages of one paged LIST, each next one requested while this one is decoded.

    The next page's ``continue`` token is read from this page's first bytes
    (:func:`peek_continue`), its request started on a worker thread (which waits on
    the socket, not the GIL), and this page decoded meanwhile. The plan still says
    what is read: a prefetched page is used only when the plan asks for exactly it.
    """

    def __init__(self, hook: WorkloadHook, clock: ServerClock) -> None:
        self.hook, self.clock = hook, clock
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: tuple[dict[str, Any], Future[bytes]] | None = None

    def page(self, read: Read) -> JsonObject:
        def start_next(data: bytes) -> None:
            self._start(read, data)

        first = self._take(read.params)
        return self.hook._get(
            read.request, read.params, self.clock, first=first, on_bytes=start_next
        )

    def _take(self, params: Mapping[str, Any]) -> Future[bytes] | None:
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return None
        if ahead[0] == dict(params):
            return ahead[1]
        ahead[1].cancel()  # the plan asked for another page (a restart): not this one
        return None

    def _start(self, read: Read, data: bytes) -> None:
        token = peek_continue(data)
        if token is None:
            return
        params = next_page_params(read.params, token)
        if self._ahead is not None and self._ahead[0] == params:
            return  # this page was fetched again after a bad body: its next one is on its way
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sts-page")
        running = threading.Event()

        def fetch() -> bytes:
            running.set()
            return self.hook._get_once(read.request, params, self.clock)

        self._ahead = (params, self._pool.submit(fetch))
        # The decode that follows is one C call holding the GIL, and the judging after
        # it gives the GIL up only every switch interval (5 ms): a request merely
        # submitted went out that late, page after page (5,000 pods: +50 ms a poke).
        # Waiting until the fetch runs hands it the GIL, which it keeps until its
        # socket blocks: the request is on the wire when the decode starts.
        running.wait(1.0)  # bounded: a pool that cannot start a thread only loses the overlap

    def close(self) -> None:
        """A page fetched ahead that the plan never asked for is dropped."""
        if self._ahead is not None:
            self._ahead[1].cancel()
            self._ahead = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class AsyncWorkloadHook(_Settings, AsyncKubernetesHook):
    """The triggers' reads: the same plans and policies as :class:`WorkloadHook`, plus watches.

    Adds to the cncf async hook what it does not do: the connection's
    ``disable_verify_ssl``, a ``config_file`` (apache/airflow#72301), and masking
    the credentials it loaded. Use inside ``async with hook.session() as api:``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = ServerClock()
        self._client: Any = None

    # ------------------------------------------------------------------ configuration

    async def _load_config(self) -> None:
        if self.config_file and not self._config_loaded:
            await self._load_config_file(self.config_file)
        else:
            await super()._load_config()  # type: ignore[no-untyped-call]
        flag = await self._get_field("disable_verify_ssl")  # type: ignore[no-untyped-call]
        if _truthy(flag) and self.client_configuration is not None:
            self.client_configuration.verify_ssl = False
        secrets = configuration_secrets(self.client_configuration)
        inline = await self._get_field("kube_config")  # type: ignore[no-untyped-call]
        secrets += kubeconfig_secrets(_as_kubeconfig(inline))  # its client key, as a worker
        await amask(secrets)

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
        context = self.cluster_context or await self._get_field("cluster_context")  # type: ignore[no-untyped-call]
        await async_config.load_kube_config(
            config_file=path, client_configuration=self.client_configuration, context=context
        )
        self._config_loaded = True

    # ------------------------------------------------------------------ reads

    async def read_picture(
        self, kind: str | Kind, name: str, namespace: str
    ) -> tuple[Picture, list[Watch]]:
        """A watch cycle's starting point: everything listed, and what to watch from where."""
        row = kind_of(kind)
        check_name(row.name, name, max_length=row.max_name_length)
        check_namespace(namespace, fix=_NAMESPACE_FIX)
        return await arun_plan(watch_plan(row, name, namespace), self._answer)

    async def read_workload(self, picture: Picture) -> None:
        """Re-read the workload by name: a fresh ``Date`` for the clock, a net under the watch."""
        request = request_for("get", picture.kind.resource, picture.namespace, picture.name)
        try:
            fresh = await self._get(request, {})
        except NotFoundError:
            picture.workload = None
            return
        carry_stamps(picture.workload, fresh)
        picture.workload = fresh

    async def read_clock(self) -> None:
        """One ``GET /version``: a ``Date`` for the clock (:meth:`ServerClock.tune`)."""
        await arun_plan(clock_plan(), self._answer)

    def clock_probe(self) -> Callable[[], Awaitable[object]] | None:
        """The read that tunes :attr:`clock`, while a session is open."""
        return self.read_clock if self._client is not None else None

    async def resolve_kind(self, spec: ResourceSpec) -> Kind:
        """:meth:`WorkloadHook.resolve_kind` for the triggers (discovery cached per hook)."""
        check_api_version(spec.api_version)
        check_kind(spec.kind)
        key = (spec.api_version, spec.kind)
        if key not in self._discovered:
            plan = discovery_plan(spec.api_version, spec.kind)
            self._discovered[key] = await arun_plan(plan, self._answer)
        return resource_kind(self._discovered[key], spec)

    async def read_workloads(
        self, label_selector: str, kinds: Sequence[str], namespace: str
    ) -> list[Picture]:
        """Every workload of ``kinds`` matching ``label_selector``, with what each kind reads."""
        check_namespace(namespace, fix=_NAMESPACE_FIX)
        plan = workloads_plan([kind_of(kind) for kind in kinds], label_selector, namespace)
        return await arun_plan(plan, self._answer)

    async def explain_absence(self, kind: str | Kind, name: str, namespace: str) -> str:
        """:meth:`WorkloadHook.explain_absence` for the triggers."""
        row = kind_of(kind)
        check_name(row.name, name, max_length=row.max_name_length)
        check_namespace(namespace, fix=_NAMESPACE_FIX)
        return await arun_plan(absence_plan(row, name, namespace), self._answer)

    async def explain_no_match(
        self, label_selector: str, kinds: Sequence[str], namespace: str
    ) -> str:
        """:meth:`WorkloadHook.explain_no_match` for the triggers."""
        check_namespace(namespace, fix=_NAMESPACE_FIX)
        plan = no_match_plan([kind_of(kind) for kind in kinds], label_selector, namespace)
        return await arun_plan(plan, self._answer)

    async def with_events(self, verdict: Verdict, picture: Picture) -> Verdict:
        """The failing pods' Warning events in the verdict (never fails the trigger)."""
        return await arun_plan(events_plan(verdict, picture, self._warn_once), self._answer)

    async def watch(
        self,
        watch: Watch,
        resource_version: str | None,
        on_open: Callable[[str], object] | None = None,
    ) -> AsyncIterator[JsonObject]:
        """Yield the raw watch events (``{"type", "object"}``) of one watch request.

        ``on_open(watch.key)`` is called once the server accepted the watch: from then on
        no event after ``resource_version`` can be missed. :meth:`follow` is how the
        triggers and the shared informer read watches; this is the one request under it.
        """
        response = await self._open_watch(watch, resource_version)
        if on_open is not None:
            on_open(watch.key)
        async for event in self._watch_events(watch, response):
            yield event

    async def follow(
        self,
        watch: Watch,
        relist: Callable[[], Plan[Listing]] | None = None,
        expiries: Expiries | None = None,
        logger: Any = None,
    ) -> AsyncIterator[Change]:
        """Follow ``watch`` for as long as the caller reads: the one way a watch is read.

        It resumes from the last version seen (bookmarks included); a transient fault or
        ERROR event is retried in place by the retry policy, handing out ``Stale(True)``
        and, once the server accepts the watch again, ``Stale(False)``. With ``relist``
        (a plan for the whole resource) it lists first when ``watch`` has no version and
        relists on 410 Gone by ``expiries``' rule, handing out ``Listed``; without, 410
        raises :class:`WatchExpiredError` for the caller to relist what it holds (a
        trigger's picture: the workload and what it reads, at one time). Reconnects are
        logged to ``logger`` (a trigger's own, so they show in its task's log).

        :raises WatchExpiredError: 410 Gone, when there is no ``relist``.
        :raises KubernetesApiCallError: a permanent error (401/403, 404...).
        """
        version, failures, stale = watch.resource_version, 0, False
        expiries, logger = expiries or Expiries(), logger or log
        while True:
            try:
                if version is None and relist is not None:
                    listing = await arun_plan(relist(), self._answer)
                    yield Listed(listing)
                    version, failures = listing.resource_version, 0
                response = await self._open_watch(watch, version)
                expiries.watching()
                if stale:
                    stale = False
                    yield Stale(False)
                async for event in self._watch_events(watch, response):
                    change, seen = change_of(watch.request, event)
                    version, failures = seen or version, 0
                    if change is not None:
                        yield change
            except TransientKubernetesError as exc:
                if exc.status == 410:
                    await self._expired(watch, exc, relist, expiries)
                    version = None
                    continue
                failures += 1
                if not stale:
                    stale = True
                    yield Stale(True)
                delay = self.retry.delay(failures, exc.retry_after)
                logger.info("Watch %s interrupted (%s); resuming in %.1fs", watch.key, exc, delay)
                await asyncio.sleep(delay)
            except WatchExpiredError as exc:
                await self._expired(watch, exc, relist, expiries)
                version = None

    async def _expired(
        self,
        watch: Watch,
        exc: Exception,
        relist: Callable[[], Plan[Listing]] | None,
        expiries: Expiries,
    ) -> None:
        """410 Gone: relist at once, or after a backoff when 410s come back to back;
        without a ``relist``, the caller's to do."""
        if relist is None:
            raise exc if isinstance(exc, WatchExpiredError) else WatchExpiredError(str(exc))
        log.info("Watch %s fell behind (%s); listing again", watch.key, exc)
        await asyncio.sleep(expiries.relist_delay(self.retry))

    async def _open_watch(self, watch: Watch, resource_version: str | None) -> Any:
        """Open one watch request from ``resource_version`` (None: from the newest state)."""
        params = {
            **watch.params,
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(WATCH_SECONDS),
        }
        if resource_version:
            params["resourceVersion"] = resource_version
        timeout = (self.request_timeout[0], WATCH_SECONDS + self.request_timeout[1])
        return await self._open(watch.request, params, timeout)

    async def _watch_events(self, watch: Watch, response: Any) -> AsyncIterator[JsonObject]:
        """The raw events of an open watch, their window stamps sharpened on arrival."""
        buffer = b""
        try:
            async for chunk in response.content.iter_any():
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        event = decode_object(watch.request, line)
                        sharpen_stamps(event.get("object"), self.clock.upper())
                        yield event
                # A backlog is buffered already: reading it never waits, and without a
                # turn for the loop here thousands of events held it for seconds.
                await asyncio.sleep(0)
        except _ASYNC_NETWORK_ERRORS as exc:
            raise transient(watch.request, exc) from exc
        finally:
            response.release()

    # ------------------------------------------------------------------ internals

    def session(self) -> Any:
        """``async with hook.session():`` one API client for a whole watch cycle."""
        return _Session(self)

    async def _answer(self, step: Read) -> JsonObject | Listing:
        if not step.paged:
            return await self._get(step.request, step.params)
        pages = _AsyncPages(self)
        try:
            return await arun_plan(list_plan(step, self.page_limit, self.clock.now), pages.page)
        finally:
            pages.close()

    async def _get(
        self,
        request: Request,
        params: Mapping[str, Any],
        *,
        first: asyncio.Task[bytes] | None = None,
        on_bytes: Callable[[bytes], Awaitable[object]] | None = None,
    ) -> JsonObject:
        """One request, retried in place after a transient error by the one retry policy.

        As :meth:`WorkloadHook._get`: an undecodable body is fetched again; ``first``
        is a page requested ahead, ``on_bytes`` starts the next one.
        """
        attempt = 0
        while True:
            try:
                data = await first if first is not None else await self._fetch(request, params)
                first = None
                if on_bytes is not None:
                    await on_bytes(data)
                return await _decoded_off_the_loop(request, data, self.clock.upper())
            except TransientKubernetesError as exc:
                first = None
                attempt += 1
                if attempt > self.retry.retries:
                    raise
                await asyncio.sleep(self.retry.delay(attempt, exc.retry_after))

    async def _fetch(self, request: Request, params: Mapping[str, Any]) -> bytes:
        """One GET, its body as bytes."""
        response = await self._open(request, params, self.request_timeout)
        try:
            return bytes(await response.read())
        except _ASYNC_NETWORK_ERRORS as exc:
            raise transient(request, exc) from exc
        finally:
            response.release()

    async def _open(
        self, request: Request, params: Mapping[str, Any], timeout: tuple[float, float]
    ) -> Any:
        if self._client is None:
            raise RuntimeError("AsyncWorkloadHook reads need `async with hook.session():`")
        sent = time.monotonic()
        try:
            response = await self._client.call_api(
                request.path,
                "GET",
                query_params=list(params.items()),
                header_params=dict(_HEADERS),
                auth_settings=_AUTH,
                _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=timeout,
            )
        except AsyncApiException as exc:
            self.clock.observe(_header(exc.headers, "Date"), sent)  # a 404 carries it too
            raise error_for_status(
                request,
                exc.status or 0,
                exc.body,
                has_continue="continue" in params,
                headers=exc.headers,
            ) from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise tls_failure(request, exc) from exc
        except _ASYNC_NETWORK_ERRORS as exc:
            raise transient(request, exc) from exc
        self.clock.observe(response.headers.get("Date"), sent)
        if response.status < 300:
            return response
        try:
            body = await response.read()
        except _ASYNC_NETWORK_ERRORS:
            body = b""
        finally:
            response.release()
        raise error_for_status(
            request,
            response.status,
            body,
            has_continue="continue" in params,
            headers=response.headers,
        )


def _as_kubeconfig(value: Any) -> Any:
    """A connection's inline ``kube_config`` (object or YAML/JSON string) as a dict."""
    if isinstance(value, str):
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return None
    return value


def _decode(request: Request, data: bytes, delivered_by: float | None) -> JsonObject:
    """:func:`decode_body`, its window stamps bounded by when it was delivered
    (:mod:`~airflow_sts_provider.hooks.stamps`)."""
    body = decode_body(request, data)
    sharpen_body(body, delivered_by)
    return body


async def _decoded_off_the_loop(
    request: Request, data: bytes, delivered_by: float | None
) -> JsonObject:
    """:func:`_decode`; a big body in a thread, so the triggerer's event loop is
    never held by one decode (a page of 500 pods: ~3 MB, 10-40 ms)."""
    if len(data) <= DECODE_ON_THE_LOOP:
        return _decode(request, data, delivered_by)
    return await asyncio.to_thread(_decode, request, data, delivered_by)


class _AsyncPages:
    """:class:`_SyncPages` for the async hook: the next page is a task on the same loop.

    The task is given one turn of the loop before this page is decoded, enough to
    send its request: the API server prepares the next page while this one is decoded.
    """

    def __init__(self, hook: AsyncWorkloadHook) -> None:
        self.hook = hook
        self._ahead: tuple[dict[str, Any], asyncio.Task[bytes]] | None = None

    async def page(self, read: Read) -> JsonObject:
        async def start_next(data: bytes) -> None:
            await self._start(read, data)

        first = self._take(read.params)
        return await self.hook._get(read.request, read.params, first=first, on_bytes=start_next)

    def _take(self, params: Mapping[str, Any]) -> asyncio.Task[bytes] | None:
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return None
        if ahead[0] == dict(params):
            return ahead[1]
        _drop(ahead[1])
        return None

    async def _start(self, read: Read, data: bytes) -> None:
        token = peek_continue(data)
        if token is None:
            return
        params = next_page_params(read.params, token)
        if self._ahead is not None and self._ahead[0] == params:
            return
        task = asyncio.ensure_future(self.hook._fetch(read.request, params))
        self._ahead = (params, task)
        await asyncio.sleep(0)  # let the task send its request before the decode holds the loop

    def close(self) -> None:
        """A page fetched ahead that the plan never asked for is dropped."""
        if self._ahead is not None:
            _drop(self._ahead[1])
            self._ahead = None


def _drop(task: asyncio.Task[bytes]) -> None:
    """Cancel a task nobody awaits, and keep its exception from being logged as unretrieved."""
    task.cancel()
    task.add_done_callback(lambda done: done.cancelled() or done.exception())


class _Session:
    """One API client for the hook while the ``async with`` block runs."""

    def __init__(self, hook: AsyncWorkloadHook) -> None:
        self.hook = hook
        self._context: Any = None

    async def __aenter__(self) -> AsyncWorkloadHook:
        self._context = self.hook.get_conn()
        self.hook._client = client = await self._context.__aenter__()
        host = getattr(getattr(client, "configuration", None), "host", None)
        if isinstance(host, str):
            self.hook.clock = server_clock(host)  # one learned clock per API server
        return self.hook

    async def __aexit__(self, *exc: object) -> None:
        self.hook._client = None
        await self._context.__aexit__(*exc)
