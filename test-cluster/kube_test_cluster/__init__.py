"""The test cluster: a small, faithful Kubernetes API emulator for tests and demos.

``EmulatedCluster`` (the whole cluster), ``SCENARIOS`` (named presets) and
``Clock`` are exported lazily: this package is imported by the pytest plugin in
every pytest run wherever it is installed, so importing it must not pull in
trustme, kubernetes or yaml. It imports nothing from the Airflow provider it was
written for (``airflow-sts-provider``, whose ``testing`` extra installs it).

Layers, each importing only the ones below it (``clock`` is a leaf any may use):
``registry`` (the object store and its semantics); ``apiserver`` (the HTTP front)
and ``machinery`` (what every component is built with: the component base, informer
cache, event recorder, node specs, pod behaviour scripts) stand on it;
``controlplane`` (controllers, scheduler, garbage collector) and ``nodes`` (kubelets,
pod simulations) stand on ``machinery`` and never import each other. On top:
``manager`` (the loop over both), ``cluster`` (the facade), ``scenarios``, the CLI
and the pytest plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from kube_test_cluster.clock import Clock
    from kube_test_cluster.cluster import EmulatedCluster
    from kube_test_cluster.scenarios import SCENARIOS

__all__ = ["SCENARIOS", "Clock", "EmulatedCluster"]


def __getattr__(name: str) -> Any:
    if name == "EmulatedCluster":
        from kube_test_cluster.cluster import EmulatedCluster

        return EmulatedCluster
    if name == "SCENARIOS":
        from kube_test_cluster.scenarios import SCENARIOS

        return SCENARIOS
    if name == "Clock":
        from kube_test_cluster.clock import Clock

        return Clock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
