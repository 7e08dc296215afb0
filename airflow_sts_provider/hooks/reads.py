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
from collections import Counter
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

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
from airflow_sts_provider.hooks.labels import Selector, SelectorGroup, group_selectors, labels_of
from airflow_sts_provider.hooks.paging import Pager
from airflow_sts_provider.hooks.stamps import carry_stamps
from airflow_sts_provider.hooks.wire import JsonObject, Request
from airflow_sts_provider.kinds import ApiResource, Kind
from airflow_sts_provider.readiness import Judgement, ReadinessPolicy, Verdict
from airflow_sts_provider.reporting import not_found_verdict

T = TypeVar("T")
#: Key of the workload itself in a :class:`Picture` and among a cycle's watches.
WORKLOAD = "workload"


class PageSink(Protocol):
    """Where a paged LIST's items go page by page instead of into its :class:`Listing`."""

    def add(self, items: Any, now: datetime) -> None:
        """One page's ``items``, read at ``now`` (the server's time when it came)."""

    def clear(self) -> None:
        """The LIST starts again from its first page: forget what was added."""


class PodPages:
    """A poke's pods as their pages arrive: judged at once, only each pod's uid kept.

    The rules keep a pod's report (:class:`~airflow_sts_provider.readiness.Judgement`),
    so a poke of 20,000 pods holds one page of pods at a time, not the list. The
    uids are what the events of a failing pod are matched by.
    """

    def __init__(self, judgement: Judgement) -> None:
        self.judgement = judgement
        self.uids: dict[str, Any] = {}

    def add(self, items: Any, now: datetime) -> None:
        """One page's ``items``, judged at ``now`` (the server's time when it came)."""
        self.judgement.add_pods(items, now)
        for pod in items if isinstance(items, list) else ():
            meta = pod.get("metadata") if isinstance(pod, Mapping) else None
            if isinstance(meta, Mapping):
                self.uids[str(meta.get("name") or "")] = meta.get("uid")

    def clear(self) -> None:
        """The LIST starts again from its first page: forget what was judged."""
        self.judgement.clear_pods()
        self.uids = {}


@dataclass(frozen=True)
class Read:
    """One step of a plan: a GET (answer: the object) or a paged LIST (answer: a Listing).

    A paged LIST with ``pages`` hands each page's items there instead of keeping them.
    """

    request: Request
    params: Mapping[str, str] = field(default_factory=dict)
    paged: bool = False
    pages: PageSink | None = None


@dataclass(frozen=True)
class Listing:
    """The answer to a paged LIST: every item (none when they went to ``Read.pages``),
    the version to watch from, and how many items and pages it had."""

    items: list[JsonObject]
    resource_version: str | None
    pages: int = 1
    count: int = 0


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
    workload: JsonObject | None = None
    related: dict[str, dict[str, JsonObject]] = field(default_factory=dict)
    #: The pods, judged page by page as a poke read them (then ``related`` has none).
    pods: PodPages | None = None

    def apply(self, key: str, event_type: str, obj: JsonObject) -> None:
        """Take one watch event (``ADDED``/``MODIFIED``/``DELETED``) for ``key``."""
        if key == WORKLOAD:
            if event_type != "DELETED":
                carry_stamps(self.workload, obj)
            self.workload = None if event_type == "DELETED" else obj
            return
        table = self.related.setdefault(key, {})
        if event_type == "DELETED":
            table.pop(name_of(obj), None)
        else:
            carry_stamps(table.get(name_of(obj)), obj)
            table[name_of(obj)] = obj

    def judge(self, now: datetime, policy: ReadinessPolicy) -> Verdict:
        """The kind's rules over what was read; "not found" while there is no workload."""
        if self.workload is None:
            return not_found_verdict(self.kind.name, self.name, self.namespace)
        if self.pods is not None:  # judged by the policy the poke started with
            return self.pods.judgement.verdict(now)
        related = {
            r.plural: list(self.related.get(r.plural, {}).values()) for r in self.kind.related
        }
        return self.kind.judge(self.workload, related, now, policy)

    def size(self) -> int:
        """What judging this picture costs: the related objects held, and the pods the
        workload asks for (each one missing is a report of its own, S9)."""
        spec = (self.workload or {}).get("spec")
        replicas = spec.get("replicas") if isinstance(spec, Mapping) else None
        asked = replicas if type(replicas) is int and replicas > 0 else 0
        return asked + sum(len(table) for table in self.related.values())

    def pod_uids(self) -> dict[str, Any]:
        """Pod name -> uid of the pods judged (for events of *this* pod, not a predecessor)."""
        if self.pods is not None:
            return self.pods.uids
        pods = list(self.related.get("pods", {}).values())
        if self.kind.resource.plural == "pods" and self.workload is not None:
            pods = [self.workload]
        return {name_of(pod): (pod.get("metadata") or {}).get("uid") for pod in pods}


