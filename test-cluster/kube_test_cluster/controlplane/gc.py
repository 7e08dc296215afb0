"""The garbage collector: finishes what a DELETE with a propagation policy started.

After ``pkg/controller/garbagecollector`` (``attemptToDeleteItem`` and
``processDeletingDependentsItem``):

* an owner deleted with ``propagationPolicy=Foreground`` carries
  ``deletionTimestamp`` and the ``foregroundDeletion`` finalizer; the collector
  deletes its dependents (a pod gracefully, anything else in the foreground
  too) and removes the finalizer once no dependent with
  ``blockOwnerDeletion: true`` is left, at which point the store drops it;
* a dependent whose owners are all gone (``Background`` deletion, the default)
  is deleted; one that still has a live owner just loses the dangling
  references;
* ``Orphan`` needs nothing here: the apiserver already stripped the references.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime

from kube_test_cluster.machinery.base import Controller
from kube_test_cluster.machinery.cache import Key, key_of
from kube_test_cluster.machinery.util import is_terminating
from kube_test_cluster.registry.store import Change, Obj, StoreError

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


def _deleting_dependents(obj: Obj) -> bool:
    meta = obj["metadata"]
    return bool(meta.get("deletionTimestamp")) and FOREGROUND in (meta.get("finalizers") or [])


class GarbageCollector(Controller):
    name = "garbage-collector"

    def watch(self, change: Change, writer: str | None) -> Iterable[Key]:
        key = key_of(change.resource, change.obj)
        meta = change.obj["metadata"]
        keys: list[Key] = []
        if change.type == "DELETED":
            # its dependents may now be dangling, its foreground owners may now be free
            keys.extend(k for k, _ in self.ctx.cache.dependents(meta["uid"]))
            for ref in meta.get("ownerReferences") or []:
                found = self.ctx.cache.by_uid(ref["uid"])
                if found is not None and _deleting_dependents(found[1]):
                    keys.append(found[0])
            return keys
        old_meta = (change.old or {}).get("metadata", {})
        if _deleting_dependents(change.obj) and not (
            change.old is not None and _deleting_dependents(change.old)
        ):
            keys.append(key)
        if meta.get("ownerReferences") and meta.get("ownerReferences") != old_meta.get(
            "ownerReferences"
        ):
            keys.append(key)  # new references: the owners may already be gone
        return keys

    def sync(self, key: Key, now: datetime) -> datetime | None:
        obj = self.ctx.cache.get(key)
        if obj is None:
            return None
        if _deleting_dependents(obj):
            self._delete_dependents(key, obj)
        if obj["metadata"].get("ownerReferences"):
            self._check_owners(key, obj)
        return None

    def _delete_dependents(self, key: Key, owner: Obj) -> None:
        uid = owner["metadata"]["uid"]
        blocking = 0
        for dep_key, dependent in self.ctx.cache.dependents(uid):
            refs = [
                r for r in dependent["metadata"].get("ownerReferences") or [] if r["uid"] == uid
            ]
            if any(r.get("blockOwnerDeletion") for r in refs):
                blocking += 1
            if not is_terminating(dependent):
                self._delete(dep_key, dependent, "Foreground")
        if blocking:
            return  # wait until they are gone (their DELETED events bring us back)

        def release(o: Obj) -> None:
            finalizers = [f for f in o["metadata"].get("finalizers") or [] if f != FOREGROUND]
            if finalizers:
                o["metadata"]["finalizers"] = finalizers
            else:
                o["metadata"].pop("finalizers", None)

        self.ctx.store.update(key[0], key[1], key[2], release)

    def _check_owners(self, key: Key, obj: Obj) -> None:
        refs = obj["metadata"]["ownerReferences"]
        solid, dangling, waiting = [], [], []
        for ref in refs:
            found = self.ctx.cache.by_uid(ref["uid"])
            if found is None:
                dangling.append(ref)
            elif _deleting_dependents(found[1]):
                waiting.append(ref)
            else:
                solid.append(ref)
        if solid:
            if not dangling and not waiting:
                return
            gone = {r["uid"] for r in [*dangling, *waiting]}

            def prune(o: Obj) -> None:
                kept = [
                    r for r in o["metadata"].get("ownerReferences") or [] if r["uid"] not in gone
                ]
                o["metadata"]["ownerReferences"] = kept

            self.ctx.store.update(key[0], key[1], key[2], prune)
            return
        if is_terminating(obj):
            return
        if waiting and self.ctx.cache.dependents(obj["metadata"]["uid"]):
            self._delete(key, obj, "Foreground")
            return
        finalizers = obj["metadata"].get("finalizers") or []
        policy = "Orphan" if ORPHAN in finalizers else "Background"
        if FOREGROUND in finalizers:
            policy = "Foreground"
        self._delete(key, obj, policy)

    def _delete(self, key: Key, obj: Obj, policy: str) -> None:
        with contextlib.suppress(StoreError):  # gone meanwhile: nothing left to do
            self.ctx.delete(key[0], obj, None if key[0] == "pods" else policy)
