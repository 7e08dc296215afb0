"""The one table of kinds: what each kind of service is in the API and how it is judged.

The sync hook, the async hook, the triggers and the sensors all read this table,
so there is no ``if kind == ...`` anywhere else: adding a kind is adding a row
here (plus its rules in :mod:`airflow_sts_provider.readiness`). A row says

* where the workload lives in the API (group, version, plural);
* what else one poke reads, each LISTed by a label selector taken from the
  workload (its own ``spec.selector`` for the built-in kinds): its pods, a
  Deployment's ReplicaSets, a DaemonSet's ControllerRevisions;
* which rules judge what was read, and how they start on a workload whose pods
  then arrive page by page (the poke keeps a pod's report, never the pod);
* which sensor, trigger and event trigger (for an ``AssetWatcher``) class serve
  it (as import paths, so reading the table never imports Airflow).

Airflow learns every class from here too: :func:`provider_modules` is what
``get_provider_info()`` lists, so a row is served and announced in one place. The
rules are imported on first use, not with the table, so Airflow's start-up reading
the provider info does not load them.

Custom resources of operators (Strimzi ``Kafka``, CloudNativePG ``Cluster``...)
are rows made at run time by :func:`resource_kind`, once API discovery has said
which plural serves the kind. Stdlib only, like the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from airflow_sts_provider.readiness import Judgement, ReadinessPolicy, Verdict
    from airflow_sts_provider.readiness.checks import Obj

Related = Mapping[str, Sequence["Obj"]]
Judge = Callable[["Obj", Related, datetime, "ReadinessPolicy"], "Verdict"]
#: The rules started on a workload and what it reads besides its pods; pods come later.
Start = Callable[["Obj", Related, "ReadinessPolicy"], "Judgement"]

__all__ = [
    "KINDS",
    "WORKLOAD_KINDS",
    "ApiResource",
    "Kind",
    "ResourceSpec",
    "kind_of",
    "provider_modules",
    "resource_kind",
]


@dataclass(frozen=True)
class ApiResource:
    """A resource as RBAC and URLs name it: group (``""`` is core), version, plural."""

    group: str
    version: str
    plural: str

    @property
    def api_version(self) -> str:
        """``apps/v1`` or ``v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version


PODS: Final = ApiResource("", "v1", "pods")
REPLICASETS: Final = ApiResource("apps", "v1", "replicasets")
CONTROLLERREVISIONS: Final = ApiResource("apps", "v1", "controllerrevisions")


def spec_selector(workload: Obj) -> str:
    """The workload's own ``spec.selector`` as a ``labelSelector`` string."""
    from airflow_sts_provider import readiness

    spec = workload.get("spec")
    selector = spec.get("selector") if isinstance(spec, Mapping) else None
    return readiness.selector_to_label_selector(selector if isinstance(selector, Mapping) else {})


@dataclass(frozen=True)
class Kind:
    """One row of the table.

    ``related`` is read in its order, and pods always come last: the rules start
    (``start``) on the workload and every other related list, then take the pods
    page by page. ``judge`` is the same over lists read at once (a trigger's picture).
    """

    name: str
    resource: ApiResource
    related: tuple[ApiResource, ...]
    judge: Judge
    sensor: str
    trigger: str
    #: The ``BaseEventTrigger`` an ``AssetWatcher`` uses to schedule a DAG on a new revision.
    event_trigger: str
    #: What the API server accepts as the name: a DNS subdomain (253), or a DNS label
    #: where the name ends up in a label value (a StatefulSet's pods carry it).
    max_name_length: int = 253
    #: The label selector the related resources are listed by.
    selector: Callable[[Obj], str] = spec_selector
    #: The rules started before the pods are read; None for a kind that lists no pods.
    start: Start | None = None


def by_pages(start: Start) -> Judge:
    """The rules over lists read at once: start, then every pod as one page."""

    def judge(workload: Obj, related: Related, now: datetime, policy: ReadinessPolicy) -> Verdict:
        judgement = start(workload, related, policy)
        judgement.add_pods(related.get("pods", ()), now)
        return judgement.verdict(now)

    return judge


def _statefulset(workload: Obj, related: Related, policy: ReadinessPolicy) -> Judgement:
    from airflow_sts_provider import readiness

    return readiness.start_statefulset(workload, policy=policy)


def _deployment(workload: Obj, related: Related, policy: ReadinessPolicy) -> Judgement:
    from airflow_sts_provider import readiness

    return readiness.start_deployment(workload, related["replicasets"], policy=policy)


def _daemonset(workload: Obj, related: Related, policy: ReadinessPolicy) -> Judgement:
    from airflow_sts_provider import readiness

    revisions = related["controllerrevisions"]
    return readiness.start_daemonset(workload, policy=policy, revisions=revisions)


def _pod(workload: Obj, related: Related, now: datetime, policy: ReadinessPolicy) -> Verdict:
    from airflow_sts_provider import readiness

    return readiness.evaluate_pod(workload, now=now, policy=policy)


_SENSORS: Final = "airflow_sts_provider.sensors"
_TRIGGERS: Final = "airflow_sts_provider.triggers"

