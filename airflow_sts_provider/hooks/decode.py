"""Response bodies to dicts: the big lists slimmed to the fields the rules read.

Most of a poke is decoding bytes: a pod is ~7 KB of JSON of which the rules read a
few hundred bytes. The LISTs a poke pages through (pods, ReplicaSets,
ControllerRevisions) and the events of failing pods are decoded with ``msgspec``
into ``TypedDict`` schemas of exactly those fields: the result is still plain
dicts (the rules are stdlib-only and read Mappings), minus every field no rule
reads (volumes, env, images, managedFields, a revision's whole pod template).

Leaves are typed ``Any``: whatever a field holds reaches the rules as it is, so a
wrong leaf is judged exactly as today; so is every object whose emptiness a rule
tests (a container's ``terminated``: an object with only unread keys must stay
non-empty). Only the nesting is typed; a body whose
nesting does not fit (an object where a list belongs, a null pod) is decoded in
full instead, so the rules' wrong-shape findings see the real shape
(:mod:`airflow_sts_provider.readiness.shapes`). Everything else (the workload's GET,
custom resources, discovery, Status bodies) is always decoded in full, and so is
every body when ``msgspec`` is not importable: ``json`` is the fallback, and
:func:`~airflow_sts_provider.hooks.wire.decode_object`'s contract holds on every
path (a body that is not a JSON object is transient).
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
import threading
from collections.abc import Iterator
from typing import Any, Final, TypedDict

from airflow_sts_provider.hooks.wire import JsonObject, Request, decode_object

try:
    import msgspec
except ImportError:  # pragma: no cover - exercised by reloading with msgspec hidden
    msgspec = None  # type: ignore[assignment]

__all__ = ["HAVE_MSGSPEC", "SLIM_RESOURCES", "decode_body", "decode_full", "peek_continue"]


# --------------------------------------------------------------------------- schemas
# Every object is ``total=False`` (an absent field stays absent) and ``| None`` (a
# null stays null): the rules treat both as the API defines them.


class _Meta(TypedDict, total=False):
    name: Any
    namespace: Any
    uid: Any
    resourceVersion: Any
    generation: Any
    creationTimestamp: Any
    deletionTimestamp: Any
    labels: Any
    annotations: Any
    ownerReferences: Any


class _Container(TypedDict, total=False):
    name: Any
    restartPolicy: Any


class _PodSpec(TypedDict, total=False):
    nodeName: Any
    containers: list[_Container] | None
    initContainers: list[_Container] | None
    readinessGates: Any
    affinity: Any  # a DaemonSet pins a pending pod to its node here (node_of)


class _Condition(TypedDict, total=False):
    type: Any
    status: Any
    reason: Any
    message: Any
    lastTransitionTime: Any


class _Running(TypedDict, total=False):
    startedAt: Any


class _State(TypedDict, total=False):
    waiting: Any  # P3 reads a waiting state of any shape (is_map)
    running: _Running | None
    terminated: Any  # kept whole: the rules ask whether it is empty ("exit details")


class _LastState(TypedDict, total=False):
    terminated: Any


class _ContainerStatus(TypedDict, total=False):
    name: Any
    ready: Any
    restartCount: Any
    state: _State | None
    lastState: _LastState | None


class _PodStatus(TypedDict, total=False):
    phase: Any
    reason: Any
    message: Any
    podIP: Any
    conditions: list[_Condition] | None
    initContainerStatuses: list[_ContainerStatus] | None
    containerStatuses: list[_ContainerStatus] | None


class _Pod(TypedDict, total=False):
    metadata: _Meta | None
    spec: _PodSpec | None
    status: _PodStatus | None


class _Owned(TypedDict, total=False):
    """A ReplicaSet as Deployment rules read it: who owns it, at which revision."""

    metadata: _Meta | None


class _Revision(TypedDict, total=False):
    """A ControllerRevision without its ``data`` (a whole pod template)."""

    metadata: _Meta | None
    revision: Any


class _EventMeta(TypedDict, total=False):
    creationTimestamp: Any


class _Event(TypedDict, total=False):
    metadata: _EventMeta | None
    type: Any
    reason: Any
    message: Any
    count: Any
    series: Any
    lastTimestamp: Any
    eventTime: Any
    firstTimestamp: Any
    involvedObject: Any


# "continue" is a Python keyword: only the functional form can name it.
_ListMetaWithContinue = TypedDict(
    "_ListMetaWithContinue",
    {"resourceVersion": Any, "remainingItemCount": Any, "continue": Any},
    total=False,
)


class _PodList(TypedDict, total=False):
    metadata: _ListMetaWithContinue | None
    items: list[_Pod] | None


class _OwnedList(TypedDict, total=False):
    metadata: _ListMetaWithContinue | None
    items: list[_Owned] | None


class _RevisionList(TypedDict, total=False):
    metadata: _ListMetaWithContinue | None
    items: list[_Revision] | None


class _EventList(TypedDict, total=False):
    metadata: _ListMetaWithContinue | None
    items: list[_Event] | None


#: (API group, resource) of the LISTs decoded slim, and the schema of each.
_SCHEMAS: Final[dict[tuple[str, str], Any]] = {
    ("", "pods"): _PodList,
    ("apps", "replicasets"): _OwnedList,
    ("apps", "controllerrevisions"): _RevisionList,
    ("", "events"): _EventList,
}
SLIM_RESOURCES: Final = frozenset(resource for _, resource in _SCHEMAS)

HAVE_MSGSPEC: Final = msgspec is not None
_DECODERS: dict[tuple[str, str], Any] = (
    {key: msgspec.json.Decoder(schema) for key, schema in _SCHEMAS.items()} if HAVE_MSGSPEC else {}
)


class _CollectorPause:
    """Pause the cyclic collector while any thread decodes a page; resume after the last.

    The collector is one switch for the whole process, and a worker or a triggerer may
    decode in several threads at once. Each thread saving and restoring the switch on
    its own can interleave so that the last restore writes "off" (one thread reads
    "off" while another has paused it): the collector would then stay off for the
    life of the process. So the pauses are counted under one lock, and the state
    found by the first is the state restored by the last.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pausing = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._pausing == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._pausing += 1
        try:
            yield
        finally:
            with self._lock:
                self._pausing -= 1
                if self._pausing == 0 and self._was_enabled:
                    gc.enable()


