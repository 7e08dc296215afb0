"""The test cluster, for your DAG tests: ``EmulatedCluster``, ``SCENARIOS`` and ``Clock``.

The test cluster is its own distribution, ``kube-test-cluster`` (import package
:mod:`kube_test_cluster`), installed by the provider's ``testing`` extra; an
Airflow worker needs neither. This module re-exports its three names lazily:
importing it imports nothing, and the first name used imports the test cluster,
or raises an ``ImportError`` saying in one line what to install.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kube_test_cluster import SCENARIOS, Clock, EmulatedCluster

__all__ = ["SCENARIOS", "Clock", "EmulatedCluster"]

#: what a missing test cluster says
MISSING = "the test cluster is not installed: pip install 'airflow-sts-provider[testing]'"


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        test_cluster = importlib.import_module("kube_test_cluster")
    except ModuleNotFoundError as error:
        if error.name != "kube_test_cluster":
            raise  # installed, but something it needs is not: say that, not this
        raise ImportError(MISSING, name=error.name) from None
    return getattr(test_cluster, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
