"""Sensors that let a pipeline continue only when a Kubernetes service is really running.

Each sensor is thin on purpose (like the cncf ``SparkKubernetesSensor``): it checks
its arguments when the DAG is parsed, asks :class:`StatefulSetHook` for a
:class:`~airflow_sts_provider.readiness.Verdict` once per poke, logs it, and maps it
to Airflow's vocabulary: READY -> done (the verdict is the XCom), WAITING -> poke
again, FAILED -> ``AirflowFailException`` (no retries: a crash loop does not heal by
retrying the sensor) or, with ``fail_fast=False``, keep waiting. Transient API
errors are "not done this poke", never a failed try. All judgement lives in the
rules; all I/O lives in the hook.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout, AirflowSkipException

from airflow_sts_provider.hooks._kube_io import (
    KubernetesPermissionError,
    TransientKubernetesError,
    failure_message,
    where,
)
from airflow_sts_provider.readiness import ReadinessPolicy, State, Verdict

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_sts_provider.hooks.statefulset import StatefulSetHook
    from airflow_sts_provider.triggers.statefulset import WorkloadRunningTrigger

__all__ = ["DeploymentRunningSensor", "PodRunningSensor", "StatefulSetRunningSensor"]

#: RFC 1123 subdomain: what the API server accepts as a StatefulSet, Deployment or Pod name.
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
#: RFC 1123 label: what a namespace name must be.
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
#: Pods listed one line each per poke; beyond that a count (a 1,000-pod set must not flood logs).
_MAX_POD_LINES = 50
#: Extra time the framework grants a deferred sensor so the trigger's own "timeout" event,
#: which carries the last verdict, arrives before Airflow's bare deferral timeout.
_DEFER_TIMEOUT_PAD = timedelta(seconds=60)

_GRACE_ARGUMENTS = (
    "restart_window_seconds",
    "image_pull_grace_seconds",
    "config_error_grace_seconds",
    "unschedulable_grace_seconds",
)


def _is_template(value: Any) -> bool:
    """A Jinja expression is checked after rendering, not when the DAG is parsed."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _as_seconds(argument: str, value: Any) -> float:
    """A non-negative number of seconds from an int, float or rendered string."""
    fix = f"pass a number of seconds >= 0, e.g. {argument}=60"
    if isinstance(value, bool):
        raise ValueError(f"{argument} must be a number of seconds, got {value!r}; {fix}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(
                f"{argument} must be a number of seconds, got {value!r}; {fix}"
            ) from None
    if not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{argument} must be a number of seconds, got {value!r}; {fix}")
    if value < 0:
        raise ValueError(f"{argument} must be >= 0, got {value!r}; {fix}")
    return float(value)


def _as_count(argument: str, value: Any) -> int:
    """A non-negative whole number from an int or rendered string."""
    fix = f"pass a whole number >= 0, e.g. {argument}=0 to fail on the first recent restart"
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"{argument} must be a whole number, got {value!r}; {fix}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{argument} must be a whole number, got {value!r}; {fix}")
    if value < 0:
        raise ValueError(f"{argument} must be >= 0, got {value!r}; {fix}")
    return value


def _check_name(kind: str, value: Any, *, rendered: bool) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"name must be the {kind}'s name, got {value!r}; pass e.g. name='web' "
            "(a Jinja template such as name='{{ params.statefulset }}' works too)"
        )
    if _is_template(value) and not rendered:
        return
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise ValueError(
            f"name {value!r} is not a valid Kubernetes {kind} name: use at most 253 lowercase "
            "letters, digits, '-' or '.', starting and ending with a letter or digit "
            "(RFC 1123), e.g. 'kafka-broker'"
        )


def _check_namespace(value: Any, *, rendered: bool) -> None:
    if value is None or (_is_template(value) and not rendered):
        return
    if not isinstance(value, str) or len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise ValueError(
            f"namespace {value!r} is not a valid Kubernetes namespace: use at most 63 lowercase "
            "letters, digits or '-', starting and ending with a letter or digit, or leave it "
            "unset to use the connection's namespace (else 'default')"
        )