Plan = Generator[Read, Any, T]


def poke_plan(
    kind: Kind, name: str, namespace: str, policy: ReadinessPolicy | None = None
) -> Plan[Picture]:
    """GET the workload; LIST each related resource by the workload's selector.

    With a ``policy`` (a poke, judged once), the pods are judged page by page as
    they arrive and never held; without (a picture to keep current), all are kept.
    """
    if policy is None or kind.start is None:
        picture, _ = yield from watch_plan(kind, name, namespace)
        return picture
    picture = Picture(kind, name, namespace)
    try:
        picture.workload = yield Read(request_for("get", kind.resource, namespace, name))
    except NotFoundError:
        return picture
    yield from _related_by_pages(picture, policy)
    return picture


def _related_by_pages(picture: Picture, policy: ReadinessPolicy) -> Plan[None]:
    """The related LISTs of a workload: the others start its rules, the pods (last) feed them."""
    kind, workload = picture.kind, picture.workload
    assert kind.start is not None and workload is not None
    selector = {"labelSelector": kind.selector(workload)}
    related: dict[str, list[JsonObject]] = {}
    for resource in kind.related:
        request = request_for("list", resource, picture.namespace)
        if resource.plural == "pods":
            picture.pods = PodPages(kind.start(workload, related, policy))
            yield Read(request, selector, paged=True, pages=picture.pods)
        else:
            related[resource.plural] = (yield Read(request, selector, paged=True)).items


def watch_plan(kind: Kind, name: str, namespace: str) -> Plan[tuple[Picture, list[Watch]]]:
    """What a watch cycle starts from: the poke's reads, and what to watch from where.

    The workload is read with a GET (RBAC: ``get`` + ``watch``, no ``list``) and
    watched by ``metadata.name`` from no version: the server starts it at its newest
    state and sends that as ``ADDED``. Its own resourceVersion would not do: an object
    unchanged for a while is older than the server's watch history, and a watch from
    it is 410 at once, again after every relist. Each related resource is watched by
    the selector from the version its LIST was taken at.
    """
    picture = Picture(kind, name, namespace)
    try:
        picture.workload = yield Read(request_for("get", kind.resource, namespace, name))
    except NotFoundError:
        return picture, []
    by_name = {"fieldSelector": f"metadata.name={name}"}
    watches = [Watch(WORKLOAD, request_for("watch", kind.resource, namespace), by_name, None)]
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


def list_plan(read: Read, limit: int, now: Callable[[], datetime]) -> Plan[Listing]:
    """A paged LIST as single GETs (``limit``/``continue``), restarted once on expiry.

    With ``read.pages``, each page's items go there at ``now()`` (the hook's server
    clock) and are not kept.
    """
    sink = read.pages
    pager = Pager(limit=limit, keep=sink is None)
    while not pager.done:
        try:
            page = yield Read(read.request, {**read.params, **pager.params()})
        except ContinueExpiredError as exc:
            pager.restart(exc)
            if sink is not None:
                sink.clear()
            continue
        pager.add(page)
        if sink is not None:
            sink.add(page.get("items"), now())
    return Listing(pager.items, pager.resource_version, pager.pages, pager.count)