_collector_paused = _CollectorPause()


def _slim_decoder(request: Request) -> Any:
    """The slim decoder of a LIST of core v1 pods/events or apps/v1 sets, else None.

    A custom resource may call itself ``pods`` in its own group: its group tells.
    """
    if request.verb != "list" or request.version != "v1" or request.raw_path:
        return None
    return _DECODERS.get((request.api_group, request.resource))


def decode_body(request: Request, data: bytes | str) -> JsonObject:
    """A response body as the rules read it: slim where a schema fits, else in full.

    :raises TransientKubernetesError: the body is not a JSON object (a proxy's page,
        a truncated read): the next request may well be fine.
    """
    decoder = _slim_decoder(request)
    if decoder is not None:
        try:
            # A page builds ~150,000 dicts and lists at once, all alive: the cyclic
            # collector's passes meanwhile only promote them, and doubled a paged
            # poke's CPU (5,000 pods: 0.72 s -> 0.32 s without). The tree decoded is
            # acyclic; the collector runs again, as it was, once the page is built.
            with _collector_paused():
                obj: JsonObject = decoder.decode(data)
            return obj
        except msgspec.MsgspecError:
            pass  # not JSON, not an object, or a shape the schema does not fit: in full
    return decode_full(request, data)


def decode_full(request: Request, data: bytes | str) -> JsonObject:
    """Every field of the body (``json``), a body that is not a JSON object transient."""
    return decode_object(request, data)


# --------------------------------------------------------------------------- continue

#: A LIST body opens with its ``metadata`` (the API server writes kind, apiVersion,
#: metadata, items, in that order); the token is within the first bytes.
_HEAD: Final = 8192
_CONTINUE = re.compile(rb'"continue"\s*:\s*"((?:[^"\\]|\\.)*)"')


def peek_continue(data: bytes) -> str | None:
    """The ``metadata.continue`` token from a LIST body's first bytes, before decoding it.

    Only a guess to start the next page early: the hook checks it against the page
    the plan actually asks for, so a wrong guess costs one wasted request, never a
    wrong answer. None when the head holds no token before the first item.
    """
    head = data[:_HEAD]
    end = head.find(b'"items"')
    match = _CONTINUE.search(head, 0, end if end >= 0 else len(head))
    if match is None:
        return None
    try:
        token = json.loads(b'"' + match.group(1) + b'"')
    except ValueError:
        return None
    return token if isinstance(token, str) and token else None
