"""pytest fixtures for testing DAGs against the emulated cluster (a ``pytest11`` plugin).

::

    @pytest.mark.emulated_cluster(speed=20, scenarios=["crashloop"])
    def test_my_dag_fails_fast(airflow_kubernetes_conn, emulated_cluster): ...

Fixtures: ``emulated_cluster`` (a started :class:`~.cluster.EmulatedCluster`, one
per test), ``emulated_kubeconfig`` (its kubeconfig file) and
``airflow_kubernetes_conn`` (``AIRFLOW_CONN_KUBERNETES_DEFAULT`` pointed at it;
returns the connection id). The marker's keywords are the cluster's
(``speed``, ``manual_clock``, ``tls``, ``token``, ``role``, ``faults``) plus
``scenarios`` (names to apply) and ``replicas`` (passed to each).

Loaded in every pytest run wherever ``kube-test-cluster`` is installed (for the
provider's users: its ``testing`` extra), so it imports nothing heavy until a
fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from kube_test_cluster.cluster import EmulatedCluster

CONN_ID = "kubernetes_default"
CONN_ENV = "AIRFLOW_CONN_KUBERNETES_DEFAULT"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "emulated_cluster(speed=1.0, manual_clock=False, scenarios=(), replicas=None, role=None, "
        "token=None, tls=True, faults=None): configure the emulated_cluster fixture",
    )


@pytest.fixture
def emulated_cluster(request: pytest.FixtureRequest) -> Iterator[EmulatedCluster]:
    """A started emulated Kubernetes cluster, stopped after the test."""
    from kube_test_cluster.cluster import EmulatedCluster

    marker = request.node.get_closest_marker("emulated_cluster")
    options = dict(marker.kwargs) if marker is not None else {}
    names = options.pop("scenarios", ())
    if isinstance(names, str):
        names = [names]
    replicas = options.pop("replicas", None)
    with EmulatedCluster(**options) as cluster:
        for name in names:
            cluster.apply_scenario(name, replicas=replicas)
        yield cluster


@pytest.fixture
def emulated_kubeconfig(emulated_cluster: EmulatedCluster) -> Path:
    """Path of the cluster's kubeconfig (``kubectl --kubeconfig``, ``KUBECONFIG``)."""
    return emulated_cluster.kubeconfig_path


@pytest.fixture
def airflow_kubernetes_conn(
    emulated_cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Point Airflow's ``kubernetes_default`` connection at the cluster; returns its id."""
    monkeypatch.setenv(CONN_ENV, emulated_cluster.airflow_connection_json())
    return CONN_ID
