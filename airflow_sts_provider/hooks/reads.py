"""What one poke and one watch cycle read, written once for both hooks.

The reads of a poke are a *plan*: a generator that yields :class:`Read` steps and
receives their answers (the sans-I/O pattern). The sync hook answers them with
urllib3, the async hook with aiohttp, through :func:`run_plan` / :func:`arun_plan`;
so the order of the reads, what is listed by which selector and what a 404 means
exist once. An API error raised while answering a step is thrown into the plan,
which decides: the workload's 404 is "not found", an event read that fails is
skipped, anything else propagates to the hook's caller.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from airflow_sts_provider.exceptions import (
    ContinueExpiredError,
    KubernetesApiCallError,
    NotFoundError,
    UnservedKindError,
)
from airflow_sts_provider.hooks.events import (
    EVENTS_PER_POD,
    MAX_PODS_WITH_EVENTS,
    event_field_selector,
    pods_needing_events,
    warning_event_lines,
)
from airflow_sts_provider.hooks.paging import Pager
from airflow_sts_provider.hooks.wire import Obj, Request
from airflow_sts_provider.kinds import ApiResource, Kind
from airflow_sts_provider.readiness import ReadinessPolicy, Verdict
from airflow_sts_provider.reporting import not_found_verdict

T = TypeVar("T")
#: Key of the workload itself in a :class:`Picture` and among a cycle's watches.
WORKLOAD = "workload"


@dataclass(frozen=True)
class Read:
    """One step of a plan: a GET (answer: the object) or a paged LIST (answer: a Listing)."""

    request: Request
    params: Mapping[str, str] = field(default_factory=dict)
    paged: bool = False


@dataclass(frozen=True)
class Listing:
    """The answer to a paged LIST: every item, and the version to watch from."""

    items: list[Obj]
    resource_version: str | None
    pages: int = 1


@dataclass(frozen=True)
class Watch:
    """One watch of a cycle: what to watch, with which selector, from which version."""

    key: str
    request: Request
    params: Mapping[str, str]
    resource_version: str | None


def name_of(obj: Mapping[str, Any]) -> str:
    """``metadata.name`` of an object, ``""`` when its metadata is not a mapping."""
    meta = obj.get("metadata")
    return str(meta.get("name") or "") if isinstance(meta, Mapping) else ""


def request_for(
    verb: str, resource: ApiResource, namespace: str, name: str | None = None
) -> Request:
    """A request for ``resource`` as the kinds table names it."""
    return Request(verb, resource.plural, namespace, name, resource.group, resource.version)


@dataclass
class Picture:
    """What was read of one workload: the object and its related objects by name.

    A poke fills it once; a trigger keeps it current from watch events.
    """

    kind: Kind
    name: str
    namespace: str
    workload: Obj | None = None
    related: dict[str, dict[str, Obj]] = field(default_factory=dict)

    def apply(self, key: str, event_type: str, obj: Obj) -> None:
        """Take one watch event (``ADDED``/``MODIFIED``/``DELETED``) for ``key``."""
        if key == WORKLOAD:
            self.workload = None if event_type == "DELETED" else obj
            return
        table = self.related.setdefault(key, {})
        if event_type == "DELETED":
            table.pop(name_of(obj), None)
        else:
            table[name_of(obj)] = obj

    def judge(self, now: datetime, policy: ReadinessPolicy) -> Verdict:
        """The kind's rules over what was read; "not found" while there is no workload."""
        if self.workload is None:
            return not_found_verdict(self.kind.name, self.name, self.namespace)
        related = {
            r.plural: list(self.related.get(r.plural, {}).values()) for r in self.kind.related
        }
        return self.kind.judge(self.workload, related, now, policy)

    def pod_uids(self) -> dict[str, Any]:
        """Pod name -> uid of the pods judged (for events of *this* pod, not a predecessor)."""
        pods = list(self.related.get("pods", {}).values())
        if self.kind.resource.plural == "pods" and self.workload is not None:
            pods = [self.workload]
        return {name_of(pod): (pod.get("metadata") or {}).get("uid") for pod in pods}


