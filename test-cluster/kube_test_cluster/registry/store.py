"""The test cluster's object store: what etcd plus the apiserver's registry do.

One lock guards everything; the emulator is small and correctness beats
concurrency here. Objects are plain JSON dicts exactly as the API returns
them. Callers always get deep copies (:func:`clone`, a JSON-only deep copy several
times faster than :func:`copy.deepcopy`), so nothing outside the store can change
stored state without going through a write that bumps ``resourceVersion`` and
feeds watchers. Once stored an object is never changed in place, so the watch
history and the listeners share the stored object instead of copying it.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from kube_test_cluster.clock import Clock, rfc3339
from kube_test_cluster.registry.defaults import apply_defaults

Obj = dict[str, Any]
#: ``list`` is also a Store method name; these aliases keep annotations unambiguous
ObjList = list[Obj]

#: plural resource name -> (apiVersion, kind, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("v1", "Namespace", False),
    "nodes": ("v1", "Node", False),
    "pods": ("v1", "Pod", True),
    "events": ("v1", "Event", True),
    "statefulsets": ("apps/v1", "StatefulSet", True),
    "deployments": ("apps/v1", "Deployment", True),
    "replicasets": ("apps/v1", "ReplicaSet", True),
    "daemonsets": ("apps/v1", "DaemonSet", True),
    "controllerrevisions": ("apps/v1", "ControllerRevision", True),
}

#: kinds whose spec changes bump metadata.generation (as the real registry does)
GENERATION_KINDS = frozenset(
    {"statefulsets", "deployments", "replicasets", "daemonsets", "customresourcedefinitions"}
)
CRDS = "customresourcedefinitions"
#: served by every store (kept out of :data:`RESOURCES`, the built-in workload kinds)
CRD_RESOURCE = ("apiextensions.k8s.io/v1", "CustomResourceDefinition", False)
#: plural -> API group of every custom resource any store ever served (for messages only)
CUSTOM_GROUPS: dict[str, str] = {CRDS: "apiextensions.k8s.io"}


@dataclass(frozen=True)
class CustomKind:
    """What a CustomResourceDefinition serves (its storage version)."""

    group: str
    version: str
    kind: str
    list_kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    status: bool  # the status subresource is enabled

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


def custom_kind(crd: Obj) -> CustomKind:
    """The served kind of a CRD (its storage version, else its first served one)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = spec.get("versions") or []
    stored = [v for v in versions if v.get("storage")]
    served = [v for v in versions if v.get("served", True)]
    chosen: Obj = (stored or served or [{}])[0]
    kind = str(names.get("kind", ""))
    return CustomKind(
        group=str(spec.get("group", "")),
        version=str(chosen.get("name", "v1")),
        kind=kind,
        list_kind=str(names.get("listKind") or f"{kind}List"),
        plural=str(names.get("plural", "")),
        singular=str(names.get("singular") or kind.lower()),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        status="status" in (chosen.get("subresources") or {}),
    )


#: the annotation the DaemonSet registry keeps (``spec.templateGeneration`` of old)
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


