"""Event triggers: schedule a DAG when a workload's new revision is really running.

``Asset("kubernetes://<namespace>/<kind>/<name>", watchers=[AssetWatcher(name, trigger)])``
accepts only :class:`~airflow.triggers.base.BaseEventTrigger` subclasses. Each
class here is one kind's deferrable trigger (same list, watch and judge loop of
:mod:`.base`, same rules; over the triggerer's shared stream where it has one,
Airflow >= 3.3) that keeps running (``fires_once = False``) and fires once per
*revision* instead of once per wait:

* a ``success`` event when the workload becomes READY at a revision other than the
  one it last fired READY for (a finished rollout, or the revision running when the
  watcher first sees the workload);
* with ``on_failure=True``, a ``failed`` event when it turns FAILED at a revision
  other than the one it last fired FAILED for, carrying the failing pods and their
  Warning events.

A revision is ``<uid>@<revision>``: the object's ``metadata.uid`` (a workload
deleted and created again under the same name is a new one) and the verdict's
revision (a StatefulSet's ``updateRevision``, a Deployment's new ReplicaSet's
``pod-template-hash``, a DaemonSet's ``controller-revision-hash``, a custom
resource's ``metadata.generation``), or ``generation:<n>`` when the rules name no
revision. A Pod has no revision: its uid alone is its identity. Only the last
fired revision per outcome is kept, and forgotten once the workload is seen at
another known revision: so a flap (READY, WAITING, READY at the same revision), a
relist or a triggerer restart never fires again, while a rollback to an earlier
revision, after a newer one became READY, FAILED or never finished, is a rollout of
its own and fires.

What fired is remembered in the triggerer's asset state store (Airflow >= 3.3
injects ``asset_state_store`` into an event trigger of an asset watcher), written
*before* the event is handed to the triggerer: at most once, even across a crash.
Without a store (older Airflow, or the trigger run outside an asset watcher) it is
remembered in memory only, and a triggerer restart may fire again for the
revision that is running.

An event trigger has no deadline. Transient API errors are retried by the loop; a
permanent one (401/403, a kind the cluster does not serve) raises
:class:`~airflow_sts_provider.exceptions.AssetWatcherError` instead of firing: a
DAG run must mean "a revision is running", never "the watcher is broken".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow.triggers.base import BaseEventTrigger

from airflow_sts_provider.exceptions import AssetWatcherError
from airflow_sts_provider.readiness import State, Verdict
from airflow_sts_provider.reporting import failure_message, where
from airflow_sts_provider.triggers.base import WorkloadRunningTrigger
from airflow_sts_provider.triggers.daemonset import DaemonSetRunningTrigger
from airflow_sts_provider.triggers.deployment import DeploymentRunningTrigger
from airflow_sts_provider.triggers.pod import PodRunningTrigger
from airflow_sts_provider.triggers.resource import ResourceRunningTrigger
from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger

if TYPE_CHECKING:  # imported off the event loop (triggers/loading.py)
    from airflow_sts_provider.hooks.reads import Picture
    from airflow_sts_provider.hooks.workload import AsyncWorkloadHook

__all__ = [
    "DaemonSetReadyEventTrigger",
    "DeploymentReadyEventTrigger",
    "PodReadyEventTrigger",
    "ReadyEventTrigger",
    "ResourceReadyEventTrigger",
    "StatefulSetReadyEventTrigger",
]

#: What a deferred sensor's trigger takes and an event trigger must not: it never ends.
_NOT_FOR_EVENTS = (
    "fail_fast",
    "deadline",
    "timeout_seconds",
    "first_verdict",
    "not_found_grace_seconds",
)
#: The two outcomes that fire; each remembers the last revision it fired for.
READY, FAILED = "ready", "failed"


class ReadyEventTrigger(WorkloadRunningTrigger):
    """The once-per-revision decision shared by every kind's event trigger.

    :param on_failure: also fire (``status: failed``) once per revision that turns FAILED.
    Every other argument is the kind's deferrable trigger's, except ``fail_fast``,
    ``deadline``, ``first_verdict`` and ``not_found_grace_seconds``: an event
    trigger waits for ever, and a missing or deleted workload is waited for.
    """

    fires_once: ClassVar[bool] = False

    def __init__(self, *, on_failure: bool = False, **kwargs: Any) -> None:
        given = sorted(set(_NOT_FOR_EVENTS) & set(kwargs))
        if given:
            raise TypeError(
                f"{type(self).__name__} got {', '.join(given)}: an event trigger never ends "
                "(no deadline) and keeps waiting for a missing workload; drop these arguments"
            )
        if not isinstance(on_failure, bool):
            raise TypeError(f"on_failure must be True or False, got {on_failure!r}")
        super().__init__(fail_fast=False, deadline=None, **kwargs)
        self.on_failure = on_failure
        #: outcome -> the identity it last fired for; None until read from the store.
        self._fired: dict[str, str] | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The kind trigger's arguments without the deferral-only ones, plus ``on_failure``."""
        classpath, kwargs = super().serialize()
        for key in _NOT_FOR_EVENTS:
            kwargs.pop(key, None)
        kwargs["on_failure"] = self.on_failure
        return classpath, kwargs

    # ------------------------------------------------------------------ deciding

    async def _decide(
        self, hook: AsyncWorkloadHook, verdict: Verdict, picture: Picture
    ) -> dict[str, Any] | None:
        """Fire for a revision that became READY (or FAILED) and has not fired for that yet."""
        outcome = self._outcome(verdict, picture)
        identity = self.identity(picture, verdict)
        fired = await self._load_fired()
        if self._forget_moved(fired, identity, verdict, picture):
            await self._save_fired(fired)
        if outcome is None:
            return None
        if fired.get(outcome) == identity:
            return None
        if outcome == FAILED:
            self._remember(await hook.with_events(verdict, picture))
        fired[outcome] = identity
        await self._save_fired(fired)
        return self._fire(outcome, identity, picture)

    @staticmethod
    def _forget_moved(
        fired: dict[str, str], identity: str, verdict: Verdict, picture: Picture
    ) -> bool:
        """Forget each outcome fired for another revision than the one known now.

        The workload moved on (a rollout started, failed or was rolled back), so coming
        back to a revision that fired before is a rollout of its own and fires again
        (READY at A, FAILED or WAITING at B, READY at A). A flap at one revision, or a
        moment with no known revision (``generation:`` identities, a deleted workload),
        moves nothing: the same revision never fires twice in a row.
        """
        if picture.workload is None or verdict.revision is None:
            return False
        moved = [outcome for outcome, seen in fired.items() if seen != identity]
        for outcome in moved:
            del fired[outcome]
        return bool(moved)

    def _outcome(self, verdict: Verdict, picture: Picture) -> str | None:
        """READY, FAILED (with ``on_failure``), or None: nothing to fire for this verdict.

        A deleted workload fires nothing: the watcher waits for it to come back, and
        a new one (a new uid) is a new identity.
        """
        if picture.workload is None:
            return None
        if verdict.state is State.READY:
            return READY
        if verdict.state is State.FAILED and self.on_failure:
            return FAILED
        return None

    def identity(self, picture: Picture, verdict: Verdict) -> str:
        """``<uid>@<revision>``: what "the same revision" means (see the module's docstring)."""
        meta = (picture.workload or {}).get("metadata") or {}
        revision = verdict.revision
        if revision is None:
            revision = f"generation:{meta.get('generation', '-')}"
        return f"{meta.get('uid') or '-'}@{revision}"

    def _fire(self, outcome: str, identity: str, picture: Picture) -> dict[str, Any]:
        verdict = self._last
        assert verdict is not None  # _decide is always given the verdict it remembered
        if outcome == READY:
            event = self._event("success", f"{verdict.kind} {where(verdict)} is ready")
        else:
            event = self._event("failed", failure_message(verdict))
        meta = (picture.workload or {}).get("metadata") or {}
        event.update(
            kind=self.kind,
            namespace=self.namespace,
            name=self.name,
            uid=meta.get("uid"),
            revision=verdict.revision,
            identity=identity,
        )
        self.log.info("Firing %s for %s %s (%s)", outcome, self.kind, where(verdict), identity)
        return event

    def _event(self, status: str, message: str) -> dict[str, Any]:
        """A permanent error raises: no DAG run for a watcher that cannot see its workload."""
        if status == "error":
            raise AssetWatcherError(
                f"{self.kind} {self.namespace}/{self.name}: {message}; the asset watcher "
                "stops here and starts no DAG run until this is fixed"
            )
        return super()._event(status, message)

    # ------------------------------------------------------------------ memory

    @property
    def state_key(self) -> str:
        """The asset state store key: one per workload, should an asset watch several."""
        return f"airflow_sts_provider.fired:{self.kind}/{self.namespace}/{self.name}"

    async def _load_fired(self) -> dict[str, str]:
        """What fired before, read once from the asset state store (if there is one)."""
        if self._fired is None:
            self._fired = {}
            store = getattr(self, "asset_state_store", None)
            if store is None:
                self.log.info(
                    "No asset state store: fired revisions are kept in memory only and may "
                    "fire again after a triggerer restart"
                )
            else:
                self._fired = await _read_store(store, self.state_key, self.log)
        return self._fired

    async def _save_fired(self, fired: dict[str, str]) -> None:
        """Write what fired before the event leaves: at most once, even across a crash."""
        store = getattr(self, "asset_state_store", None)
        if store is not None:
            await _write_store(store, self.state_key, dict(fired), self.log)


