"""The one sensor class behind every kind: thin on purpose.

Like the cncf ``SparkKubernetesSensor``, a sensor checks its arguments when the DAG
is parsed, asks the hook for a :class:`~airflow_sts_provider.readiness.Verdict` once
per poke, logs it, and maps it to Airflow's vocabulary: READY -> done (the verdict is
the XCom), WAITING -> poke again, FAILED -> ``AirflowFailException`` (no retries: a
crash loop does not heal by retrying the sensor) or, with ``fail_fast=False``, keep
waiting. Transient API errors are "not done this poke", never a failed try. All
judgement lives in the rules, all I/O in the hooks, each kind's facts in the kinds
table; a kind's sensor is a subclass that names its kind.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.sdk import BaseSensorOperator, PokeReturnValue, conf
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout, AirflowSkipException

from airflow_sts_provider.exceptions import (
    ConnectionConfigError,
    KubernetesPermissionError,
    TransientKubernetesError,
    UnservedKindError,
)
from airflow_sts_provider.kinds import Kind, import_class, kind_of
from airflow_sts_provider.readiness import ReadinessPolicy, State, Verdict
from airflow_sts_provider.reporting import (
    failure_message,
    is_not_found,
    pod_lines,
    summary_line,
    timeout_message,
    where,
)
from airflow_sts_provider.sensors.arguments import (
    GRACE_ARGUMENTS,
    SENSOR_FLAGS,
    as_count,
    as_seconds,
    check_flag,
    check_name,
    check_namespace,
    is_template,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_sts_provider.hooks.workload import WorkloadHook
    from airflow_sts_provider.triggers.base import WorkloadRunningTrigger

__all__ = ["WorkloadRunningSensor"]

#: A gate's default ``timeout``: Airflow's is 7 days, Helm's ``--wait`` 5 minutes, a
#: Deployment's progress deadline 10. An hour leaves an OrderedReady StatefulSet of
#: dozens of slow pods room to roll, and still ends a stuck gate the same working day.
DEFAULT_TIMEOUT = 3600.0

#: A gate's default ``retries``: a verdict never uses them (FAILED and the sensor's own
#: timeout raise AirflowFailException / AirflowSensorTimeout, which Airflow does not
#: retry), so only a failure of Airflow's own spends one: under a real scheduler,
#: ``poke_interval=5`` in reschedule mode loses healthy gates to a task process that
#: exited after its next poke was queued ("finished with state success, but the task
#: instance's state attribute is queued"; benchmarks/RESULTS.md, bench_gates).
DEFAULT_RETRIES = 2
#: And their delay: Airflow's 5 minutes would hold a healthy gate back that long.
DEFAULT_RETRY_DELAY = timedelta(seconds=15)

#: Extra time the framework grants a deferred sensor so the trigger's own "timeout" event,
#: which carries the last verdict, arrives before Airflow's bare deferral timeout.
_DEFER_TIMEOUT_PAD = timedelta(seconds=60)


class WorkloadRunningSensor(BaseSensorOperator):
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
    :param restart_window_seconds: restarts count while the last one is this recent:
        failed while the container still crashes, waiting once it has recovered.
    :param image_pull_grace_seconds: image pull errors tolerated this long.
    :param config_error_grace_seconds: container config errors tolerated this long.
    :param unschedulable_grace_seconds: an unschedulable pod tolerated this long while
        waiting can place it; one ruled out by its taints, volumes or claims fails at once.
    :param require_updated_on_delete: OnDelete StatefulSets: outdated pods block READY.
    :param not_found_grace_seconds: a workload still not found this long after the sensor
        started fails, naming the namespace if it does not exist and the closest names
        ("did you mean ..."), instead of waiting out ``timeout``; the first poke that
        finds nothing already says so ("did you mean ...? failing in 300s").
    :param share_watches: deferred, share one list+watch per resource with the other
        deferred sensors of this kind, connection and namespace where the triggerer can
        (Airflow >= 3.3; ``python -m airflow_sts_provider.docs shared-watches``); ``False``
        keeps this sensor's own watches (the workload by name, its pods by selector).
    :param end_from_trigger: deferred, a READY verdict ends the task in the triggerer
        (the verdict still its XCom, the summary in its log, callbacks as usual) instead
        of starting a task process only to return it; where that would change what a
        user sees (``outlets``, ``post_execute``, ``do_xcom_push=False``,
        ``multiple_outputs``, a downstream task mapping over the output, a subclass's
        own ``execute_complete``) the task resumes on a worker as before, and so do
        FAILED and timeout (a failure must not be retried). ``False``: always resume.

    Every other argument is :class:`BaseSensorOperator`'s; ``mode`` defaults to
    ``"reschedule"`` so no worker slot is held while waiting, and ``timeout`` to one
    hour (:data:`DEFAULT_TIMEOUT`), not Airflow's 7 days: a gate that has not opened in
    an hour is a rollout someone must look at. ``retries`` defaults to 2 (every 15 s):
    a verdict never retries, only a failure of Airflow's own (:data:`DEFAULT_RETRIES`).
    """

    #: The kinds-table row it serves; a resource sensor sets its own per instance.
    kind: str
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
        not_found_grace_seconds: float = 300.0,
        share_watches: bool = True,
        end_from_trigger: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        kwargs.setdefault("retries", DEFAULT_RETRIES)
        kwargs.setdefault("retry_delay", DEFAULT_RETRY_DELAY)
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
        self.not_found_grace_seconds = not_found_grace_seconds
        self.share_watches = share_watches
        self.end_from_trigger = end_from_trigger
        self._poking_since: float | None = None
        #: Pokes this instance made; rescheduled, each poke is a new instance.
        self._pokes = 0
        #: Whether this poke is the try's first, once known.
        self._first: bool | None = None
        #: The try's first reschedule, as Airflow said it this poke.
        self._first_date: datetime | None = None
        try:
            self._check_arguments(rendered=False)
            self._check_timing()
        except ValueError as exc:
            raise ValueError(f"{type(self).__name__}(task_id={self.task_id!r}): {exc}") from None

    # ------------------------------------------------------------------ arguments

    def _check_arguments(self, *, rendered: bool) -> ReadinessPolicy | None:
        """Validate every argument not left to Jinja; the policy once its knobs are known.

        At parse time (``rendered=False``) a templated value is checked later, after
        rendering; every other value is checked now, so a typo shows as an import error.
        """
        self._check_target(rendered=rendered)
        check_namespace(self.namespace, rendered=rendered)
        if not isinstance(self.kubernetes_conn_id, str) or not self.kubernetes_conn_id:
            raise ValueError(
                f"kubernetes_conn_id must name a connection, got {self.kubernetes_conn_id!r}; "
                "leave it unset for 'kubernetes_default'"
            )
        for flag in SENSOR_FLAGS:
            check_flag(flag, getattr(self, flag))
        knobs: dict[str, Any] = {"require_updated_on_delete": self.require_updated_on_delete}
        pending = False
        for argument in ("min_stable_seconds", "max_restarts", *GRACE_ARGUMENTS):
            value = getattr(self, argument)
            if value is None:
                continue
            if is_template(value) and not rendered:
                pending = True
                continue
            convert = as_count if argument == "max_restarts" else as_seconds
            knobs[argument] = convert(argument, value)
        return None if pending else ReadinessPolicy(**knobs)

    def _check_target(self, *, rendered: bool) -> None:
        """What the sensor waits for: here a name of the kind's row."""
        check_name(self.kind, self.name, rendered=rendered, max_length=self._max_name_length())

    def _max_name_length(self) -> int:
        return kind_of(self.kind).max_name_length

    def _row(self) -> Kind:
        """The kinds-table row this sensor judges by (a resource sensor's comes from discovery)."""
        return kind_of(self.kind)

    def _check_timing(self) -> None:
        """A poke interval longer than the timeout means the sensor pokes once, then times out."""
        as_seconds("not_found_grace_seconds", self.not_found_grace_seconds)
        interval, timeout = float(self.poke_interval), float(self.timeout)
        if interval > timeout:
            raise ValueError(
                f"poke_interval ({interval:g}s) is longer than timeout ({timeout:g}s): the "
                "sensor would time out before its second poke; raise timeout or lower "
                "poke_interval"
            )

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
    def hook(self) -> WorkloadHook:
        """Built on first use, so parsing a DAG never imports the kubernetes client."""
        from airflow_sts_provider.hooks.workload import WorkloadHook

        return WorkloadHook(kubernetes_conn_id=self.kubernetes_conn_id)

    def poke(self, context: Context) -> PokeReturnValue:
        """READY -> done with the report as XCom; FAILED -> fail (or wait); else poke again."""
        policy = self.policy
        self._pokes += 1
        self._first = None
        self._announce(context)
        try:
            verdict = self._read(policy)
        except TransientKubernetesError as exc:
            self.log.warning("Kubernetes API unavailable, not done this poke: %s", exc)
            return PokeReturnValue(is_done=False)
        except (KubernetesPermissionError, ConnectionConfigError, UnservedKindError) as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log_verdict(verdict)
        if verdict.state is State.READY:
            return PokeReturnValue(is_done=True, xcom_value=verdict.to_dict())
        if verdict.state is State.FAILED:
            if self.fail_fast:
                self._fail(AirflowFailException(failure_message(verdict)))
            self.log.warning(
                "%s %s is failing; fail_fast=False, so waiting until the sensor's timeout "
                "in case it recovers",
                verdict.kind,
                where(verdict),
            )
        self._give_up_if_overdue(context, verdict)
        return PokeReturnValue(is_done=False, xcom_value=verdict.to_dict())

    def _read(self, policy: ReadinessPolicy) -> Verdict:
        """One poke's reads and judgement, by the hook."""
        return self.hook.get_workload_readiness(self._row(), self.name, self.namespace, policy)

    def _announce(self, context: Context) -> None:
        """The first poke of a try says what it asks of whom, once: before its reads, which
        may take a while (connection, imports, a slow API server)."""
        if not self._first_poke(context):
            return
        self.log.info(
            "Asking cluster %s via %s for %s",
            self.hook.server,
            self.kubernetes_conn_id,
            self._target_words(),
        )

    def _target_words(self) -> str:
        """What the sensor waits for, in the log's words: ``StatefulSet default/web``."""
        return f"{self.kind} {self.hook.resolve_namespace(self.namespace)}/{self.name}"

    def _give_up_if_overdue(self, context: Context, verdict: Verdict) -> None:
        """Say *why* when the wait ends: the name that never appeared, the last verdict.

        Airflow's own timeout message says only how long it waited; this runs first.
        A name not found is explained on the first poke already, with when it will fail.
        """
        elapsed = self._elapsed(context)
        grace = float(self.not_found_grace_seconds)
        if is_not_found(verdict) and elapsed > grace:
            explained = self._explain_absence(verdict)
            self._fail(
                AirflowFailException(
                    f"{explained}, {elapsed:.0f}s after the sensor started "
                    f"(not_found_grace_seconds={grace:g}): check "
                    "the name, the namespace and the connection's cluster"
                )
            )
        if is_not_found(verdict) and self._first_poke(context):
            self.log.warning(
                "%s; failing in %.0fs (not_found_grace_seconds) unless it appears",
                self._explain_absence(verdict),
                max(grace - elapsed, 0.0),
            )
        if elapsed > float(self.timeout):
            self._fail(AirflowSensorTimeout(timeout_message(verdict)))

    def _explain_absence(self, verdict: Verdict) -> str:
        try:
            return self.hook.explain_absence(self._row(), self.name, self.namespace)
        except Exception:  # the explanation is a courtesy; never let it hide the failure
            return verdict.reason

    def _first_poke(self, context: Context) -> bool:
        """Whether this is the first poke of the try (asked once a poke, then remembered)."""
        if self._first is None:
            self._elapsed(context)
        return bool(self._first)

    def _elapsed(self, context: Context) -> float:
        """Seconds since the sensor's first poke of this try, as Airflow times its timeout."""
        ti = context.get("ti") if self.reschedule else None
        if ti is not None:
            if self._first is None:  # one question to Airflow a poke, however often asked
                self._first_date = ti.get_first_reschedule_date(context)
                self._first = self._first_date is None
            first = self._first_date
            return 0.0 if first is None else (datetime.now(UTC) - first).total_seconds()
        self._first = self._pokes <= 1
        if self._poking_since is None:
            self._poking_since = time.monotonic()
        return time.monotonic() - self._poking_since

    def _fail(self, exc: Exception) -> NoReturn:
        """Raise ``exc``, or with ``soft_fail`` a skip that still says why."""
        if self.soft_fail:
            raise AirflowSkipException(f"Skipping due to soft_fail is set to True: {exc}") from exc
        raise exc

    def log_verdict(self, verdict: Verdict) -> None:
        """One summary line, then one line per pod that is not ready."""
        self.log.info("%s", summary_line(verdict))
        for line in pod_lines(verdict):
            self.log.info("%s", line)

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
            trigger=self._trigger(result.xcom_value),
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
            raise AirflowSkipException(f"Skipping due to soft_fail is set to True: {exc}") from exc
        if getattr(self, "never_fail", False):
            raise AirflowSkipException("Skipping due to never_fail is set to True.") from exc
        raise exc

    def _trigger(self, first: dict[str, Any] | None = None) -> WorkloadRunningTrigger:
        """The trigger of this kind, handed the first poke's verdict for its timeout message."""
        cls: type[WorkloadRunningTrigger] = import_class(self._row().trigger)
        return cls(**self._trigger_kwargs(first))

    def _trigger_kwargs(self, first: dict[str, Any] | None) -> dict[str, Any]:
        """What the triggerer needs: no credential (the connection goes by id)."""
        return {
            "name": self.name,
            "namespace": self.hook.resolve_namespace(self.namespace),
            "kubernetes_conn_id": self.kubernetes_conn_id,
            **self.hook.trigger_connection_kwargs(),
            "policy": asdict(self.policy),
            "fail_fast": self.fail_fast,
            "check_interval": max(float(self.poke_interval), 1.0),
            "timeout_seconds": float(self.timeout),
            "first_verdict": _summary(first),
            "not_found_grace_seconds": float(self.not_found_grace_seconds),
            "share_watches": self.share_watches,
            "end_from_trigger": self._ends_in_triggerer(),
        }

    def _mapped_over(self) -> bool:
        """Whether a downstream task maps over this one's output (only in a DAG)."""
        try:
            return next(self.iter_mapped_dependants(), None) is not None
        except RuntimeError:  # "not attached to a Dag": nothing downstream at all
            return False

    def _ends_in_triggerer(self) -> bool:
        """Whether a READY may end the task in the triggerer with nothing a user sees changed.

        The trigger pushes the verdict as a worker would and Airflow sends the callbacks,
        but no asset event for ``outlets`` is emitted, no ``post_execute`` and no
        overridden completion runs, and a return value to map over is not announced.
        """
        return (
            bool(self.end_from_trigger)
            and bool(self.do_xcom_push)
            and not self.multiple_outputs
            and not self._mapped_over()
            and not self.outlets
            and self._post_execute_hook is None
            and type(self).post_execute is BaseSensorOperator.post_execute
            and type(self).execute_complete is WorkloadRunningSensor.execute_complete
        )


def _summary(verdict: dict[str, Any] | None) -> dict[str, Any] | None:
    """State and reason of a verdict dict: enough for a timeout message, small in the DB."""
    if not verdict:
        return None
    return {key: verdict.get(key) for key in ("kind", "state", "reason", "ready", "desired")}