Plan = Generator[Read, Any, T]


def poke_plan(kind: Kind, name: str, namespace: str) -> Plan[Picture]:
    """GET the workload; LIST each related resource by the workload's selector."""
    picture, _ = yield from watch_plan(kind, name, namespace)
    return picture


def watch_plan(kind: Kind, name: str, namespace: str) -> Plan[tuple[Picture, list[Watch]]]:
    """What a watch cycle starts from: the poke's reads, and what to watch from where.

    The workload is read with a GET (RBAC: ``get`` + ``watch``, no ``list``) and
    watched by ``metadata.name`` from its own resourceVersion; each related
    resource is watched by the selector from the version its LIST was taken at.
    """
    picture = Picture(kind, name, namespace)
    try:
        picture.workload = yield Read(request_for("get", kind.resource, namespace, name))
    except NotFoundError:
        return picture, []
    by_name = {"fieldSelector": f"metadata.name={name}"}
    version = (picture.workload.get("metadata") or {}).get("resourceVersion")
    watches = [Watch(WORKLOAD, request_for("watch", kind.resource, namespace), by_name, version)]
    selector = {"labelSelector": kind.selector(picture.workload)}
    for resource in kind.related:
        request = request_for("list", resource, namespace)
        listing = yield Read(request, selector, paged=True)
        picture.related[resource.plural] = {name_of(obj): obj for obj in listing.items}
        watch = Watch(resource.plural, request.as_verb("watch"), selector, listing.resource_version)
        watches.append(watch)
    return picture, watches


def events_plan(
    verdict: Verdict, picture: Picture, on_error: Callable[[KubernetesApiCallError], None]
) -> Plan[Verdict]:
    """Read the newest Warning events of the failing pods; reading them never fails a poke."""
    uids = picture.pod_uids()
    events: dict[str, list[str]] = {}
    for pod_name in pods_needing_events(verdict)[:MAX_PODS_WITH_EVENTS]:
        request = Request("list", "events", picture.namespace)
        try:
            page = yield Read(request, {"fieldSelector": event_field_selector(pod_name)})
        except KubernetesApiCallError as exc:
            on_error(exc)
            break
        lines = warning_event_lines(
            page.get("items") or (), pod_uid=uids.get(pod_name), limit=EVENTS_PER_POD
        )
        if lines:
            events[pod_name] = lines
    return verdict.with_pod_events(events) if events else verdict


def list_plan(read: Read, limit: int) -> Plan[Listing]:
    """A paged LIST as single GETs (``limit``/``continue``), restarted once on expiry."""
    pager = Pager(limit=limit)
    while not pager.done:
        try:
            page = yield Read(read.request, {**read.params, **pager.params()})
        except ContinueExpiredError as exc:
            pager.restart(exc)
            continue
        pager.add(page)
    return Listing(pager.items, pager.resource_version, pager.pages)


def workloads_plan(kinds: Sequence[Kind], selector: str, namespace: str) -> Plan[list[Picture]]:
    """Every workload of ``kinds`` matching ``selector``, each with what its kind reads.

    One paged LIST per kind by the release's selector (``app.kubernetes.io/instance=``),
    then, per workload found, the LISTs its own row names, by its own selector.
    """
    pictures: list[Picture] = []
    for kind in kinds:
        request = request_for("list", kind.resource, namespace)
        listing = yield Read(request, {"labelSelector": selector}, paged=True)
        for workload in listing.items:
            picture = Picture(kind, name_of(workload), namespace, workload)
            related = {"labelSelector": kind.selector(workload)}
            for resource in kind.related:
                found = yield Read(request_for("list", resource, namespace), related, paged=True)
                picture.related[resource.plural] = {name_of(obj): obj for obj in found.items}
            pictures.append(picture)
    return pictures


