"""An asset that is "a new revision of this workload is running", for event-scheduled DAGs.

``DAG(schedule=[workload_asset("StatefulSet", "web")])`` runs the DAG once each
time the StatefulSet ``web`` becomes READY at a revision it has not fired for; see
:mod:`airflow_sts_provider.triggers.events` for what "once per revision" means.
The URI is ``kubernetes://<namespace>/<kind lower>/<name>``, so two DAGs naming
the same workload share one asset (and, with equal arguments, one watcher).
Arguments are checked here, when the DAG is parsed: a typo is an import error
naming the argument and the fix, not a triggerer traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from typing import Any

from airflow.sdk import Asset, AssetWatcher
from airflow.triggers.base import BaseEventTrigger

from airflow_sts_provider.kinds import KINDS, import_class, kind_of
from airflow_sts_provider.readiness import ReadinessPolicy
from airflow_sts_provider.sensors.arguments import (
    as_seconds,
    check_api_version_and_kind,
    check_flag,
    check_label_selector,
    check_name,
    check_namespace,
)

__all__ = ["asset_uri", "workload_asset"]

_RESOURCE_TRIGGER = "airflow_sts_provider.triggers.events.ResourceReadyEventTrigger"


def asset_uri(kind: str, name: str, namespace: str = "default") -> str:
    """``kubernetes://<namespace>/<kind lower>/<name>``: the asset a rollout of it updates."""
    return f"kubernetes://{namespace}/{kind.lower()}/{name}"


def workload_asset(
    kind: str,
    name: str,
    namespace: str = "default",
    *,
    kubernetes_conn_id: str = "kubernetes_default",
    on_failure: bool = False,
    policy: ReadinessPolicy | Mapping[str, Any] | None = None,
    check_interval: float = 30.0,
    api_version: str | None = None,
    condition: str = "Ready",
    failure_reasons: Sequence[str] = (),
    pod_selector: str | None = None,
    watcher_name: str | None = None,
    share_watches: bool = True,
) -> Asset:
    """The asset of ``kind`` ``namespace/name``, watched by that kind's event trigger.

    :param kind: ``StatefulSet``, ``Deployment``, ``DaemonSet``, ``Pod``, or a custom
        resource's kind together with ``api_version`` (e.g. ``Kafka``,
        ``kafka.strimzi.io/v1beta2``).
    :param on_failure: also fire once per revision whose rollout turns FAILED (the
        asset event's ``extra["payload"]["status"]`` is then ``"failed"``).
    :param policy: the rules' knobs (:class:`ReadinessPolicy` or its fields as a dict).
    :param check_interval: longest sleep between two judgements without API events.
    :param condition: ``failure_reasons``, ``pod_selector``: a custom resource's, as for
        ``ResourceRunningSensor``.
    :param watcher_name: the ``AssetWatcher``'s name (default ``<kind lower>-<namespace>-<name>``).
    :param share_watches: share one list+watch per resource with the other triggers of
        this kind, connection and namespace where the triggerer can (Airflow >= 3.3);
        ``False`` keeps the watcher on its own watches.
    """
    custom = api_version is not None
    _check_kind(kind, custom=custom)
    max_length = 253 if custom else kind_of(kind).max_name_length
    check_name(kind, name, rendered=True, max_length=max_length)
    _check_namespace(namespace)
    if not isinstance(kubernetes_conn_id, str) or not kubernetes_conn_id:
        raise ValueError(
            f"kubernetes_conn_id must name a connection, got {kubernetes_conn_id!r}; "
            "leave it unset for 'kubernetes_default'"
        )
    check_flag("on_failure", on_failure)
    check_flag("share_watches", share_watches)
    if watcher_name is not None and (not isinstance(watcher_name, str) or not watcher_name.strip()):
        raise ValueError(
            f"watcher_name must be a non-empty name, got {watcher_name!r}; leave it unset "
            "for '<kind>-<namespace>-<name>'"
        )
    kwargs: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "kubernetes_conn_id": kubernetes_conn_id,
        "policy": _policy_dict(policy),
        "check_interval": _check_interval(check_interval),
        "on_failure": on_failure,
    }
    if not share_watches:  # only when off, as the trigger serializes it
        kwargs["share_watches"] = False
    if custom:
        kwargs.update(_resource_kwargs(kind, api_version, condition, failure_reasons, pod_selector))
        classpath = _RESOURCE_TRIGGER
    else:
        _refuse_resource_arguments(kind, condition, failure_reasons, pod_selector)
        classpath = kind_of(kind).event_trigger
    trigger: BaseEventTrigger = import_class(classpath)(**kwargs)
    watcher = AssetWatcher(
        name=watcher_name or f"{kind.lower()}-{namespace}-{name}", trigger=trigger
    )
    return Asset(uri=asset_uri(kind, name, namespace), watchers=[watcher])


