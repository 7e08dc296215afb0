"""The trigger for any resource that reports conditions; the loop is :mod:`.base`'s.

It watches the custom resource by name (and its pods, with ``pod_selector``), its
plural found through API discovery in the triggerer, as the sensor found it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_sts_provider.kinds import Kind, ResourceSpec
from airflow_sts_provider.triggers.base import WorkloadRunningTrigger

if TYPE_CHECKING:  # imported off the event loop (triggers/loading.py)
    from airflow_sts_provider.hooks.workload import AsyncWorkloadHook

__all__ = ["ResourceRunningTrigger"]


class ResourceRunningTrigger(WorkloadRunningTrigger):
    """Watch a custom resource (and its pods) until its readiness condition holds, stable.

    :param api_version: e.g. ``kafka.strimzi.io/v1beta2``.
    :param resource_kind: e.g. ``Kafka``.
    :param condition: the readiness condition (``Ready``).
    :param failure_reasons: reasons of a False condition that mean FAILED.
    :param pod_selector: label selector of the pods judged by the pod rules, if any.
    Every other argument is :class:`WorkloadRunningTrigger`'s.
    """

    def __init__(
        self,
        *,
        api_version: str,
        resource_kind: str,
        condition: str = "Ready",
        failure_reasons: list[str] | tuple[str, ...] = (),
        pod_selector: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.api_version = api_version
        self.kind = resource_kind
        self.condition = condition
        self.failure_reasons = list(failure_reasons)
        self.pod_selector = pod_selector

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The base arguments plus the resource's identity and its condition knobs."""
        classpath, kwargs = super().serialize()
        kwargs.update(
            api_version=self.api_version,
            resource_kind=self.kind,
            condition=self.condition,
            failure_reasons=self.failure_reasons,
            pod_selector=self.pod_selector,
        )
        return classpath, kwargs

    async def _row(self, hook: AsyncWorkloadHook) -> Kind:
        spec = ResourceSpec(
            self.api_version,
            self.kind,
            self.condition,
            tuple(self.failure_reasons),
            self.pod_selector,
        )
        return await hook.resolve_kind(spec)