async def _read_store(store: Any, key: str, log: Any) -> dict[str, str]:
    """The remembered outcomes, from every asset the trigger serves; {} if unreadable."""
    fired: dict[str, str] = {}
    try:
        for slot in _slots(store):
            value = await slot.aget(key)
            if isinstance(value, dict):
                fired.update({str(k): str(v) for k, v in value.items() if v is not None})
    except Exception as exc:  # a store outage must not stop the watcher
        log.warning("Could not read the asset state store (%s): may fire again once", exc)
    return fired


async def _write_store(store: Any, key: str, value: dict[str, str], log: Any) -> None:
    try:
        for slot in _slots(store):
            await slot.aset(key, value)
    except Exception as exc:  # the event still fires; only a restart could repeat it
        log.warning("Could not write the asset state store (%s): kept in memory only", exc)


def _slots(store: Any) -> list[Any]:
    """Per-asset accessors: one, or each asset when identical watchers were merged.

    ``AssetStateStoreAccessors`` serves ``aget``/``aset`` directly only for exactly one
    asset; Airflow runs one trigger for identical watchers of several assets, and
    then the per-asset accessors are the only way to reach each.
    """
    several = [*getattr(store, "_by_name", {}).values(), *getattr(store, "_by_uri", {}).values()]
    return several if len(several) > 1 else [store]


class StatefulSetReadyEventTrigger(ReadyEventTrigger, StatefulSetRunningTrigger, BaseEventTrigger):
    """Fire once per StatefulSet revision (``updateRevision``) that is really running."""


class DeploymentReadyEventTrigger(ReadyEventTrigger, DeploymentRunningTrigger, BaseEventTrigger):
    """Fire once per Deployment revision (its new ReplicaSet's ``pod-template-hash``)."""


class DaemonSetReadyEventTrigger(ReadyEventTrigger, DaemonSetRunningTrigger, BaseEventTrigger):
    """Fire once per DaemonSet revision (the current ``controller-revision-hash``)."""


class PodReadyEventTrigger(ReadyEventTrigger, PodRunningTrigger, BaseEventTrigger):
    """Fire once per Pod: a pod has no revision, its uid is its identity."""

    def identity(self, picture: Picture, verdict: Verdict) -> str:
        """The pod's uid: a pod replaced under the same name is a new one."""
        meta = (picture.workload or {}).get("metadata") or {}
        return str(meta.get("uid") or "-")


class ResourceReadyEventTrigger(ReadyEventTrigger, ResourceRunningTrigger, BaseEventTrigger):
    """Fire once per custom resource generation whose readiness condition holds, stable."""
