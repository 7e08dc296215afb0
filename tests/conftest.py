"""The whole suite's one Airflow environment, set before anything imports Airflow.

Tiers, each runnable alone (``make test`` runs them all):

* ``tests/unit``: the rules, the transport-free half of the hooks, the sensor's
  decisions with a stub hook. No cluster, no Airflow DB; seconds.
* ``tests/integration``: the hooks and triggers over real HTTPS against the test
  cluster (``hooks/``), and the packaging of both distributions (``packaging/``).
* ``test-cluster/tests``: the test cluster itself (its own distribution, real clients
  and kubectl against it); the root configuration collects it too, and it runs
  alone from ``test-cluster/`` without the provider.
* ``tests/airflow``: DAG runs in a real Airflow (``dag.test()``, migrated DB).

``tests.airflow_env`` points ``AIRFLOW_HOME`` at a temporary directory at import
time; this root conftest is imported before any test module, so no collection
order can let Airflow read another configuration first.
"""

from __future__ import annotations

import shutil
import sys

import pytest

from tests.airflow_env import AIRFLOW_HOME


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the temporary AIRFLOW_HOME (DB, logs) when the session ends."""
    if AIRFLOW_HOME.name.startswith("sts-airflow-"):
        shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def airflow_logs_to_stdout_fd() -> None:
    """Send Airflow's logs to file descriptor 1 for the whole session.

    Airflow binds its log stream to whatever ``sys.stdout`` is when logging is first
    configured, and keeps it. If that happens inside a test using ``capfd``/``capsys``,
    the stream is that test's capture object, closed when the test ends, and later
    task logs vanish. Writing to the process's real stdout (fd 1) lets every test's
    ``capfd`` see the task logs of its own DAG runs.
    """
    from airflow.sdk.log import configure_logging

    configure_logging(output=sys.__stdout__)
