"""What every emulated component (controllers, scheduler, kubelet) shares: a context and
one interface.

A component is told about every store change (:meth:`Controller.watch`, which
only names the keys to look at again, like an informer's event handler
enqueueing) and later reconciles one key at a time (:meth:`Controller.sync`,
like a worker draining its workqueue). ``sync`` may return when it wants to
look again, the way real controllers ``AddAfter`` for ``minReadySeconds`` or a
progress deadline; the kubelet uses the same hook for its timers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from kube_test_cluster.clock import Clock
from kube_test_cluster.machinery.cache import Cache, Key, key_of
from kube_test_cluster.machinery.events import EventRecorder
from kube_test_cluster.machinery.util import controller_of, labels_of, selector_of
from kube_test_cluster.registry.deletion import DeleteOptions, Deleter
from kube_test_cluster.registry.store import Change, Obj, Store


@dataclass
class Context:
    """The handles a component works with; one per emulated cluster."""

    store: Store
    clock: Clock
    cache: Cache
    recorder: EventRecorder
    deleter: Deleter

    def write_status(
        self, resource: str, cached: Obj, status: Obj, *, handed_over: bool = False
    ) -> None:
        """Replace the status of ``cached`` (the current version: hold the store lock).

        Cheaper than ``store.update`` (no copy of the whole object, no read-back);
        safe because under the store lock the cache is exactly what the store holds.
        ``handed_over``: see :meth:`Store.hand_over_status` (a status built for this write).
        """
        if handed_over:
            self.store.hand_over_status(resource, cached, status)
        else:
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

    # -- shared wiring of the controllers that own pods ------------------------------------
    def owner_keys(
        self,
        change: Change,
        writer: str | None,
        owner: tuple[str, str],
        children: tuple[str, ...],
        orphan: Callable[[Obj, str], Iterable[Key]],
    ) -> Iterable[Key]:
        """Keys of the ``owner`` (resource, kind) a change concerns, as its informers see it.

        The owner itself, but not this controller's own status writes; for a changed
        child, its controller owner; for a child with no controller, ``orphan(obj,
        namespace)`` names the owners that may adopt it.
        """
        resource, kind = owner
        if change.resource == resource:
            if writer == self.name and change.type == "MODIFIED":
                return ()  # its own status write
            return (key_of(resource, change.obj),)
        if change.resource not in children:
            return ()
        keys: set[Key] = set()
        for obj in (change.obj, change.old):
            if obj is None:
                continue
            namespace = obj["metadata"].get("namespace", "")
            ref = controller_of(obj)
            if ref is None:
                keys.update(orphan(obj, namespace))
            elif ref.get("kind") == kind:
                keys.add((resource, namespace, ref["name"]))
        return keys

    def selecting(self, resource: str, obj: Obj, namespace: str) -> Iterable[Key]:
        """The ``resource`` objects in ``namespace`` whose selector matches ``obj``'s labels."""
        for owner in self.ctx.cache.all(resource):
            if owner["metadata"].get("namespace") == namespace and selector_of(
                owner["spec"].get("selector")
            ).matches(labels_of(obj)):
                yield key_of(resource, owner)
