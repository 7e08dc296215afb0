"""Deferrable mode: wait in the triggerer by watching the workload and what its kind reads.

A poking sensor asks "ready yet?" every ``poke_interval``; the trigger instead
lists once and then follows watch streams (the workload by name, its pods by the
workload's selector, a Deployment's ReplicaSets), re-judging with the very same
rules on every batch of events. Nothing changes in the API when a pod merely
*becomes stable*, so the trigger also wakes up by itself when the first stability
window ends, and at least every ``check_interval`` to refresh the server's clock
(the ``Date`` header) and catch graces that ran out.

The trigger only loops (list, watch, judge, wake): every read, retry and the
event enrichment are the async hook's; what a kind reads is the kinds table's.
A watch that ends is resumed from the last resourceVersion seen (bookmarks
included); 410 Gone means "relist"; transient errors are retried in place by the
hook and, if they persist, the cycle reconnects with the same retry policy;
401/403 end the wait with an ``error`` event naming the missing right.
It fires exactly one event:
``{"status": "success"|"failed"|"timeout"|"error", "verdict": {...}|None, "message": str}``.

Where the triggerer shares streams (Airflow >= 3.3, ``BaseEventTrigger.shared_stream_key``),
triggers of one kind, connection and namespace share one list+watch per resource
(:mod:`.shared`) and each judges its own workload from the shared picture with
the same loop; ``share_watches=False`` keeps a trigger on its own watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Collection, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.triggers.base import TaskSuccessEvent, TriggerEvent

try:  # Airflow >= 3.0: an event trigger may share one stream (>= 3.3) or watch an asset
    from airflow.triggers.base import BaseEventTrigger as _TriggerBase
except ImportError:  # pragma: no cover - older Airflow: a plain trigger, its own watches
    from airflow.triggers.base import BaseTrigger as _TriggerBase  # type: ignore[assignment]

from airflow_sts_provider.exceptions import (
    KubernetesApiCallError,
    KubernetesPermissionError,
    TransientKubernetesError,
    UnservedKindError,
)
from airflow_sts_provider.kinds import KINDS, Kind, import_class, kind_of
from airflow_sts_provider.readiness import ReadinessPolicy, State, Verdict
from airflow_sts_provider.readiness.verdict import cut
from airflow_sts_provider.reporting import MESSAGE_IN_EVENT, failure_message, summary_line, where
from airflow_sts_provider.triggers.loading import load_hooks

if TYPE_CHECKING:  # imported off the event loop, by load_hooks()
    from airflow_sts_provider.hooks import shared
    from airflow_sts_provider.hooks.follow import Expiries
    from airflow_sts_provider.hooks.reads import Picture, Watch
    from airflow_sts_provider.hooks.workload import AsyncWorkloadHook

__all__ = ["SHARED_STREAMS", "WorkloadRunningTrigger", "seconds_until_change", "trigger_for"]

#: Whether this Airflow's triggerer can share one stream among triggers (3.3+).
SHARED_STREAMS = hasattr(_TriggerBase, "shared_stream_key")

#: Related objects a picture may hold and still be judged on the event loop (~10 ms).
JUDGE_ON_THE_LOOP = 150

#: A watch event for the picture, a watch's error, or None: "judge again".
_Item = tuple[str, str, dict[str, Any]] | BaseException | None


@dataclass
class _Cycle:
    """One list+watch cycle's marks, gone with it: the watches reconnecting now (its
    picture may be behind them), and the trigger's 410 count the hook keeps up to date."""

    expiries: Expiries
    stale: set[str] = field(default_factory=set)


def seconds_until_change(verdict: Verdict, policy: ReadinessPolicy, now: datetime) -> float | None:
    """Server seconds until the first stabilizing pod's window ends, if one is stabilizing.

    A Ready pod turns stable with no API event at all, so a watcher must wake up by
    itself then. Graces (image pull, config error, unschedulable) also end silently;
    the trigger covers them with its periodic re-check rather than modelling each here.
    """
    if verdict.state is not State.WAITING:
        return None
    earliest: float | None = None
    for pod in verdict.pods:
        if pod.state is not State.WAITING or pod.ready_since is None:
            continue
        left = policy.min_stable_seconds - (now - pod.ready_since).total_seconds()
        if math.isfinite(left) and left > 0:  # an elapsed window is not why it waits
            earliest = left if earliest is None else min(earliest, left)
    return earliest