class _WorkloadRunningSensor(BaseSensorOperator):
    """Wait until a Kubernetes workload is really running; fail fast when it is broken.

    :param name: the workload's name (templated).
    :param namespace: its namespace (templated); default: the connection's ``namespace``
        extra, else ``default``.
    :param kubernetes_conn_id: a ``kubernetes`` connection (templated).
    :param min_stable_seconds: every pod must have been Ready this long without
        interruption (templated; measured on the API server's clock).
    :param max_restarts: container restarts tolerated per pod while the last one is
        recent (templated).
    :param fail_fast: on a broken rollout (crash loop, bad image, evicted...) fail at
        once with the pod and the reason; ``False`` keeps waiting until ``timeout``.
    :param deferrable: wait in the triggerer (a watch on the workload and its pods)
        instead of rescheduling pokes; default ``[operators] default_deferrable``.
    :param restart_window_seconds: restarts count while the last one is this recent.
    :param image_pull_grace_seconds: image pull errors tolerated this long.
    :param config_error_grace_seconds: container config errors tolerated this long.
    :param unschedulable_grace_seconds: an unschedulable pod tolerated this long.
    :param require_updated_on_delete: OnDelete StatefulSets: outdated pods block READY.

    Every other argument is :class:`BaseSensorOperator`'s; ``mode`` defaults to
    ``"reschedule"`` so no worker slot is held while waiting.
    """

    kind: ClassVar[str]
    template_fields: Sequence[str] = (
        "name",
        "namespace",
        "kubernetes_conn_id",
        "min_stable_seconds",
        "max_restarts",
    )
    ui_color = "#d6e9f8"

    def __init__(
        self,
        *,
        name: str,
        namespace: str | None = None,
        kubernetes_conn_id: str = "kubernetes_default",
        min_stable_seconds: float | str = 60,
        max_restarts: int | str = 0,
        fail_fast: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        restart_window_seconds: float | None = None,
        image_pull_grace_seconds: float | None = None,
        config_error_grace_seconds: float | None = None,
        unschedulable_grace_seconds: float | None = None,
        require_updated_on_delete: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("mode", "reschedule")
        super().__init__(**kwargs)
        self.name = name
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.min_stable_seconds = min_stable_seconds
        self.max_restarts = max_restarts
        self.fail_fast = fail_fast
        self.deferrable = deferrable
        self.restart_window_seconds = restart_window_seconds
        self.image_pull_grace_seconds = image_pull_grace_seconds
        self.config_error_grace_seconds = config_error_grace_seconds
        self.unschedulable_grace_seconds = unschedulable_grace_seconds
        self.require_updated_on_delete = require_updated_on_delete
        try:
            self._check_arguments(rendered=False)
        except ValueError as exc:
            raise ValueError(f"{type(self).__name__}(task_id={self.task_id!r}): {exc}") from None

    # ------------------------------------------------------------------ arguments

    def _check_arguments(self, *, rendered: bool) -> ReadinessPolicy | None:
        """Validate every argument not left to Jinja; the policy once its knobs are known.

        At parse time (``rendered=False``) a templated value is checked later, after
        rendering; every other value is checked now, so a typo shows as an import error.
        """
        _check_name(self.kind, self.name, rendered=rendered)
        _check_namespace(self.namespace, rendered=rendered)
        if not isinstance(self.kubernetes_conn_id, str) or not self.kubernetes_conn_id:
            raise ValueError(
                f"kubernetes_conn_id must name a connection, got {self.kubernetes_conn_id!r}; "
                "leave it unset for 'kubernetes_default'"
            )
        if not isinstance(self.fail_fast, bool):
            raise ValueError(f"fail_fast must be True or False, got {self.fail_fast!r}")
        knobs: dict[str, Any] = {"require_updated_on_delete": bool(self.require_updated_on_delete)}
        pending = False
        for argument in ("min_stable_seconds", "max_restarts", *_GRACE_ARGUMENTS):
            value = getattr(self, argument)
            if value is None:
                continue
            if _is_template(value) and not rendered:
                pending = True
                continue
            convert = _as_count if argument == "max_restarts" else _as_seconds
            knobs[argument] = convert(argument, value)
        return None if pending else ReadinessPolicy(**knobs)

    @cached_property
    def policy(self) -> ReadinessPolicy:
        """The rules' knobs from the rendered arguments; a bad value fails the task for good."""
        try:
            policy = self._check_arguments(rendered=True)
        except ValueError as exc:
            raise AirflowFailException(f"{type(self).__name__}: {exc}") from None
        assert policy is not None
        return policy

    # ------------------------------------------------------------------ polling

    @cached_property
    def hook(self) -> StatefulSetHook:
        """Built on first use, so parsing a DAG never imports the kubernetes client."""
        from airflow_sts_provider.hooks.statefulset import StatefulSetHook

        return StatefulSetHook(kubernetes_conn_id=self.kubernetes_conn_id)

    def poke(self, context: Context) -> PokeReturnValue:
        """READY -> done with the report as XCom; FAILED -> fail (or wait); else poke again."""
        policy = self.policy
        try:
            verdict = self.hook.get_workload_readiness(self.kind, self.name, self.namespace, policy)
        except TransientKubernetesError as exc:
            self.log.warning("Kubernetes API unavailable, not done this poke: %s", exc)
            return PokeReturnValue(is_done=False)
        except KubernetesPermissionError as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log_verdict(verdict)
        if verdict.state is State.READY:
            return PokeReturnValue(is_done=True, xcom_value=verdict.to_dict())
        if verdict.state is State.FAILED:
            if self.fail_fast:
                raise AirflowFailException(failure_message(verdict))
            self.log.warning(
                "%s %s is failing; fail_fast=False, so waiting until the sensor's timeout "
                "in case it recovers",
                verdict.kind,
                where(verdict),
            )
        return PokeReturnValue(is_done=False, xcom_value=verdict.to_dict())

    def log_verdict(self, verdict: Verdict) -> None:
        """One summary line, then one line per pod that is not ready."""
        self.log.info(
            "%s %s: %s, %d/%d ready, revision %s: %s",
            verdict.kind,
            where(verdict),
            verdict.state.value.upper(),
            verdict.ready,
            verdict.desired,
            verdict.revision or "-",
            verdict.reason,
        )
        not_ready = [pod for pod in verdict.pods if pod.state is not State.READY]
        not_ready.sort(key=lambda pod: pod.state is not State.FAILED)
        for pod in not_ready[:_MAX_POD_LINES]:
            self.log.info("  [%s] %s", pod.state.value.upper(), pod.reason)
        if len(not_ready) > _MAX_POD_LINES:
            self.log.info("  ... and %d more pods not ready", len(not_ready) - _MAX_POD_LINES)

    # ------------------------------------------------------------------ deferrable

    def execute(self, context: Context) -> Any:
        """Poke once; if not done and ``deferrable``, hand the wait to the trigger."""
        if not self.deferrable:
            return super().execute(context)
        try:
            result = self.poke(context)
        except AirflowFailException as exc:
            self._soft_fail_or_raise(exc)
        if result.is_done:
            return result.xcom_value
        self.defer(
            trigger=self._trigger(),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout) + _DEFER_TIMEOUT_PAD,
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Map the trigger's one event back to Airflow: XCom, failure or sensor timeout."""
        status = event.get("status")
        message = str(event.get("message") or "")
        verdict = event.get("verdict") or {}
        if status == "success":
            self.log.info("%s", message or "ready")
            return verdict
        if status == "timeout":
            raise AirflowSensorTimeout(message or "Sensor has timed out in the triggerer")
        raise AirflowFailException(message or f"trigger reported {status!r}: {event!r}")

    def _soft_fail_or_raise(self, exc: Exception) -> NoReturn:
        if self.soft_fail:
            raise AirflowSkipException("Skipping due to soft_fail is set to True.") from exc
        if getattr(self, "never_fail", False):
            raise AirflowSkipException("Skipping due to never_fail is set to True.") from exc
        raise exc

    def _trigger(self) -> WorkloadRunningTrigger:
        from airflow_sts_provider.triggers.statefulset import trigger_for

        policy = self.policy
        return trigger_for(
            self.kind,
            name=self.name,
            namespace=self.hook.resolve_namespace(self.namespace),
            kubernetes_conn_id=self.kubernetes_conn_id,
            **self.hook.trigger_connection_kwargs(),
            policy=_policy_dict(policy),
            fail_fast=self.fail_fast,
            check_interval=max(float(self.poke_interval), 1.0),
            deadline=time.time() + float(self.timeout),
        )


def _policy_dict(policy: ReadinessPolicy) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(policy)


class StatefulSetRunningSensor(_WorkloadRunningSensor):
    """Wait until a StatefulSet is really running: every ordinal created, at the current
    revision, Ready and stable for ``min_stable_seconds``; fail fast on a broken rollout.

    The XCom is the verdict as a dict: ``kind, name, namespace, state, reason, desired,
    ready, revision, pods`` (each pod: ``name, state, reason, ready_since, restarts,
    revision, pod_ip, node``).
    """

    kind = "StatefulSet"


class DeploymentRunningSensor(_WorkloadRunningSensor):
    """Wait until a Deployment's new ReplicaSet is fully rolled out, Ready and stable,
    and its old pods gone; fail fast on a broken rollout (same XCom as the StatefulSet one)."""

    kind = "Deployment"


class PodRunningSensor(_WorkloadRunningSensor):
    """Wait until one pod is Running, Ready and stable; fail fast when it crashes."""

    kind = "Pod"
