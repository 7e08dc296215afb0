"""ResourceRunningSensor: any resource that reports conditions, e.g. an operator's CR.

Strimzi ``Kafka``, CloudNativePG ``Cluster``, KServe ``InferenceService``, Argo
``Rollout``, cert-manager ``Certificate``: their operator says in a condition
whether the service is up. The sensor finds the resource's plural through API
discovery (never guessed), judges it by the G rules (never READY without a positive
signal) and, with ``pod_selector``, its pods by the pod rules, so a crash-looping
broker fails the gate at once even while the operator still says Ready.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow_sts_provider.kinds import Kind, ResourceSpec
from airflow_sts_provider.sensors.arguments import (
    check_api_version_and_kind,
    check_label_selector,
)
from airflow_sts_provider.sensors.base import WorkloadRunningSensor

__all__ = ["ResourceRunningSensor"]


class ResourceRunningSensor(WorkloadRunningSensor):
    """Wait until a resource's readiness condition is True and stable (and its pods run).

    :param api_version: the resource's ``apiVersion``, e.g. ``kafka.strimzi.io/v1beta2``.
    :param kind: its ``kind``, e.g. ``Kafka``.
    :param name: its name (templated).
    :param condition: the condition that means ready (``Ready``; some use ``Available``).
    :param failure_reasons: reasons of that condition, when False, that mean the service
        is broken (FAILED at once) rather than still coming up.
    :param pod_selector: a label selector (templated) of the pods that run the service,
        judged by the pod rules, e.g. ``strimzi.io/cluster=kafka``.
    Every other argument is the other sensors'.
    """

    template_fields: Sequence[str] = (
        *WorkloadRunningSensor.template_fields,
        "pod_selector",
    )

    def __init__(
        self,
        *,
        api_version: str,
        kind: str,
        condition: str = "Ready",
        failure_reasons: Sequence[str] = (),
        pod_selector: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.api_version = api_version
        self.kind = kind
        self.condition = condition
        self.failure_reasons = tuple(failure_reasons)
        self.pod_selector = pod_selector
        super().__init__(**kwargs)

    def _check_target(self, *, rendered: bool) -> None:
        for argument in ("api_version", "kind", "condition"):
            value = getattr(self, argument)
            if not isinstance(value, str) or not value.strip() or " " in value:
                raise ValueError(
                    f"{argument} must be a non-empty string without spaces, got {value!r}; e.g. "
                    "api_version='kafka.strimzi.io/v1beta2', kind='Kafka', condition='Ready'"
                )
        check_api_version_and_kind(self.api_version, self.kind)
        if not all(isinstance(reason, str) for reason in self.failure_reasons):
            raise ValueError(
                f"failure_reasons must be strings, got {self.failure_reasons!r}; e.g. "
                "failure_reasons=('ReconcileFailed',)"
            )
        check_label_selector("pod_selector", self.pod_selector, rendered=rendered)
        super()._check_target(rendered=rendered)

    def _max_name_length(self) -> int:
        return 253

    def _row(self) -> Kind:
        return self._resolved

    @cached_property
    def _resolved(self) -> Kind:
        """The row from API discovery, once per sensor (the hook caches it too)."""
        spec = ResourceSpec(
            self.api_version, self.kind, self.condition, self.failure_reasons, self.pod_selector
        )
        return self.hook.resolve_kind(spec)

    def _trigger_kwargs(self, first: dict[str, Any] | None) -> dict[str, Any]:
        return {
            **super()._trigger_kwargs(first),
            "api_version": self.api_version,
            "resource_kind": self.kind,
            "condition": self.condition,
            "failure_reasons": list(self.failure_reasons),
            "pod_selector": self.pod_selector,
        }
