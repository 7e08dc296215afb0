"""A throwaway Airflow for the provider's tests: temporary AIRFLOW_HOME, migrated sqlite DB.

``airflow_env`` (imported first) points Airflow at a temporary home before any test
module of this folder imports Airflow. The DB is migrated once per session (a few
seconds) and shared by every DAG run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.provider.airflow_env import AIRFLOW_HOME


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the temporary AIRFLOW_HOME (DB, logs) when the session ends."""
    if AIRFLOW_HOME.name.startswith("sts-airflow-"):
        shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """Migrate the metadata DB once for the whole session (``airflow db migrate``)."""
    db = AIRFLOW_HOME / "airflow.db"
    if not db.exists():
        result = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
    yield db


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