def discovery_plan(api_version: str, kind: str) -> Plan[ApiResource]:
    """The resource that serves ``kind`` in ``api_version``, from API discovery, never guessed.

    Plurals are not derivable from kinds (``Kafka`` -> ``kafkas``, ``Policy`` ->
    ``policies``, CRDs may choose anything), so ask the API server, as kubectl does.
    """
    group, _, version = api_version.rpartition("/")
    path = f"/apis/{group}/{version}" if group else f"/api/{version}"
    request = Request("get", "discovery", None, None, group, version, raw_path=path)
    try:
        listing = yield Read(request)
    except NotFoundError:
        raise UnservedKindError(
            api_version, kind, f"the API group {api_version} is not served"
        ) from None
    for entry in listing.get("resources") or ():
        if (
            isinstance(entry, Mapping)
            and entry.get("kind") == kind
            and "/" not in str(entry.get("name"))
        ):
            return ApiResource(group, version, str(entry["name"]))
    raise UnservedKindError(api_version, kind, f"{api_version} serves no kind {kind}")


def absence_plan(kind: Kind, name: str, namespace: str) -> Plan[str]:
    """Why a workload is not found, as far as the identity may tell: namespace, close names.

    Needs ``list`` on the kind and ``get`` on the namespace, which the least-privilege
    Role does not grant: a refusal only makes the message say less.
    """
    where = f"{kind.name.lower()} {namespace}/{name} not found"
    try:
        yield Read(Request("get", "namespaces", None, namespace, "", "v1"))
    except NotFoundError:
        return f"{where}: namespace {namespace!r} does not exist"
    except KubernetesApiCallError:
        pass  # not allowed to tell; say what we can
    try:
        listing = yield Read(request_for("list", kind.resource, namespace), {}, paged=True)
    except KubernetesApiCallError:
        return f"{where} (this identity may not list {kind.resource.plural} to suggest names)"
    names = [name_of(obj) for obj in listing.items]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if close:
        return f"{where}: did you mean {', '.join(f'`{c}`' for c in close)}?"
    return (
        f"{where}; {kind.resource.plural} in {namespace}: {', '.join(sorted(names)[:10]) or 'none'}"
    )


def run_plan(plan: Plan[T], answer: Callable[[Read], Any]) -> T:
    """Answer each step of ``plan`` synchronously; API errors go back into the plan."""
    reply: tuple[bool, Any] = (True, None)
    while True:
        try:
            step = plan.send(reply[1]) if reply[0] else plan.throw(reply[1])
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        try:
            reply = (True, answer(step))
        except KubernetesApiCallError as exc:
            reply = (False, exc)


async def arun_plan(plan: Plan[T], answer: Callable[[Read], Awaitable[Any]]) -> T:
    """:func:`run_plan` for the async hook."""
    reply: tuple[bool, Any] = (True, None)
    while True:
        try:
            step = plan.send(reply[1]) if reply[0] else plan.throw(reply[1])
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        try:
            reply = (True, await answer(step))
        except KubernetesApiCallError as exc:
            reply = (False, exc)


# ---------------------------------------------------------------- shared (informer) reads


def namespace_plan(resource: ApiResource, namespace: str) -> Plan[Listing]:
    """Every object of ``resource`` in ``namespace``: what one shared watch starts from.

    Triggers that share a stream read each resource once for the whole namespace
    (RBAC: ``list`` + ``watch`` there) instead of once per workload by its selector.
    """
    listing: Listing = yield Read(request_for("list", resource, namespace), {}, paged=True)
    return listing


def namespace_watch(resource: ApiResource, namespace: str, version: str | None) -> Watch:
    """The namespace-wide watch of ``resource`` from ``version`` (keyed by its plural)."""
    return Watch(resource.plural, request_for("watch", resource, namespace), {}, version)


def clock_plan() -> Plan[Obj]:
    """The smallest read there is (``GET /version``): its answer's ``Date`` is the server's now.

    A watch sends its ``Date`` only when it opens; a stability window is judged on the
    server's clock, so a subscriber of a shared stream waking at a window's end asks
    for a fresh one. Every identity may read ``/version`` (``system:public-info-viewer``).
    """
    version: Obj = yield Read(Request("get", "version", None, None, "", "", raw_path="/version"))
    return version
