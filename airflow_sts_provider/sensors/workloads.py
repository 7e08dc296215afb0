"""WorkloadsRunningSensor: a whole release (every workload a deploy put up) in one sensor.

A Helm release or a kustomization deploys several workloads sharing a label
(``app.kubernetes.io/instance=kafka``). Instead of one sensor per workload, this one
LISTs each kind by that selector and judges every workload by its own rules: any
FAILED fails the gate naming the workload and its pods, any WAITING waits, nothing
matched waits ("no workload matches", a gate right after a deploy may run first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import AirflowFailException

from airflow_sts_provider.exceptions import (
    ConnectionConfigError,
    KubernetesPermissionError,
    TransientKubernetesError,
)
from airflow_sts_provider.kinds import WORKLOAD_KINDS
from airflow_sts_provider.readiness import State
from airflow_sts_provider.reporting import pod_lines, summary_line
from airflow_sts_provider.sensors.arguments import check_label_selector
from airflow_sts_provider.sensors.base import WorkloadRunningSensor
from airflow_sts_provider.workloads import WorkloadsVerdict, release_failure

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_sts_provider.triggers.base import WorkloadRunningTrigger

__all__ = ["WorkloadsRunningSensor"]


class WorkloadsRunningSensor(WorkloadRunningSensor):
    """Wait until every workload matching ``label_selector`` is really running.

    :param label_selector: the release's label selector (templated), e.g.
        ``app.kubernetes.io/instance=kafka``.
    :param namespace: where the release lives (templated).
    :param kinds: which kinds of workload make up the release.
    Every other argument is the other sensors' (``name`` excepted). The XCom holds
    ``selector, namespace, state, reason`` and ``workloads``: one verdict dict each.
    """

    kind = "Workloads"
    template_fields: Sequence[str] = (
        "label_selector",
        "namespace",
        "kubernetes_conn_id",
        "min_stable_seconds",
        "max_restarts",
    )

    def __init__(
        self,
        *,
        label_selector: str,
        kinds: Sequence[str] = WORKLOAD_KINDS,
        **kwargs: Any,
    ) -> None:
        self.label_selector = label_selector
        self.kinds = tuple(kinds)
        super().__init__(name=label_selector, **kwargs)

    def _check_target(self, *, rendered: bool) -> None:
        check_label_selector(
            "label_selector", self.label_selector, rendered=rendered, required=True
        )
        unknown = [kind for kind in self.kinds if kind not in WORKLOAD_KINDS]
        if unknown or not self.kinds:
            raise ValueError(
                f"kinds must name workload kinds, got {self.kinds!r}; choose from "
                f"{', '.join(WORKLOAD_KINDS)}"
            )

    def poke(self, context: Context) -> PokeReturnValue:
        """READY -> done with the release's report; any FAILED -> fail; else poke again."""
        try:
            verdict = self.hook.get_workloads_readiness(
                self.label_selector, self.kinds, self.namespace, self.policy
            )
        except TransientKubernetesError as exc:
            self.log.warning("Kubernetes API unavailable, not done this poke: %s", exc)
            return PokeReturnValue(is_done=False)
        except (KubernetesPermissionError, ConnectionConfigError) as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log_release(verdict)
        if not verdict.workloads:
            self._while_nothing_matches(context, verdict)
        if verdict.state is State.READY:
            return PokeReturnValue(is_done=True, xcom_value=verdict.to_dict())
        if verdict.state is State.FAILED and self.fail_fast:
            self._fail(AirflowFailException(release_failure(verdict)))
        if self._elapsed(context) > float(self.timeout):
            self._fail(AirflowFailException(f"Sensor has timed out: {verdict.reason}"))
        return PokeReturnValue(is_done=False, xcom_value=verdict.to_dict())

    def _while_nothing_matches(self, context: Context, verdict: WorkloadsVerdict) -> None:
        """A selector with a typo, or a wrong namespace, fails after ``not_found_grace_seconds``
        as a workload's name does; the first poke already says what it found instead."""
        elapsed, grace = self._elapsed(context), float(self.not_found_grace_seconds)
        if elapsed > grace:
            self._fail(
                AirflowFailException(
                    f"{self._explain_no_match(verdict)}, {elapsed:.0f}s after the sensor started "
                    f"(not_found_grace_seconds={grace:g}): check the label selector, the "
                    "namespace and the connection's cluster"
                )
            )
        if self._first_poke(context):
            self.log.warning(
                "%s; failing in %.0fs (not_found_grace_seconds) unless one appears",
                self._explain_no_match(verdict),
                max(grace - elapsed, 0.0),
            )

    def _explain_no_match(self, verdict: WorkloadsVerdict) -> str:
        try:
            return self.hook.explain_no_match(self.label_selector, self.kinds, self.namespace)
        except Exception:  # the explanation is a courtesy; never let it hide the failure
            return verdict.reason

    def _target_words(self) -> str:
        namespace = self.hook.resolve_namespace(self.namespace)
        return f"{'/'.join(self.kinds)} matching {self.label_selector} in {namespace}"

    def log_release(self, verdict: WorkloadsVerdict) -> None:
        """One summary line, then each workload not ready and its pods not ready."""
        self.log.info(
            "Workloads %s in %s: %s, %d/%d ready: %s",
            verdict.selector,
            verdict.namespace,
            verdict.state.value.upper(),
            verdict.ready,
            len(verdict.workloads),
            verdict.reason,
        )
        for workload in verdict.workloads:
            if workload.state is not State.READY:
                self.log.info("  %s", summary_line(workload))
                for line in pod_lines(workload):
                    self.log.info("  %s", line)

    def _trigger(self, first: dict[str, Any] | None = None) -> WorkloadRunningTrigger:
        from airflow_sts_provider.triggers.workloads import WorkloadsRunningTrigger

        kwargs = self._trigger_kwargs(None)
        kwargs.pop("name")
        return WorkloadsRunningTrigger(
            label_selector=self.label_selector, kinds=list(self.kinds), **kwargs
        )
