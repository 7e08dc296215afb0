"""What every emulated control-plane component shares: a context and one interface.

A component is told about every store change (:meth:`Controller.watch`, which
only names the keys to look at again, like an informer's event handler
enqueueing) and later reconciles one key at a time (:meth:`Controller.sync`,
like a worker draining its workqueue). ``sync`` may return when it wants to
look again, the way real controllers ``AddAfter`` for ``minReadySeconds`` or a
progress deadline; the kubelet uses the same hook for its timers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from airflow_sts_provider.testing.clock import Clock
from airflow_sts_provider.testing.controlplane.cache import Cache, Key
from airflow_sts_provider.testing.controlplane.events import EventRecorder
from airflow_sts_provider.testing.registry.deletion import DeleteOptions, Deleter
from airflow_sts_provider.testing.registry.store import Change, Obj, Store


@dataclass
class Context:
    """The handles a component works with; one per emulated cluster."""

    store: Store
    clock: Clock
    cache: Cache
    recorder: EventRecorder
    deleter: Deleter

    def write_status(self, resource: str, cached: Obj, status: Obj) -> None:
        """Replace the status of ``cached`` (the current version: hold the store lock).

        Cheaper than ``store.update`` (no copy of the whole object, no read-back);
        safe because under the store lock the cache is exactly what the store holds.
        """
        self.store.replace_status(resource, cached, status)

    def delete(self, resource: str, obj: Obj, propagation: str | None = None) -> None:
        """Delete as a controller's client does: through the apiserver's DELETE semantics."""
        self.deleter.delete(resource, obj, DeleteOptions(propagation=propagation))


class Controller:
    """One reconcile loop. Subclasses set :attr:`name` and override ``watch``/``sync``."""

    #: the component name events are recorded under (``statefulset-controller``...)
    name: ClassVar[str] = "controller"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def watch(self, change: Change, writer: str | None) -> Iterable[Key]:
        """Keys to reconcile because of ``change`` (runs under the store lock: keep it cheap).

        ``writer`` names the component whose write caused the change, if any.
        """
        return ()

    def sync(self, key: Key, now: datetime) -> datetime | None:
        """Reconcile ``key``; return when to look at it again, if ever."""
        return None