def _check_kind(kind: Any, *, custom: bool) -> None:
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"kind must be a kind's name, got {kind!r}; e.g. kind='StatefulSet'")
    if not custom and kind not in KINDS:
        raise ValueError(
            f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}, or pass "
            "api_version=... for a custom resource (e.g. kind='Kafka', "
            "api_version='kafka.strimzi.io/v1beta2')"
        )
    if custom and kind in KINDS:
        raise ValueError(
            f"api_version is only for custom resources; {kind} has its own rules: "
            f"drop api_version (workload_asset({kind!r}, name))"
        )


def _check_namespace(namespace: Any) -> None:
    if namespace is None:
        raise ValueError(
            "namespace must be a namespace's name, got None: the asset URI names it; "
            "pass e.g. namespace='default'"
        )
    check_namespace(namespace, rendered=True)


def _check_interval(value: Any) -> float:
    seconds = as_seconds("check_interval", value)
    if seconds < 1:
        raise ValueError(
            f"check_interval must be at least 1 second, got {value!r}: it is the longest "
            "sleep between re-reads, not a poll rate; e.g. check_interval=30"
        )
    return seconds


def _policy_dict(policy: ReadinessPolicy | Mapping[str, Any] | None) -> dict[str, Any]:
    """The policy as the trigger's JSON-safe dict, checked by ReadinessPolicy itself."""
    if policy is None:
        return {}
    if isinstance(policy, ReadinessPolicy):
        return asdict(policy)
    if not isinstance(policy, Mapping):
        raise ValueError(
            f"policy must be a ReadinessPolicy or a dict of its fields, got {policy!r}; "
            "e.g. policy={'min_stable_seconds': 30}"
        )
    known = {f.name for f in fields(ReadinessPolicy)}
    unknown = sorted(set(policy) - known)
    if unknown:
        raise ValueError(
            f"policy has unknown field(s) {', '.join(map(repr, unknown))}; "
            f"ReadinessPolicy's fields are {', '.join(sorted(known))}"
        )
    ReadinessPolicy(**policy)  # its own checks name the field and the fix
    return dict(policy)


def _resource_kwargs(
    kind: str,
    api_version: Any,
    condition: Any,
    failure_reasons: Any,
    pod_selector: Any,
) -> dict[str, Any]:
    check_api_version_and_kind(api_version, kind)
    if not isinstance(condition, str) or not condition:
        raise ValueError(f"condition must name a condition type, got {condition!r}; e.g. 'Ready'")
    if isinstance(failure_reasons, str) or not all(isinstance(r, str) for r in failure_reasons):
        raise ValueError(
            f"failure_reasons must be a list of reason words, got {failure_reasons!r}; "
            "e.g. failure_reasons=['ReconciliationFailed']"
        )
    check_label_selector("pod_selector", pod_selector, rendered=True)
    return {
        "api_version": api_version,
        "resource_kind": kind,
        "condition": condition,
        "failure_reasons": list(failure_reasons),
        "pod_selector": pod_selector,
    }


def _refuse_resource_arguments(
    kind: str, condition: str, failure_reasons: Sequence[str], pod_selector: str | None
) -> None:
    if condition != "Ready" or tuple(failure_reasons) or pod_selector is not None:
        raise ValueError(
            f"condition, failure_reasons and pod_selector are for custom resources; {kind} "
            "is judged by its own rules: drop them, or pass api_version for a custom resource"
        )
