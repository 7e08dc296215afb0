"""The one table of kinds: what each kind of service is in the API and how it is judged.

The sync hook, the async hook, the triggers and the sensors all read this table,
so there is no ``if kind == ...`` anywhere else: adding a kind is adding a row
here (plus its rules in :mod:`airflow_sts_provider.readiness`). A row says

* where the workload lives in the API (group, version, plural);
* what else one poke reads, each LISTed by the workload's own ``spec.selector``
  (its pods; a Deployment's ReplicaSets too);
* which rules judge what was read;
* which sensor and trigger class serve it (as import paths, so reading the table
  never imports Airflow).

Stdlib only, like the rules.
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

__all__ = ["KINDS", "ApiResource", "Kind", "kind_of"]


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


@dataclass(frozen=True)
class Kind:
    """One row of the table."""

    name: str
    resource: ApiResource
    related: tuple[ApiResource, ...]
    judge: Judge
    sensor: str
    trigger: str
    #: What the API server accepts as the name: a DNS subdomain (253), or a DNS label
    #: where the name ends up in a label value (a StatefulSet's pods carry it).
    max_name_length: int = 253


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


def _pod(
    workload: Obj, related: Mapping[str, Sequence[Obj]], now: datetime, policy: ReadinessPolicy
) -> Verdict:
    return readiness.evaluate_pod(workload, now=now, policy=policy)


KINDS: Final[Mapping[str, Kind]] = {
    kind.name: kind
    for kind in (
        Kind(
            name="StatefulSet",
            resource=ApiResource("apps", "v1", "statefulsets"),
            related=(PODS,),
            judge=_statefulset,
            sensor="airflow_sts_provider.sensors.statefulset.StatefulSetRunningSensor",
            trigger="airflow_sts_provider.triggers.statefulset.StatefulSetRunningTrigger",
            max_name_length=63,
        ),
        Kind(
            name="Deployment",
            resource=ApiResource("apps", "v1", "deployments"),
            related=(REPLICASETS, PODS),
            judge=_deployment,
            sensor="airflow_sts_provider.sensors.deployment.DeploymentRunningSensor",
            trigger="airflow_sts_provider.triggers.deployment.DeploymentRunningTrigger",
        ),
        Kind(
            name="Pod",
            resource=PODS,
            related=(),
            judge=_pod,
            sensor="airflow_sts_provider.sensors.pod.PodRunningSensor",
            trigger="airflow_sts_provider.triggers.pod.PodRunningTrigger",
        ),
    )
}


def kind_of(name: str) -> Kind:
    """The row for ``name``, or one clear error listing the kinds there are."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown kind {name!r}; expected one of {', '.join(KINDS)}") from None


def import_class(path: str) -> Any:
    """The class at ``module.Class`` (the table keeps paths so it imports nothing heavy)."""
    from importlib import import_module

    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)
