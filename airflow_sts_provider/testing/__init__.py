"""The test cluster: a small, faithful Kubernetes API emulator for tests and demos.

``EmulatedCluster`` (the whole cluster), ``SCENARIOS`` (named presets) and
``Clock`` are exported lazily: this package is imported by the pytest plugin in
every pytest run of anyone who installs the provider, so importing it must not
pull in trustme, kubernetes, yaml or Airflow.

Layers, each importing only the ones below it: ``apiserver`` (the HTTP front),
``controlplane`` (controllers, scheduler, garbage collector) and ``nodes`` (kubelets,
pod behaviours) stand on ``registry`` (the object store and its semantics); on top,
``cluster`` (the facade), ``scenarios``, the CLI and the pytest plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_sts_provider.testing.clock import Clock
    from airflow_sts_provider.testing.cluster import EmulatedCluster
    from airflow_sts_provider.testing.scenarios import SCENARIOS

__all__ = ["SCENARIOS", "Clock", "EmulatedCluster"]


def __getattr__(name: str) -> Any:
    if name == "EmulatedCluster":
        from airflow_sts_provider.testing.cluster import EmulatedCluster

        return EmulatedCluster
    if name == "SCENARIOS":
        from airflow_sts_provider.testing.scenarios import SCENARIOS

        return SCENARIOS
    if name == "Clock":
        from airflow_sts_provider.testing.clock import Clock

        return Clock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