class WorkloadRunningTrigger(_TriggerBase):
    """Fire once when a workload is READY, FAILED (with ``fail_fast``), or the deadline passes.

    :param name: the workload's name.
    :param namespace: its namespace (resolved by the sensor).
    :param kubernetes_conn_id: the ``kubernetes`` connection, resolved in the triggerer.
    :param in_cluster: the worker reached the API in-cluster with no configuration.
    :param config_file: path of the kubeconfig file the worker used when the connection
        holds no configuration (the triggerer reads it there; never its contents).
    :param cluster_context: kubeconfig context to use.
    :param policy: :class:`ReadinessPolicy` fields as a dict.
    :param fail_fast: fire ``failed`` on a FAILED verdict (else keep waiting).
    :param check_interval: longest sleep between two judgements without events.
    :param deadline: epoch seconds after which the trigger fires ``timeout``, on the
        triggerer's clock; only for triggers deferred without ``timeout_seconds``.
    :param timeout_seconds: how long the trigger waits before it fires ``timeout``,
        measured on the triggerer's own monotonic clock from when it starts. A duration
        needs no clock shared with the worker, so a skewed clock cannot end a wait early
        or late; after a triggerer restart it counts again from the start, and the
        deferral's own ``timeout`` (``defer(timeout=...)``, which Airflow's scheduler
        enforces) bounds the whole wait.
    :param first_verdict: state and reason of the sensor's first poke, so a trigger that
        never gets an answer still says what was last known.
    :param not_found_grace_seconds: a workload still not found this long after the
        trigger started fails (``fail_fast``), naming the closest existing names.
    :param share_watches: share one list+watch per resource with the other triggers of
        this kind, connection and namespace where the triggerer can (Airflow >= 3.3);
        ``False`` keeps this trigger's own watches. Triggers deferred without it share.
    :param connection_extras: deprecated, for triggers deferred by 0.1: extras in clear.
        Never sent any more; the triggerer resolves ``kubernetes_conn_id`` itself.
    :param config_dict: deprecated likewise (a kubeconfig in clear in the metadata DB).
    :param end_from_trigger: a ``success`` ends the task from the triggerer
        (``TaskSuccessEvent``, the verdict as its ``return_value`` XCom) instead of
        resuming it on a worker; the sensor sets it only where nothing a user sees
        changes (``WorkloadRunningSensor(end_from_trigger=...)``).
    """

    #: The kinds-table row it serves; a resource trigger sets its own per instance.
    kind: str = "StatefulSet"
    #: A deferred sensor's trigger ends with its one event; an event trigger keeps going.
    fires_once: ClassVar[bool] = True
    #: Whether triggers of this class can share watches (their resources known up front).
    can_share: ClassVar[bool] = True
    #: A deferred task's trigger goes to its task's triggerer queue, as a BaseTrigger does
    #: (BaseEventTrigger opts out, for asset watchers, which have no task).
    supports_triggerer_queue: bool = True

    def __init__(
        self,
        *,
        name: str,
        namespace: str,
        kubernetes_conn_id: str | None = "kubernetes_default",
        in_cluster: bool | None = None,
        config_file: str | None = None,
        cluster_context: str | None = None,
        policy: dict[str, Any] | None = None,
        fail_fast: bool = True,
        check_interval: float = 30.0,
        deadline: float | None = None,
        timeout_seconds: float | None = None,
        first_verdict: dict[str, Any] | None = None,
        not_found_grace_seconds: float | None = None,
        share_watches: bool = True,
        connection_extras: dict[str, Any] | None = None,
        config_dict: dict[str, Any] | None = None,
        end_from_trigger: bool = False,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.name = name
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.in_cluster = in_cluster
        self.config_file = config_file
        self.cluster_context = cluster_context
        self.policy = dict(policy or {})
        self.fail_fast = fail_fast
        self.check_interval = max(float(check_interval), 0.1)
        self.deadline = deadline
        self.timeout_seconds = None if timeout_seconds is None else float(timeout_seconds)
        self.first_verdict = first_verdict
        self.not_found_grace_seconds = not_found_grace_seconds
        self.share_watches = share_watches
        self.end_from_trigger = end_from_trigger
        self._started = time.monotonic()
        self.connection_extras = connection_extras
        self.config_dict = config_dict
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
            "first_verdict": self.first_verdict,
            "not_found_grace_seconds": self.not_found_grace_seconds,
        }
        if self.timeout_seconds is not None:
            kwargs["timeout_seconds"] = self.timeout_seconds
        if not self.share_watches:  # only when off: a default trigger serializes as before
            kwargs["share_watches"] = False
        if self.end_from_trigger:  # only when on, likewise
            kwargs["end_from_trigger"] = True
        for legacy in ("connection_extras", "config_dict"):
            if getattr(self, legacy) is not None:
                kwargs[legacy] = getattr(self, legacy)
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def hook_kwargs(self) -> dict[str, Any]:
        """How the async hook reaches the cluster: the connection by id, never a secret."""
        return {
            "conn_id": self.kubernetes_conn_id,
            "in_cluster": self.in_cluster,
            "config_file": self.config_file,
            "config_dict": self.config_dict,
            "cluster_context": self.cluster_context,
            "connection_extras": self.connection_extras,
        }

    def hook(self) -> AsyncWorkloadHook:
        """The async hook over the connection, built in the triggerer (after :func:`load_hooks`)."""
        from airflow_sts_provider.hooks.workload import AsyncWorkloadHook

        return AsyncWorkloadHook(**self.hook_kwargs())

    # ------------------------------------------------------------------ shared streams

    def shared_stream_key(self) -> Hashable | None:
        """Triggers with equal keys share one list+watch per resource (Airflow >= 3.3).

        The key is everything the shared stream reads by: the kind's resources, the
        connection (id, in-cluster, kubeconfig file, context) and the namespace.
        None (own watches): sharing off, a class whose resources are known only after
        discovery, or a legacy trigger carrying its connection in its arguments.
        """
        if not (self.share_watches and self._reads_by_kind_row()):
            return None
        if self.connection_extras is not None or self.config_dict is not None:
            return None
        row = kind_of(self.kind)
        resources = tuple((r.group, r.version, r.plural) for r in (row.resource, *row.related))
        connection = (
            self.kubernetes_conn_id,
            self.in_cluster,
            self.config_file,
            self.cluster_context,
        )
        return ("airflow_sts_provider", row.name, resources, connection, self.namespace)

    @classmethod
    def _reads_by_kind_row(cls) -> bool:
        """Whether this class reads what its built-in row says, so a shared store serves it.

        A class that finds its row at run time (a custom resource, by discovery) or
        reads differently (a release's poll) keeps its own reads.
        """
        base = WorkloadRunningTrigger
        return (
            cls.can_share
            and cls._row is base._row
            and cls._wait is base._wait
            and cls.kind in KINDS
        )

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """One informer for the group: list+watch each resource of the kind, namespace-wide."""
        trigger = cls(**kwargs)
        await load_hooks()
        from airflow_sts_provider.hooks import shared
        from airflow_sts_provider.hooks.informer import InformerHook

        hook = InformerHook(**trigger.hook_kwargs())
        stream = shared.informer(
            trigger.shared_stream_key(), kind_of(trigger.kind), trigger.namespace, hook
        )
        async for batch in stream:
            yield batch

    async def filter_shared_stream(
        self, shared_stream: AsyncIterator[Any]
    ) -> AsyncIterator[TriggerEvent]:
        """This trigger's event(s) from the shared picture, judged by the same loop as ``run``."""
        self._prepare_handover()
        await load_hooks()
        from airflow_sts_provider.hooks import shared

        key, kind = self.shared_stream_key(), kind_of(self.kind)
        feed = shared.Feed(key, kind, self.name, shared_stream, self.hook_kwargs())
        try:
            while True:
                yield await self._event_for(await self._shared_wait(feed))
                if self.fires_once:
                    return
        finally:
            await feed.close()

    async def _shared_wait(self, feed: shared.Feed) -> dict[str, Any]:
        """:meth:`_wait` over the shared store; a stream that failed for good: watch alone."""
        from airflow_sts_provider.hooks import shared  # loaded by load_hooks()

        try:
            while True:
                if not await feed.synced(self._bounded(self.check_interval)):
                    if self._past_deadline():
                        return self._timeout_event()
                    continue
                try:
                    return await self._shared_cycle(feed)
                except (shared.ResyncError, TransientKubernetesError):
                    continue  # the store rebuilt; or a failure's own read, tried again
        except shared.SharedStreamError as exc:
            self.log.info("Shared watch failed (%s); watching on its own", exc)
            return await self._wait()
        except (KubernetesApiCallError, UnservedKindError) as exc:
            return self._event("error", str(exc))

    async def _shared_cycle(self, feed: shared.Feed) -> dict[str, Any]:
        """:meth:`_cycle` from the store: wait for the workload, then judge until decided."""
        from airflow_sts_provider.hooks import shared  # loaded by load_hooks()

        picture = feed.picture()
        hook = feed.hook
        if picture.workload is not None:
            return await self._judge_until_decided(hook, picture, feed.queue, feed.stale)
        absent = await self._while_absent(hook, picture)
        if absent is not None:
            return absent
        try:
            item = await asyncio.wait_for(feed.queue.get(), self._bounded(self.check_interval))
        except TimeoutError:
            raise shared.ResyncError from None
        if isinstance(item, BaseException):
            raise item
        raise shared.ResyncError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Watch and judge until there is an answer; yield it (the one event, if ``fires_once``)."""
        self._prepare_handover()
        while True:
            yield await self._event_for(await self._wait())
            if self.fires_once:
                return

    async def _wait(self) -> dict[str, Any]:
        await load_hooks()
        from airflow_sts_provider.hooks.follow import Expiries, WatchExpiredError

        hook = self.hook()
        expiries = Expiries()
        failures = 0
        while True:
            try:
                async with hook.session():
                    result = await self._cycle(hook, _Cycle(expiries))
                if result is not None:
                    return result
                failures = 0
            except KubernetesPermissionError as exc:
                return self._event("error", str(exc))
            except WatchExpiredError as exc:
                self.log.info("Watch fell behind (%s); listing again", exc)
                await asyncio.sleep(self._bounded(expiries.relist_delay(hook.retry)))
            except TransientKubernetesError as exc:
                failures += 1
                delay = self._bounded(hook.retry.delay(failures, exc.retry_after))
                self.log.warning("Kubernetes API unavailable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
            except (KubernetesApiCallError, UnservedKindError) as exc:
                return self._event("error", str(exc))
            if self._past_deadline():
                return self._timeout_event()

    # ------------------------------------------------------------------ one cycle

    async def _cycle(self, hook: AsyncWorkloadHook, cycle: _Cycle) -> dict[str, Any] | None:
        """List, then watch and judge until decided (an event dict) or the watch must restart."""
        picture, watches = await hook.read_picture(await self._row(hook), self.name, self.namespace)
        if picture.workload is None:
            absent = await self._while_absent(hook, picture)
            if absent is not None:
                return absent
            await asyncio.sleep(self._bounded(self.check_interval))
            return None
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        tasks = [asyncio.create_task(self._follow(hook, w, queue, cycle)) for w in watches]
        try:
            return await self._judge_until_decided(hook, picture, queue, cycle.stale)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _while_absent(
        self, hook: AsyncWorkloadHook, picture: Picture
    ) -> dict[str, Any] | None:
        """No workload (yet): remember "not found"; time out, or fail once the grace is over."""
        self._remember(picture.judge(hook.clock.now(), self._readiness_policy))
        if self._past_deadline():
            return self._timeout_event()
        if not self._past_not_found_grace():
            return None
        explained = await hook.explain_absence(picture.kind, self.name, self.namespace)
        grace = f"not_found_grace_seconds={self.not_found_grace_seconds:g}"
        return self._event("failed", f"{explained} ({grace}): check the name and namespace")

    async def _row(self, hook: AsyncWorkloadHook) -> Kind:
        """The kinds-table row to judge by (a resource trigger's comes from discovery)."""
        return kind_of(self.kind)

    async def _judge_until_decided(
        self,
        hook: AsyncWorkloadHook,
        picture: Picture,
        queue: asyncio.Queue[_Item],
        stale: Collection[str],
    ) -> dict[str, Any]:
        """Judge on every batch of events; ``stale``: the watches of this picture now
        reconnecting (it may be behind them, so nothing is decided meanwhile)."""
        refresh = False
        while True:
            judged_at = hook.clock.now()
            verdict = await self._judge_picture(picture, judged_at)
            self._remember(verdict)
            decided = None if stale else await self._decide(hook, verdict, picture)
            if decided is not None:
                return decided
            if self._past_deadline():
                return self._timeout_event()
            if refresh:  # judged first: a window that just closed needs no GET to fire
                refresh = False
                await self._refresh(hook, picture)
                continue
            try:
                wake = self._next_wake(verdict, judged_at)
                if wake < self.check_interval:  # a window is ending: read it to the 0.1 s
                    self._tune_clock(hook)
                item = await asyncio.wait_for(queue.get(), timeout=wake)
            except TimeoutError:
                refresh = True
                continue
            self._apply(picture, item, queue)

    async def _judge_picture(self, picture: Picture, at: datetime) -> Verdict:
        """The rules over ``picture``; a big one in a thread, so the triggerer's loop
        (every other trigger, Airflow's heartbeat) never waits on one judgement
        (a 1,000-pod StatefulSet: ~0.1 s of rules on a loaded machine).

        Safe: the picture changes only in this loop, between two judgements.
        """
        if picture.size() <= JUDGE_ON_THE_LOOP:
            return picture.judge(at, self._readiness_policy)
        return await asyncio.to_thread(picture.judge, at, self._readiness_policy)

    async def _decide(
        self, hook: AsyncWorkloadHook, verdict: Verdict, picture: Picture
    ) -> dict[str, Any] | None:
        """The event to fire for this verdict, or None to keep watching.

        Never asked while a watch is reconnecting (the picture may miss events).
        An event trigger overrides it to fire once per revision instead.
        """
        if picture.workload is None and self.fail_fast:
            return self._event("failed", self._deleted_message())
        if verdict.state is State.READY:
            return self._event("success", f"{verdict.kind} {where(verdict)} is ready")
        if verdict.state is State.FAILED and self.fail_fast:
            self._remember(await hook.with_events(verdict, picture))
            return self._event("failed", failure_message(self._last or verdict))
        return None

    async def _refresh(self, hook: AsyncWorkloadHook, picture: Picture) -> None:
        """Re-read the workload; a failure keeps the picture (the watches carry it)."""
        try:
            await hook.read_workload(picture)
        except TransientKubernetesError as exc:
            self.log.debug("Periodic re-read failed (%s); keeping the watched picture", exc)

    @staticmethod
    def _apply(picture: Picture, item: _Item, queue: asyncio.Queue[_Item]) -> None:
        """Take every event queued so far (one judgement per batch); raise a watch's error."""
        while True:
            if isinstance(item, BaseException):
                raise item
            if item is not None:
                picture.apply(*item)
            if queue.empty():
                return
            item = queue.get_nowait()

    async def _follow(
        self, hook: AsyncWorkloadHook, watch: Watch, queue: asyncio.Queue[_Item], cycle: _Cycle
    ) -> None:
        """Hand one watch's changes to the judge; its error too, which ends the cycle.

        The hook resumes the watch; while it reconnects the watch is *stale* (in this
        cycle only) and nothing is decided, and once whole again the judge wakes.
        """
        from airflow_sts_provider.hooks.follow import Changed, Stale

        try:
            async for change in hook.follow(watch, expiries=cycle.expiries, logger=self.log):
                if isinstance(change, Changed):
                    queue.put_nowait((watch.key, change.type, change.obj))
                elif isinstance(change, Stale) and change.stale:
                    cycle.stale.add(watch.key)
                elif watch.key in cycle.stale:
                    cycle.stale.discard(watch.key)
                    queue.put_nowait(None)  # wake the judge: the picture is whole again
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # handed to the cycle, which re-raises it
            await queue.put(exc)

    # ------------------------------------------------------------------ judging

    def _remember(self, verdict: Verdict) -> None:
        """Keep the last verdict for the timeout event; log it when it changes."""
        self._last = verdict
        key = (verdict.state, verdict.ready, verdict.desired, verdict.revision)
        if key != self._logged:
            self._logged = key
            self.log.info("%s", summary_line(verdict))

    def _next_wake(self, verdict: Verdict, judged_at: datetime) -> float:
        """Seconds until the first stability window ends, counted from when ``verdict`` was
        judged: read the clock again and a window ending in between looks elapsed, and the
        trigger would sleep a whole ``check_interval`` past it.
        """
        wait = self.check_interval
        until = seconds_until_change(verdict, self._readiness_policy, judged_at)
        if until is not None:
            wait = min(wait, until + 0.05)
        return self._bounded(wait)

    @staticmethod
    def _tune_clock(hook: AsyncWorkloadHook) -> None:
        """Learn the server clock's phase in the background (one per API server)."""
        probe = hook.clock_probe()
        if probe is not None:
            hook.clock.tune_soon(probe)

    # ------------------------------------------------------------------ deadline and events

    @staticmethod
    def _now() -> float:
        return time.time()

    def _past_not_found_grace(self) -> bool:
        grace = self.not_found_grace_seconds
        return self.fail_fast and grace is not None and time.monotonic() - self._started > grace

    def _remaining(self) -> float | None:
        """Seconds left to wait: by the duration if one was given, else by the deadline."""
        if self.timeout_seconds is not None:
            return self.timeout_seconds - (time.monotonic() - self._started)
        if self.deadline is not None:
            return self.deadline - self._now()
        return None

    def _past_deadline(self) -> bool:
        remaining = self._remaining()
        return remaining is not None and remaining <= 0

    def _bounded(self, seconds: float) -> float:
        """Never sleep past the deadline."""
        remaining = self._remaining()
        if remaining is None:
            return max(seconds, 0.0)
        return max(0.0, min(seconds, remaining))

    def _deleted_message(self) -> str:
        """The trigger saw the workload, then it was gone: waiting longer cannot help."""
        return (
            f"{self.kind} {self.namespace}/{self.name} was deleted while waiting "
            "(the trigger had seen it; fail_fast=False keeps waiting for it to come back)"
        )

    def _timeout_event(self) -> dict[str, Any]:
        last = self._last
        first = self.first_verdict or {}
        state = last.state.value.upper() if last else str(first.get("state") or "unknown").upper()
        reason = last.reason if last else first.get("reason") or "no answer from the Kubernetes API"
        where_ = f"{self.kind} {self.namespace}/{self.name}"
        return self._event("timeout", f"Sensor has timed out: {where_} still {state}: {reason}")

    def _prepare_handover(self) -> None:
        """Before the first READY that ends a task here: one XCom read in the background,
        once per triggerer process. The triggerer builds its in-process execution API on
        the first request a trigger makes (the first gate fired 5.8 s late in
        ``bench_latency``); with connections from the environment that request would be
        the verdict's push, at the window's end."""
        ti = getattr(self, "task_instance", None)
        if not self.end_from_trigger or ti is None or _HANDOVER_READY:
            return
        _HANDOVER_READY.append(asyncio.ensure_future(_read_return_value(ti)))

    async def _event_for(self, payload: dict[str, Any]) -> TriggerEvent:
        """The event for ``payload``: a READY ends the task here when the sensor allows it
        (``end_from_trigger``); anything else resumes the task on a worker, which raises
        it as before.

        Only a triggerer ends a task: it gives the trigger its ``task_instance``
        (``dag.test()`` runs the trigger in line without one, and resumes the task with
        the payload). The verdict is pushed first, through the Task SDK as a worker
        pushes a return value: Airflow 3.3's own ``TaskSuccessEvent(xcoms=...)`` stores it
        encoded once more, and a downstream ``xcom_pull`` would get a JSON string.
        """
        ti = getattr(self, "task_instance", None)
        if not (self.end_from_trigger and ti is not None and payload.get("status") == "success"):
            return TriggerEvent(payload)  # type: ignore[no-untyped-call]
        try:
            await _push_return_value(ti, payload.get("verdict"))
        except Exception as exc:  # the worker pushes it then, as without end_from_trigger
            self.log.warning("Verdict not handed over from the triggerer (%s); resuming", exc)
            return TriggerEvent(payload)  # type: ignore[no-untyped-call]
        self.log.info("%s", payload.get("message") or "ready")
        return TaskSuccessEvent()

    def _event(self, status: str, message: str) -> dict[str, Any]:
        return {
            "status": status,
            "verdict": self._last.to_dict() if self._last else None,
            "message": cut(message, MESSAGE_IN_EVENT),
        }


#: The background read that readies the triggerer for a task's end (``_prepare_handover``).
_HANDOVER_READY: list[asyncio.Future[Any]] = []


async def _read_return_value(ti: Any) -> None:
    """Read the task's ``return_value`` XCom (none yet); best effort, any error ignored."""
    from airflow.sdk.execution_time.xcom import XCom

    with contextlib.suppress(Exception):
        await XCom.aget_one(**_return_value_of(ti))


async def _push_return_value(ti: Any, verdict: Any) -> None:
    """The task's ``return_value`` XCom, set as the Task SDK sets a worker's."""
    from airflow.sdk.execution_time.xcom import XCom

    await XCom.aset(value=verdict, **_return_value_of(ti))


def _return_value_of(ti: Any) -> dict[str, Any]:
    """Where a task instance's ``return_value`` XCom lives."""
    return {
        "key": "return_value",
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": ti.run_id,
        "map_index": ti.map_index,
    }


def trigger_for(kind: str, **kwargs: Any) -> WorkloadRunningTrigger:
    """The trigger class the kinds table names for ``kind``, built with ``kwargs``."""
    cls: type[WorkloadRunningTrigger] = import_class(kind_of(kind).trigger)
    return cls(**kwargs)