def workloads_plan(
    kinds: Sequence[Kind],
    selector: str,
    namespace: str,
    policy: ReadinessPolicy | None = None,
    *,
    shared: bool = True,
) -> Plan[list[Picture]]:
    """Every workload of ``kinds`` matching ``selector``, each with what its kind reads.

    One paged LIST per kind by the release's selector (``app.kubernetes.io/instance=``),
    then the related objects each workload's row names (pods, a Deployment's
    ReplicaSets, a DaemonSet's ControllerRevisions), read for many workloads at once:
    per resource, the workloads are grouped by a requirement their own selectors
    share (:func:`~airflow_sts_provider.hooks.labels.group_selectors`), each group is
    listed once by it, and each workload is given what its own selector matches,
    exactly what a LIST by its own selector returns. A release of 100 workloads whose
    selectors share a label costs a LIST per kind, per related resource, and
    per page: not one per workload (400 StatefulSets were 400 requests, 14 s a poke).
    A workload whose selector has no ``key=value`` requirement is listed alone.

    With a ``policy`` the pods are judged page by page (as :func:`poke_plan`): each
    page of a group's LIST is split among its workloads as it arrives, so the pods
    are not held (the ReplicaSets and ControllerRevisions are, as in a poke).
    Without one, each picture keeps its related objects (a trigger's picture).
    ``shared=False`` lists every workload's related objects by its own selector, one
    LIST each (the reads before; for benchmarks and comparisons).
    """
    pictures: list[Picture] = []
    for kind in kinds:
        request = request_for("list", kind.resource, namespace)
        listing = yield Read(request, {"labelSelector": selector}, paged=True)
        pictures += [Picture(kind, name_of(obj), namespace, obj) for obj in listing.items]
    yield from _release_related(pictures, namespace, policy, shared)
    return pictures


class _Kept:
    """A workload's share of a LIST, kept (a picture without a policy)."""

    def __init__(self) -> None:
        self.items: list[JsonObject] = []

    def add(self, items: Any, now: datetime) -> None:
        self.items.extend(items or ())

    def clear(self) -> None:
        self.items = []


class _Split:
    """One LIST's pages split among the workloads it serves, each getting what its selector picks.

    A page's objects go to every workload whose selector matches them (as each one's
    own LIST would have returned them; the rules match pods to their owner); what is
    not an object, or an ``items`` that is not a list, goes to every workload, as it
    would have come in each one's own LIST. A workload whose own selector is the one
    the LIST was made by takes every object unmatched. The candidates of an object
    are found by an index of one ``key=value`` of each selector (its rarest in the
    group), so splitting a page costs its objects' labels, not objects x workloads.
    """

    def __init__(self, listed_by: str, members: Sequence[tuple[Selector, PageSink]]) -> None:
        self.members = list(members)
        #: Listed by exactly their selector: they take the page as it came.
        self._whole = {
            p for p, (selector, _) in enumerate(self.members) if selector.text == listed_by
        }
        counts = Counter(pair for selector, _ in self.members for pair in set(selector.equalities))
        self._always: list[int] = []  # no equality to index them by: every object is a candidate
        self._index: dict[tuple[str, str], list[int]] = {}
        for position, (selector, _) in enumerate(self.members):
            if position in self._whole:
                continue
            if selector.equalities:
                pair = min(selector.equalities, key=counts.__getitem__)
                self._index.setdefault(pair, []).append(position)
            else:
                self._always.append(position)

    def add(self, items: Any, now: datetime) -> None:
        if not isinstance(items, list) or len(self._whole) == len(self.members):
            for _, sink in self.members:
                sink.add(items, now)
            return
        shares: list[list[Any]] = [[] for _ in self.members]
        for obj in items:
            if isinstance(obj, Mapping):
                candidates = set(self._always)
                for key, value in labels_of(obj).items():
                    candidates.update(self._index.get((key, str(value)), ()))
                for position in candidates:
                    if self.members[position][0].matches(obj):
                        shares[position].append(obj)
            else:
                for share in shares:
                    share.append(obj)
        for position, ((_, sink), share) in enumerate(zip(self.members, shares, strict=True)):
            sink.add(items if position in self._whole else share, now)

    def clear(self) -> None:
        for _, sink in self.members:
            sink.clear()