class StoreError(Exception):
    """A write the apiserver would refuse; ``code``/``reason`` map to a Status body."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


class Gone(StoreError):  # noqa: N818 - named after the HTTP status, as client-go's IsGone
    """A watch asked for a resourceVersion older than the retained history."""

    def __init__(self, message: str) -> None:
        super().__init__(410, "Expired", message)


@dataclass(frozen=True)
class Change:
    """One entry of the watch history: ADDED, MODIFIED or DELETED."""

    resource_version: int
    resource: str
    type: str
    obj: Obj
    #: the object as stored before this change (None for ADDED); watches use it to tell
    #: "stopped matching the selector" (sent as DELETED) from "never matched"
    old: Obj | None = None


ChangeList = list[Change]

_NESTED = (dict, list)
_T = TypeVar("_T")


def clone(value: _T) -> _T:
    """A deep copy of a JSON value (dicts and lists copied, everything else shared).

    What :func:`copy.deepcopy` gives for the store's JSON objects, ~5x faster: the
    copies of every write were most of the cost of bringing up thousands of pods.
    """
    return cast(_T, _clone(value))


def _clone(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: _clone(v) if type(v) in _NESTED else v for k, v in value.items()}
    if kind is list:
        return [_clone(v) if type(v) in _NESTED else v for v in value]
    return value


class Store:
    """Objects by (resource, namespace, name), a global resourceVersion and a watch log."""

    def __init__(self, clock: Clock, *, history: int = 20_000) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self._objects: dict[tuple[str, str, str], Obj] = {}
        #: resource -> its objects sorted by (namespace, name); dropped on its next write,
        #: so paging a big list does not sort every stored object once per page
        self._sorted: dict[str, dict[str | None, ObjList]] = {}
        self._rv = itertools.count(start=1000)
        self._last_rv = 999
        self._log: deque[Change] = deque(maxlen=history)
        self._floor = 999  # history at or below this resourceVersion is gone
        self._listeners: list[Callable[[Change], None]] = []
        #: plural -> (apiVersion, kind, namespaced): the built-in kinds plus the CRDs' kinds
        self.resources: dict[str, tuple[str, str, bool]] = {**RESOURCES, CRDS: CRD_RESOURCE}
        #: plural -> the custom kind a CustomResourceDefinition serves
        self.custom: dict[str, CustomKind] = {}

    # -- reads -------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        """The newest resourceVersion handed out (what a list reports)."""
        with self.lock:
            return self._last_rv

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        with self.lock:
            found = self._objects.get((resource, self.namespace_of(resource, namespace), name))
            return clone(found) if found is not None else None

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        predicate: Callable[[Obj], bool] | None = None,
    ) -> list[Obj]:
        """Objects of one resource, sorted by namespace then name (as etcd keys sort)."""
        with self.lock:
            items = [
                obj
                for (res, ns, _), obj in self._objects.items()
                if res == resource
                and (namespace is None or ns == self.namespace_of(resource, namespace))
            ]
            items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
            return [clone(o) for o in items if predicate is None or predicate(o)]

    # -- writes ------------------------------------------------------------
    def create(self, resource: str, obj: Obj) -> Obj:
        """Store a new object; fills uid, resourceVersion, creationTimestamp, generation."""
        return clone(self._create(resource, clone(obj)))

    def add(self, resource: str, obj: Obj) -> None:
        """:meth:`create`, handing ``obj`` over: stored as it is, so the caller must not
        touch it again (what a controller does with a body it built for the write)."""
        self._create(resource, obj)

    def _create(self, resource: str, obj: Obj) -> Obj:
        api_version, kind, namespaced = self.resource_info(resource)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if not meta.get("name"):
            raise StoreError(
                422,
                "Invalid",
                f"{kind}: metadata.name: Required value: name or generateName is required",
            )
        if namespaced:
            meta["namespace"] = meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        key = (resource, meta.get("namespace", ""), meta["name"])
        with self._changed:
            if key in self._objects:
                raise StoreError(
                    409,
                    "AlreadyExists",
                    f'{self.qualified(resource)} "{meta["name"]}" already exists',
                )
            obj["apiVersion"], obj["kind"] = api_version, kind
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = rfc3339(self.clock.now())
            if resource in GENERATION_KINDS or resource in self.custom:
                meta["generation"] = 1
            if resource == "daemonsets":
                meta["annotations"] = {**(meta.get("annotations") or {}), TEMPLATE_GENERATION: "1"}
            apply_defaults(resource, obj, creating=True)
            if resource == CRDS:
                obj["status"] = _crd_status(obj, meta["creationTimestamp"])
            self._objects[key] = obj
            self._record(resource, "ADDED", obj)
            return obj

    def snapshot(
        self,
        resource: str,
        namespace: str | None = None,
        at: int | None = None,
        *,
        copies: bool = True,
    ) -> tuple[ObjList, int]:
        """Objects of one resource as they were at resourceVersion ``at`` (default: now).

        Returns ``(objects, resourceVersion)`` read atomically, sorted like :meth:`list`.
        Past states are rebuilt by undoing the watch history newer than ``at``; when
        that history was compacted away this raises :class:`Gone`, as etcd does for a
        compacted revision. ``copies=False`` returns the stored objects themselves (the
        store never changes an object in place once stored): only for readers that
        do not mutate, such as the API server serializing a large list page by page.
        """
        with self.lock:
            current = self._current(resource, namespace)
            if at is None or at >= self._last_rv:
                return (clone(current) if copies else current), self._last_rv
            if at < self._floor:
                raise Gone(f"too old resource version: {at} ({self._floor})")
            state = {
                (o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in current
            }
            for change in reversed(self._log):
                if change.resource_version <= at:
                    break
                if change.resource != resource:
                    continue
                meta = change.obj["metadata"]
                key = (meta.get("namespace", ""), meta["name"])
                if namespace is not None and key[0] != self.namespace_of(resource, namespace):
                    continue
                if change.old is None:
                    state.pop(key, None)
                else:
                    state[key] = change.old
            past = [state[k] for k in sorted(state)]
            return (clone(past) if copies else past), at

    def _current(self, resource: str, namespace: str | None) -> ObjList:
        """Objects of ``resource`` (in ``namespace``) now, in key order, from the sorted cache.

        The list is the cache's own, shared by every reader until the resource's next
        write: callers only read it (``snapshot`` clones it unless ``copies=False``).
        """
        ns = None if namespace is None else self.namespace_of(resource, namespace)
        by_namespace = self._sorted.get(resource)
        if by_namespace is None:
            ordered = sorted(item for item in self._objects.items() if item[0][0] == resource)
            by_namespace = {None: [obj for _, obj in ordered]}
            for (_, obj_ns, _), obj in ordered:
                by_namespace.setdefault(obj_ns, []).append(obj)
            self._sorted[resource] = by_namespace
        return by_namespace.get(ns, [])

    def replace(self, resource: str, obj: Obj, *, expect_rv: str | None = None) -> Obj:
        """Replace an object whole (PUT). Bumps generation when ``spec`` changed.

        ``expect_rv`` gives optimistic concurrency: a stale resourceVersion is a 409 Conflict.
        """
        return clone(self._replace(resource, clone(obj), expect_rv=expect_rv))

    def replace_status(self, resource: str, current: Obj, status: Obj) -> None:
        """Replace the status of ``current``, the stored version (hold the store lock).

        Copies only what the write changes (the metadata and the new status); the rest
        is shared with the stored object, which is never changed in place, and
        defaulting leaves an already stored spec as it is.
        """
        self.hand_over_status(resource, current, clone(status))

    def hand_over_status(self, resource: str, current: Obj, status: Obj) -> None:
        """:meth:`replace_status`, storing ``status`` itself, uncopied.

        Only for an internal writer that built ``status`` for this write and never
        changes it (or anything in it) again, as the kubelet does; never for a body
        that came from an API client.
        """
        obj = {**current, "metadata": dict(current["metadata"]), "status": status}
        self._replace(resource, obj)

    def put(self, resource: str, obj: Obj) -> Obj:
        """:meth:`replace`, handing ``obj`` over; returns the stored object (read only).

        For internal writers only: ``obj`` and its ``metadata`` must be the caller's own
        fresh dicts; anything else in it may be shared with stored objects but nobody
        may change it in place again (the scheduler's binding, built from the cache).
        """
        return self._replace(resource, obj)

    def _replace(self, resource: str, obj: Obj, *, expect_rv: str | None = None) -> Obj:
        """:meth:`replace` of an object the store owns already (a copy no one else holds)."""
        meta = obj["metadata"]
        key = (resource, self.namespace_of(resource, meta.get("namespace", "")), meta["name"])
        with self._changed:
            old = self._objects.get(key)
            if old is None:
                raise StoreError(
                    404, "NotFound", f'{self.qualified(resource)} "{meta["name"]}" not found'
                )
            if expect_rv and expect_rv != old["metadata"]["resourceVersion"]:
                raise StoreError(
                    409,
                    "Conflict",
                    f"Operation cannot be fulfilled on {self.qualified(resource)} "
                    f'"{meta["name"]}": '
                    "the object has been modified; please apply your changes to the latest "
                    "version and try again",
                )
            apply_defaults(resource, obj, creating=False)
            for immutable in ("uid", "creationTimestamp", "namespace", "name"):
                if immutable in old["metadata"]:
                    meta[immutable] = old["metadata"][immutable]
            if resource in GENERATION_KINDS:
                generation = old["metadata"].get("generation", 1)
                if obj.get("spec") != old.get("spec"):
                    generation += 1
                meta["generation"] = generation
            elif resource in self.custom:  # any change but metadata and status
                generation = old["metadata"].get("generation", 1)
                if _content(obj) != _content(old):
                    generation += 1
                meta["generation"] = generation
            if resource == "daemonsets":
                _template_generation(old, obj)
            for sticky in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                # once set, only the apiserver's delete path may change these
                if meta.get(sticky) is None and old["metadata"].get(sticky) is not None:
                    meta[sticky] = old["metadata"][sticky]
            obj["apiVersion"], obj["kind"] = old["apiVersion"], old["kind"]
            if _deletion_complete(old, obj):
                # The last finalizer of an object being deleted is gone: remove it now,
                # as the apiserver does inside the update that cleared the finalizers.
                del self._objects[key]
                self._record(resource, "DELETED", obj, old)
                return obj
            self._objects[key] = obj
            self._record(resource, "MODIFIED", obj, old)
            return obj

    def update(
        self, resource: str, namespace: str, name: str, mutate: Callable[[Obj], None]
    ) -> Obj:
        """Read-modify-write under the lock: the way controllers and the kubelet write."""
        with self._changed:
            stored = self._objects.get((resource, self.namespace_of(resource, namespace), name))
            if stored is None:
                raise StoreError(404, "NotFound", f'{self.qualified(resource)} "{name}" not found')
            current = clone(stored)
            mutate(current)
            if current == stored:
                return current  # no-op writes do not bump resourceVersion, as in the apiserver
            return clone(self._replace(resource, current))

    def delete(self, resource: str, namespace: str, name: str) -> Obj:
        """Remove an object now (graceful pod deletion is the caller's business)."""
        key = (resource, self.namespace_of(resource, namespace), name)
        with self._changed:
            old = self._objects.pop(key, None)
            if old is None:
                raise StoreError(404, "NotFound", f'{self.qualified(resource)} "{name}" not found')
            gone = clone(old)  # ``old`` stays as it was: readers may hold it
            self._record(resource, "DELETED", gone, old)
            return clone(gone)

    # -- watch -------------------------------------------------------------
    def changes_since(self, resource_version: int, resource: str | None = None) -> ChangeList:
        """History after ``resource_version``; raises :class:`Gone` if it was compacted away."""
        with self.lock:
            if resource_version < self._floor:
                raise Gone(f"too old resource version: {resource_version} ({self._floor})")
            newer: ChangeList = []
            for change in reversed(self._log):  # newest first: stop at the first old entry
                if change.resource_version <= resource_version:
                    break
                if resource is None or change.resource == resource:
                    newer.append(change)
            newer.reverse()
            return newer

    def wait_for_change(self, after: int, timeout: float) -> bool:
        """Block until a write newer than ``after`` happens or ``timeout`` real seconds pass."""
        with self._changed:
            return self._changed.wait_for(lambda: self._last_rv > after, timeout=timeout)

    def compact(self) -> None:
        """Forget all watch history (a test's way to force 410 Gone on old resourceVersions)."""
        with self.lock:
            self._log.clear()
            self._floor = self._last_rv

    def add_listener(self, listener: Callable[[Change], None]) -> None:
        """Call ``listener`` (under the store lock) after every write; used to wake controllers."""
        with self.lock:
            self._listeners.append(listener)

    def _record(self, resource: str, type_: str, obj: Obj, old: Obj | None = None) -> None:
        rv = next(self._rv)
        self._last_rv = rv
        self._sorted.pop(resource, None)
        obj["metadata"]["resourceVersion"] = str(rv)
        change = Change(rv, resource, type_, obj, old)  # ``obj`` is never changed again
        if len(self._log) == self._log.maxlen:
            self._floor = self._log[0].resource_version
        self._log.append(change)
        for listener in self._listeners:
            listener(change)
        self._changed.notify_all()
        if resource == CRDS:
            self._serve_crd(type_, obj, old)

    # -- custom resources --------------------------------------------------------------
    def _serve_crd(self, type_: str, crd: Obj, old: Obj | None) -> None:
        """Serve (or stop serving) the kind of a CRD; its objects go with it."""
        if old is not None:
            before = custom_kind(old)
            if type_ == "DELETED" or custom_kind(crd).plural != before.plural:
                for key in [k for k in self._objects if k[0] == before.plural]:
                    gone = self._objects.pop(key)
                    self._record(before.plural, "DELETED", clone(gone), gone)
                self.custom.pop(before.plural, None)
                self.resources.pop(before.plural, None)
        if type_ != "DELETED":
            served = custom_kind(crd)
            if served.plural:
                self.custom[served.plural] = served
                self.resources[served.plural] = (served.api_version, served.kind, served.namespaced)
                CUSTOM_GROUPS[served.plural] = served.group

    def resource_info(self, resource: str) -> tuple[str, str, bool]:
        """(apiVersion, kind, namespaced) of a plural this store serves (404 otherwise)."""
        try:
            return self.resources[resource]
        except KeyError:
            raise StoreError(
                404, "NotFound", f"the server could not find the requested resource ({resource})"
            ) from None

    def namespace_of(self, resource: str, namespace: str) -> str:
        return namespace if self.resource_info(resource)[2] else ""

    def qualified(self, resource: str) -> str:
        api_version = self.resources.get(resource, ("v1", "", True))[0]
        group = api_version.split("/")[0] if "/" in api_version else ""
        return f"{resource}.{group}" if group else resource


def _template_generation(old: Obj, new: Obj) -> None:
    """The DaemonSet strategy's ``PrepareForUpdate``: a template change bumps the annotation."""
    before = (old["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION, "1")
    current = int(before) if str(before).isdigit() else 1
    if (new.get("spec") or {}).get("template") != (old.get("spec") or {}).get("template"):
        current += 1
    new["metadata"]["annotations"] = {
        **(new["metadata"].get("annotations") or {}),
        TEMPLATE_GENERATION: str(current),
    }


def _crd_status(crd: Obj, now: str) -> Obj:
    """What the apiextensions controllers report once a CRD's names are accepted."""
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    names.setdefault("singular", str(names.get("kind", "")).lower())
    names.setdefault("listKind", f"{names.get('kind', '')}List")
    return {
        "acceptedNames": names,
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "lastTransitionTime": now,
                "reason": "NoConflicts",
                "message": "no conflicts found",
            },
            {
                "type": "Established",
                "status": "True",
                "lastTransitionTime": now,
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            },
        ],
        "storedVersions": [v.get("name") for v in spec.get("versions") or [] if v.get("storage")],
    }


def _content(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _deletion_complete(old: Obj, new: Obj) -> bool:
    """An update finished a deletion: marked, no finalizers left, no grace period pending.

    Mirrors the apiserver's ``ShouldDeleteDuringUpdate``: a pod still in its graceful
    termination (``deletionGracePeriodSeconds`` > 0) stays until the kubelet deletes it.
    """
    meta = new["metadata"]
    return (
        bool(meta.get("deletionTimestamp"))
        and not meta.get("finalizers")
        and old["metadata"].get("deletionGracePeriodSeconds") == 0
    )


def owned_by(obj: Obj, owner: Obj) -> bool:
    """True when ``obj`` has a controller ownerReference to ``owner``'s uid."""
    uid = owner["metadata"]["uid"]
    return any(
        ref.get("uid") == uid and ref.get("controller")
        for ref in obj["metadata"].get("ownerReferences", [])
    )


def controller_ref(owner: Obj) -> Obj:
    """The ownerReference a controller puts on what it creates."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def names(objs: Iterable[Obj]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]
