"""The Airflow tier: a migrated metadata DB, once per session, for the DAG runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.airflow_env import AIRFLOW_HOME


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
