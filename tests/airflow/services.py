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
import signal
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
        """Start each component (all four by default); its output goes to its own log file."""
        for name in components or COMPONENTS:
            self.processes[name] = self._spawn(name)

    def restart(self, component: str, ready: str, timeout: float) -> None:
        """Start a new ``component``, and once its log shows ``ready``, stop the old one.

        The new process is warm (imported, connected) when the old one leaves, so what
        is restarted is the state in the process, without waiting out a cold start.
        """
        old = self.processes[component]
        self.processes[component] = self._spawn(component)
        wait_until(f"the new {component}", lambda: ready in self.log_of(component), timeout)
        _terminate([old])

    def stop(self) -> None:
        """Stop every component at once (SIGTERM to its process group, then SIGKILL)."""
        _terminate(list(self.processes.values()))
        self.processes.clear()

    def _spawn(self, name: str) -> subprocess.Popen[bytes]:
        self.restarts[name] = self.restarts.get(name, -1) + 1
        with self.log_path(name).open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "airflow", name],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so stopping it ends its children (task runners) too
            )

    # ------------------------------------------------------------------ what happened

    def log_path(self, component: str, generation: int | None = None) -> Path:
        """The log of the component's latest process, or of its ``generation``-th (0 first)."""
        n = self.restarts.get(component, 0) if generation is None else generation
        return self.home / (f"{component}.log" if n == 0 else f"{component}.{n}.log")

    def log_of(self, component: str, generation: int | None = None) -> str:
        path = self.log_path(component, generation)
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        """Every component's log tail, for a failing test's output."""
        parts = []
        for name, last in self.restarts.items():
            for generation in range(last + 1):
                text = self.log_of(name, generation)[-5000:]
                parts.append(f"----- {self.log_path(name, generation).name} (tail)\n{text}")
        return "\n".join(parts)

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


def _terminate(processes: list[subprocess.Popen[bytes]], timeout: float = 30) -> None:
    """SIGTERM every process group, wait for all, SIGKILL what is left (ours, by pid)."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)
