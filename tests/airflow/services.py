"""A real Airflow deployment in a temporary home: scheduler, dag-processor, triggerer, api-server.

``dag.test()`` runs everything in one process and never schedules a DAG on an asset;
event-driven scheduling needs the real components, which is what this starts: its
own ``AIRFLOW_HOME`` and SQLite DB (LocalExecutor; tasks reach the metadata through
the api-server's execution API), one DAG bundle with the given DAG files, and the
``kubernetes_default`` connection in the environment, as a user would set it.
Each component's output goes to a file in the home, read back by :meth:`log_of`.
The test reads what Airflow recorded straight from the SQLite file.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

COMPONENTS = ("api-server", "dag-processor", "scheduler", "triggerer")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    what: str, predicate: Callable[[], T | None], timeout: float, every: float = 0.25
) -> T:
    """Poll ``predicate`` until it is truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every)


class AirflowServices:
    """The four components over one home; start, restart one, stop all."""

    def __init__(self, home: Path, dag_files: Iterable[Path], env: dict[str, str]) -> None:
        self.home = home
        self.dags = home / "dags"
        self.dags.mkdir(parents=True)
        for path in dag_files:
            (self.dags / path.name).symlink_to(path)
        self.port = free_port()
        self.env = {**os.environ, **self._config(), **env}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, int] = {}

    def _config(self) -> dict[str, str]:
        bundle = {
            "name": "event_dags",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(self.dags), "refresh_interval": 0},
        }
        return {
            "AIRFLOW_HOME": str(self.home),
            "STS_TEST_AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps([bundle]),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }

    # ------------------------------------------------------------------ lifecycle

    def migrate(self) -> None:
        result = self._airflow("db", "migrate")
        if result.returncode != 0:
            raise AssertionError(f"airflow db migrate failed:\n{result.stdout[-3000:]}")

    def start(self, *components: str) -> None:
        for name in components or COMPONENTS:
            self.restarts[name] = self.restarts.get(name, -1) + 1
            out = self.log_path(name).open("ab")
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "airflow", name],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so stop() ends its children (task runners) too
            )

    def stop(self, *components: str, timeout: float = 30) -> None:
        for name in components or tuple(self.processes):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout)

    def alive(self) -> dict[str, int | None]:
        return {name: process.poll() for name, process in self.processes.items()}

    # ------------------------------------------------------------------ what happened

    def log_path(self, component: str) -> Path:
        return self.home / f"{component}.log"

    def log_of(self, component: str) -> str:
        path = self.log_path(component)
        return path.read_text(errors="replace") if path.exists() else ""

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows from the metadata DB (a read-only connection, as the components write it)."""
        db = self.home / "airflow.db"
        if not db.exists():
            return []
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
            try:
                return list(conn.execute(sql, args).fetchall())
            except sqlite3.OperationalError as exc:  # not migrated yet, or locked
                if "no such table" in str(exc) or "locked" in str(exc):
                    return []
                raise

    def _airflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