def _release_related(
    pictures: Sequence[Picture], namespace: str, policy: ReadinessPolicy | None, shared: bool
) -> Plan[None]:
    """The related objects of a release's workloads, each resource read by shared LISTs.

    The resources other than pods first (the rules start on them), then the rules
    started, then the pods, the order :func:`_related_by_pages` reads one workload in.
    """
    selectors = {
        i: Selector(p.kind.selector(p.workload))
        for i, p in enumerate(pictures)
        if p.kind.related and p.workload is not None
    }
    resources = list(dict.fromkeys(r for p in pictures for r in p.kind.related))
    resources.sort(key=lambda resource: resource.plural == "pods")  # stable: pods last
    by_pages = {
        i for i, p in enumerate(pictures) if policy is not None and p.kind.start is not None
    }
    started: dict[int, dict[str, list[JsonObject]]] = {i: {} for i in by_pages}
    for resource in resources:
        members = [i for i, p in enumerate(pictures) if resource in p.kind.related]
        sinks: dict[int, PageSink] = {}  # a judged workload's pods go to its rules; the rest kept
        for i in members:
            if i in by_pages and resource.plural == "pods":
                picture = pictures[i]
                assert policy is not None and picture.kind.start is not None
                assert picture.workload is not None
                picture.pods = PodPages(picture.kind.start(picture.workload, started[i], policy))
                sinks[i] = picture.pods
            else:
                sinks[i] = _Kept()
        if shared:
            groups = group_selectors([selectors[i] for i in members])
        else:
            groups = [SelectorGroup(selectors[i].text, (n,)) for n, i in enumerate(members)]
        for group in groups:
            shares = [(selectors[members[n]], sinks[members[n]]) for n in group.members]
            split = _Split(group.selector, shares)
            request = request_for("list", resource, namespace)
            yield Read(request, {"labelSelector": group.selector}, paged=True, pages=split)
        for i, sink in sinks.items():  # what was kept: the rules start on it, or a picture holds it
            if not isinstance(sink, _Kept):
                continue
            if i in by_pages:
                started[i][resource.plural] = sink.items
            else:
                pictures[i].related[resource.plural] = {name_of(obj): obj for obj in sink.items}


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
    if not (yield from _namespace_exists(namespace)):
        return f"{where}: namespace {namespace!r} does not exist"
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


def _namespace_exists(namespace: str) -> Plan[bool]:
    """False only when the API says the namespace does not exist; not allowed to tell
    (the least-privilege Role has no ``get`` on namespaces) is True: say what we can."""
    try:
        yield Read(Request("get", "namespaces", None, namespace, "", "v1"))
    except NotFoundError:
        return False
    except KubernetesApiCallError:
        pass
    return True


def no_match_plan(kinds: Sequence[Kind], selector: str, namespace: str) -> Plan[str]:
    """Why a release's selector matches nothing: no such namespace, or the values the
    namespace's workloads carry for the selector's labels ("did you mean ...?").

    One LIST per kind without a selector: asked once, when a gate first finds nothing.
    """
    names = "/".join(kind.name for kind in kinds)
    where = f"no {names} matches {selector} in namespace {namespace}"
    if not (yield from _namespace_exists(namespace)):
        return f"{where}: namespace {namespace!r} does not exist"
    wanted = Selector(selector).equalities
    seen: dict[str, set[str]] = {key: set() for key, _ in wanted}
    for kind in kinds:
        try:
            listing = yield Read(request_for("list", kind.resource, namespace), {}, paged=True)
        except KubernetesApiCallError:
            return f"{where} (this identity may not list {kind.resource.plural} to suggest labels)"
        for obj in listing.items:
            labels = labels_of(obj)
            for key, values in seen.items():
                if key in labels:
                    values.add(str(labels[key]))
    return where + _label_hint(wanted, seen)


def _label_hint(wanted: Sequence[tuple[str, str]], seen: Mapping[str, set[str]]) -> str:
    """``: did you mean k=v?``, else the values there are, else that none carries them."""
    close = [
        f"{key}={match}"
        for key, value in wanted
        for match in difflib.get_close_matches(value, sorted(seen.get(key, ())), n=2, cutoff=0.6)
    ]
    if close:
        return f": did you mean {', '.join(f'`{c}`' for c in close)}?"
    present = [
        f"{key} in ({', '.join(sorted(values)[:10])})" for key, values in seen.items() if values
    ]
    if present:
        return f"; its workloads carry {'; '.join(present)}"
    return f"; none of its workloads carries {', '.join(seen) or 'these labels'}"


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


def clock_plan() -> Plan[JsonObject]:
    """The smallest read there is (``GET /version``): its answer's ``Date`` is the server's now.

    A watch sends its ``Date`` only when it opens; a stability window is judged on the
    server's clock, so a subscriber of a shared stream waking at a window's end asks
    for a fresh one. Every identity may read ``/version`` (``system:public-info-viewer``).
    """
    version: JsonObject = yield Read(
        Request("get", "version", None, None, "", "", raw_path="/version")
    )
    return version