KINDS: Final[Mapping[str, Kind]] = {
    kind.name: kind
    for kind in (
        Kind(
            name="StatefulSet",
            resource=ApiResource("apps", "v1", "statefulsets"),
            related=(PODS,),
            judge=by_pages(_statefulset),
            start=_statefulset,
            sensor=f"{_SENSORS}.statefulset.StatefulSetRunningSensor",
            trigger=f"{_TRIGGERS}.statefulset.StatefulSetRunningTrigger",
            event_trigger=f"{_TRIGGERS}.events.StatefulSetReadyEventTrigger",
            max_name_length=63,
        ),
        Kind(
            name="Deployment",
            resource=ApiResource("apps", "v1", "deployments"),
            related=(REPLICASETS, PODS),
            judge=by_pages(_deployment),
            start=_deployment,
            sensor=f"{_SENSORS}.deployment.DeploymentRunningSensor",
            trigger=f"{_TRIGGERS}.deployment.DeploymentRunningTrigger",
            event_trigger=f"{_TRIGGERS}.events.DeploymentReadyEventTrigger",
        ),
        Kind(
            name="DaemonSet",
            resource=ApiResource("apps", "v1", "daemonsets"),
            related=(CONTROLLERREVISIONS, PODS),
            judge=by_pages(_daemonset),
            start=_daemonset,
            sensor=f"{_SENSORS}.daemonset.DaemonSetRunningSensor",
            trigger=f"{_TRIGGERS}.daemonset.DaemonSetRunningTrigger",
            event_trigger=f"{_TRIGGERS}.events.DaemonSetReadyEventTrigger",
            max_name_length=63,
        ),
        Kind(
            name="Pod",
            resource=PODS,
            related=(),
            judge=_pod,
            sensor=f"{_SENSORS}.pod.PodRunningSensor",
            trigger=f"{_TRIGGERS}.pod.PodRunningTrigger",
            event_trigger=f"{_TRIGGERS}.events.PodReadyEventTrigger",
        ),
    )
}

#: The kinds a release is made of, in the order a workloads gate reads them.
WORKLOAD_KINDS: Final = ("StatefulSet", "Deployment", "DaemonSet")


def kind_of(name: str | Kind) -> Kind:
    """The row for ``name``, or one clear error listing the kinds there are."""
    if isinstance(name, Kind):
        return name
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind {name!r}; expected one of {', '.join(KINDS)}") from None


class Served(Protocol):
    """The Airflow classes that serve a kind, as import paths."""

    @property
    def sensor(self) -> str: ...
    @property
    def trigger(self) -> str: ...
    @property
    def event_trigger(self) -> str: ...


@dataclass(frozen=True)
class Classes:
    """The classes serving kinds that have no row of their own (``""``: none)."""

    sensor: str
    trigger: str
    event_trigger: str = ""


#: What serves every custom resource (its rows are made at run time by :func:`resource_kind`).
RESOURCE: Final = Classes(
    sensor=f"{_SENSORS}.resource.ResourceRunningSensor",
    trigger=f"{_TRIGGERS}.resource.ResourceRunningTrigger",
    event_trigger=f"{_TRIGGERS}.events.ResourceReadyEventTrigger",
)
#: What serves a release: every workload of :data:`WORKLOAD_KINDS` matching a label selector.
RELEASE: Final = Classes(
    sensor=f"{_SENSORS}.workloads.WorkloadsRunningSensor",
    trigger=f"{_TRIGGERS}.workloads.WorkloadsRunningTrigger",
)
#: The hooks, first the one 0.1 shipped (its module still exports every hook).
HOOKS: Final = (
    "airflow_sts_provider.hooks.statefulset.StatefulSetHook",
    "airflow_sts_provider.hooks.workload.WorkloadHook",
    "airflow_sts_provider.hooks.workload.AsyncWorkloadHook",
)


def served() -> tuple[Served, ...]:
    """Every row and class family, in the order Airflow is told of them."""
    return (*KINDS.values(), RESOURCE, RELEASE)


def _modules(paths: Iterable[str]) -> list[str]:
    """The modules of ``module.Class`` paths, each once, in first-seen order."""
    return list(dict.fromkeys(path.rpartition(".")[0] for path in paths if path))


def provider_modules() -> dict[str, list[str]]:
    """The modules ``get_provider_info()`` lists per section: hooks, sensors, triggers."""
    rows = served()
    return {
        "hooks": _modules(HOOKS),
        "sensors": _modules(row.sensor for row in rows),
        "triggers": _modules(
            [*(row.trigger for row in rows), *(row.event_trigger for row in rows)]
        ),
    }


@dataclass(frozen=True)
class ResourceSpec:
    """A custom resource kind as a DAG names it, and how to judge it by its conditions."""

    api_version: str
    kind: str
    condition: str = "Ready"
    failure_reasons: tuple[str, ...] = ()
    pod_selector: str | None = None


def resource_kind(resource: ApiResource, spec: ResourceSpec) -> Kind:
    """A row for a custom resource judged by its conditions (and, optionally, its pods)."""

    def start(obj: Obj, related: Related, policy: ReadinessPolicy) -> Judgement:
        from airflow_sts_provider import readiness

        return readiness.start_resource(
            obj, policy=policy, condition=spec.condition, failure_reasons=spec.failure_reasons
        )

    return Kind(
        name=spec.kind,
        resource=resource,
        related=(PODS,) if spec.pod_selector else (),
        judge=by_pages(start),
        start=start,
        sensor=RESOURCE.sensor,
        trigger=RESOURCE.trigger,
        event_trigger=RESOURCE.event_trigger,
        selector=lambda _obj: spec.pod_selector or "",
    )


def import_class(path: str) -> Any:
    """The class at ``module.Class`` (the table keeps paths so it imports nothing heavy)."""
    from importlib import import_module

    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)
