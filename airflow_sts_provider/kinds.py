"""The one table of kinds: what each kind of service is in the API and how it is judged.

The sync hook, the async hook, the triggers and the sensors all read this table,
so there is no ``if kind == ...`` anywhere else: adding a kind is adding a row
here (plus its rules in :mod:`airflow_sts_provider.readiness`). A row says

* where the workload lives in the API (group, version, plural);
* what else one poke reads, each LISTed by a label selector taken from the
  workload (its own ``spec.selector`` for the built-in kinds): its pods, a
  Deployment's ReplicaSets, a DaemonSet's ControllerRevisions;
* which rules judge what was read;
* which sensor, trigger and event trigger (for an ``AssetWatcher``) class serve
  it (as import paths, so reading the table never imports Airflow).

Custom resources of operators (Strimzi ``Kafka``, CloudNativePG ``Cluster``...)
are rows made at run time by :func:`resource_kind`, once API discovery has said
which plural serves the kind. Stdlib only, like the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from airflow_sts_provider import readiness
from airflow_sts_provider.readiness import ReadinessPolicy, Verdict

Obj = Mapping[str, Any]
Judge = Callable[[Obj, Mapping[str, Sequence[Obj]], datetime, ReadinessPolicy], Verdict]

__all__ = [
    "KINDS",
    "WORKLOAD_KINDS",
    "ApiResource",
    "Kind",
    "ResourceSpec",
    "kind_of",
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
    spec = workload.get("spec")
    selector = spec.get("selector") if isinstance(spec, Mapping) else None
    return readiness.selector_to_label_selector(selector if isinstance(selector, Mapping) else {})


@dataclass(frozen=True)
class Kind:
    """One row of the table."""

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


def _statefulset(
    workload: Obj, related: Mapping[str, Sequence[Obj]], now: datetime, policy: ReadinessPolicy
) -> Verdict:
    return readiness.evaluate_statefulset(workload, related["pods"], now=now, policy=policy)


def _deployment(
    workload: Obj, related: Mapping[str, Sequence[Obj]], now: datetime, policy: ReadinessPolicy
) -> Verdict:
    return readiness.evaluate_deployment(
        workload, related["replicasets"], related["pods"], now=now, policy=policy
    )


def _daemonset(
    workload: Obj, related: Mapping[str, Sequence[Obj]], now: datetime, policy: ReadinessPolicy
) -> Verdict:
    return readiness.evaluate_daemonset(
        workload,
        related["pods"],
        now=now,
        policy=policy,
        revisions=related["controllerrevisions"],
    )


def _pod(
    workload: Obj, related: Mapping[str, Sequence[Obj]], now: datetime, policy: ReadinessPolicy
) -> Verdict:
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
            judge=_statefulset,
            sensor=f"{_SENSORS}.statefulset.StatefulSetRunningSensor",
            trigger=f"{_TRIGGERS}.statefulset.StatefulSetRunningTrigger",
            event_trigger=f"{_TRIGGERS}.events.StatefulSetReadyEventTrigger",
            max_name_length=63,
        ),
        Kind(
            name="Deployment",
            resource=ApiResource("apps", "v1", "deployments"),
            related=(REPLICASETS, PODS),
            judge=_deployment,
            sensor=f"{_SENSORS}.deployment.DeploymentRunningSensor",
            trigger=f"{_TRIGGERS}.deployment.DeploymentRunningTrigger",
            event_trigger=f"{_TRIGGERS}.events.DeploymentReadyEventTrigger",
        ),
        Kind(
            name="DaemonSet",
            resource=ApiResource("apps", "v1", "daemonsets"),
            related=(PODS, CONTROLLERREVISIONS),
            judge=_daemonset,
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

    def judge(
        obj: Obj, related: Mapping[str, Sequence[Obj]], now: datetime, policy: ReadinessPolicy
    ) -> Verdict:
        return readiness.evaluate_resource(
            obj,
            related.get("pods", ()),
            now=now,
            policy=policy,
            condition=spec.condition,
            failure_reasons=spec.failure_reasons,
        )

    return Kind(
        name=spec.kind,
        resource=resource,
        related=(PODS,) if spec.pod_selector else (),
        judge=judge,
        sensor=f"{_SENSORS}.resource.ResourceRunningSensor",
        trigger=f"{_TRIGGERS}.resource.ResourceRunningTrigger",
        event_trigger=f"{_TRIGGERS}.events.ResourceReadyEventTrigger",
        selector=lambda _obj: spec.pod_selector or "",
    )


def import_class(path: str) -> Any:
    """The class at ``module.Class`` (the table keeps paths so it imports nothing heavy)."""
    from importlib import import_module

    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)
