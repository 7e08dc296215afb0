"""The controllers' shared informer cache: every object, indexed by uid and owner.

The store calls :meth:`Cache.apply` (through the control plane's listener)
after every write, under its lock, so the cache is exactly the store's state
whenever the store lock is held. Controllers read it instead of listing the
store: a StatefulSet with 1,000 pods finds its pods through the owner index,
not by scanning (and deep-copying) every pod in the cluster.

Cached objects are the store's own change records; nobody may mutate them.
Writes go through the store, whose listener brings the new version back here.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from collections.abc import Iterator

from kube_test_cluster.registry.store import Change, Obj

#: (resource, namespace, name) - namespace "" for cluster-scoped kinds
Key = tuple[str, str, str]

_writer = threading.local()


@contextlib.contextmanager
def writing_as(component: str) -> Iterator[None]:
    """Tag the store writes made in this block with the component making them.

    The listener runs in the writing thread, so it can tell a controller's own
    writes (which need no reaction from that controller) from everyone else's.
    """
    previous = getattr(_writer, "component", None)
    _writer.component = component
    try:
        yield
    finally:
        _writer.component = previous


def current_writer() -> str | None:
    component: str | None = getattr(_writer, "component", None)
    return component


def key_of(resource: str, obj: Obj) -> Key:
    meta = obj["metadata"]
    return (resource, meta.get("namespace", ""), meta["name"])


class Cache:
    """Objects by key, plus the indexes the controllers and the garbage collector need."""

    def __init__(self) -> None:
        self._objects: dict[str, dict[tuple[str, str], Obj]] = defaultdict(dict)
        self._by_uid: dict[str, Key] = {}
        #: owner uid -> keys of objects with an ownerReference to it (any, not only controller)
        self._dependents: dict[str, set[Key]] = defaultdict(set)
        #: (resource, namespace) -> names of objects without a controller ownerReference
        self._orphans: dict[tuple[str, str], set[str]] = defaultdict(set)

    def apply(self, change: Change) -> None:
        key = key_of(change.resource, change.obj)
        old = self.get(key)
        if old is not None:
            self._unindex(key, old)
        if change.type == "DELETED":
            self._objects[key[0]].pop(key[1:], None)
            return
        self._objects[key[0]][key[1:]] = change.obj
        self._index(key, change.obj)

    def _index(self, key: Key, obj: Obj) -> None:
        meta = obj["metadata"]
        self._by_uid[meta["uid"]] = key
        refs = meta.get("ownerReferences") or []
        for ref in refs:
            self._dependents[ref["uid"]].add(key)
        if not any(ref.get("controller") for ref in refs):
            self._orphans[(key[0], key[1])].add(key[2])

    def _unindex(self, key: Key, obj: Obj) -> None:
        meta = obj["metadata"]
        if self._by_uid.get(meta["uid"]) == key:
            del self._by_uid[meta["uid"]]
        for ref in meta.get("ownerReferences") or []:
            dependents = self._dependents.get(ref["uid"])
            if dependents is not None:
                dependents.discard(key)
                if not dependents:
                    del self._dependents[ref["uid"]]
        self._orphans[(key[0], key[1])].discard(key[2])

    # -- reads (hold the store lock for a consistent view) ----------------------------
    def get(self, key: Key) -> Obj | None:
        return self._objects[key[0]].get(key[1:])

    def by_uid(self, uid: str) -> tuple[Key, Obj] | None:
        key = self._by_uid.get(uid)
        if key is None:
            return None
        obj = self.get(key)
        return None if obj is None else (key, obj)

    def exists(self, uid: str) -> bool:
        return uid in self._by_uid

    def all(self, resource: str) -> list[Obj]:
        return list(self._objects[resource].values())

    def dependents(self, uid: str) -> list[tuple[Key, Obj]]:
        found = []
        for key in sorted(self._dependents.get(uid, ())):
            obj = self.get(key)
            if obj is not None:
                found.append((key, obj))
        return found

    def controlled_by(self, resource: str, uid: str) -> list[Obj]:
        """Objects of ``resource`` whose controller ownerReference points at ``uid``."""
        found = []
        for key in self._dependents.get(uid, ()):
            if key[0] != resource:
                continue
            obj = self.get(key)
            if obj is not None and any(
                ref.get("uid") == uid and ref.get("controller")
                for ref in obj["metadata"].get("ownerReferences") or []
            ):
                found.append(obj)
        return found

    def orphans(self, resource: str, namespace: str) -> list[Obj]:
        names = self._orphans.get((resource, namespace), set())
        found = (self.get((resource, namespace, name)) for name in sorted(names))
        return [obj for obj in found if obj is not None]
