"""Where the provider's tests keep their throwaway Airflow: set before Airflow is imported.

Airflow reads its configuration once, when ``airflow`` is first imported, so this
module sets the environment at import time; ``conftest.py`` imports it first thing.
The root ``tests/conftest.py`` imports it first thing, so no test module and no
collection order can import Airflow before it. The DAGs come from ``example_dags/``
and ``tests/airflow/dags/``, registered as two local DAG bundles so ``dag.test()``
can find and serialize them.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = REPO / "example_dags"
TEST_DAGS = REPO / "tests" / "airflow" / "dags"


def _airflow_environment() -> Path:
    """Point Airflow at a private home before it is imported; refuse if it is too late."""
    if "airflow.configuration" in sys.modules and not os.environ.get("STS_TEST_AIRFLOW_HOME"):
        raise pytest.UsageError(
            "airflow was imported before tests/conftest.py could point AIRFLOW_HOME at a "
            "temporary directory: another pytest plugin imported it first; run with "
            "STS_TEST_AIRFLOW_HOME=<a scratch directory> to choose the home yourself"
        )
    from cryptography.fernet import Fernet

    home = Path(os.environ.get("STS_TEST_AIRFLOW_HOME") or tempfile.mkdtemp(prefix="sts-airflow-"))
    bundles = [
        {
            "name": "provider_example_dags",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(EXAMPLE_DAGS), "refresh_interval": 0},
        },
        {
            "name": "provider_test_dags",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(TEST_DAGS), "refresh_interval": 0},
        },
    ]
    os.environ.update(
        {
            "STS_TEST_AIRFLOW_HOME": str(home),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # The example DAGs read these at parse time: poke every second, give up soon.
            "STS_EXAMPLE_POKE_INTERVAL": "1",
            "STS_EXAMPLE_TIMEOUT": "90",
        }
    )
    return home


AIRFLOW_HOME = _airflow_environment()
