"""How long after a stability window truly ends does the downstream work start?

A gate exists to start what follows as soon as a workload is really running: every
pod Ready and stable for ``min_stable_seconds``. This measures, under a real
scheduler, dag-processor, triggerer and api-server (LocalExecutor,
``tests/airflow/services.py``) against the in-process test cluster, the latency
from the moment the window truly ends to the start of the first task after it,
for three ways of gating:

* ``deferrable``: ``StatefulSetRunningSensor(deferrable=True)`` then a tiny ``@task``;
* ``reschedule``: the same sensor, ``mode="reschedule", poke_interval=5``, then the task;
* ``event``: a DAG scheduled on ``workload_asset("StatefulSet", ...)`` (an asset
  watcher in the triggerer); latency = window end -> the consumer run's first task start.

**The true window end.** The API stamps ``lastTransitionTime`` truncated to the
second (and the emulator's clock itself runs up to a second behind the wall clock:
it starts at ``now`` with the microseconds dropped), so the stamps are not the truth.
Instead a listener on the emulator's store (``Store.add_listener``, called under the
store lock by the very write) notes the wall-clock moment (``time.time()``, UTC)
at which each pod's ``Ready`` condition turned ``True`` and at which the
StatefulSet's status first reported every replica current, ready and available;
there is no polling error. The window ends at
``max(last pod Ready + window, StatefulSet status all ready)``.

**One gate** is one sequential run: each gate has its own namespace ``gate-<i>``
(pre-created, empty). A sensor gate's DAG run is triggered first (the sensor's
namespace comes from ``dag_run.conf``); once its first poke found nothing and the
sensor is up for reschedule, or deferred with its trigger's first verdict ("not
found") logged, so that it lists and watches (then a second more), the ``healthy``
scenario (3 pods, OrderedReady, Ready about 1 s apart) is applied in that
namespace, so the trigger sees the transition live. For ``event``, one consumer
DAG per namespace, each scheduled on its own
``kubernetes://gate-<i>/statefulset/healthy``; every watcher runs in the triggerer
and has logged its first verdict before the first gate, and each gate's scenario
is applied only after the previous gate's run has finished. Each mode runs on a
fresh Airflow deployment and a fresh cluster.

**Where the time goes.** Each gate's latency is split at the moments Airflow
recorded, all on this machine's clock (UTC): the trigger's or watcher's READY
judgement and "fired" lines (a deferred task's trigger log, or the triggerer's
log), the poke's READY line (the task log), ``task_reschedule.reschedule_date``
(when the successful poke was due), ``asset_event.timestamp``, ``dag_run.queued_at``
and ``start_date``, and per task ``scheduled_dttm``, ``queued_dttm``, the audit
log's ``running`` event (when the task process reported in), ``end_date`` and the
downstream task's ``start_date``, which ends the latency. A negative step before
"judged READY" means the rules judged the window over before it truly was.

**CPU per gate** is the user+system CPU seconds of the scheduler, triggerer and
dag-processor process trees over the measured period, divided by the number of
gates. psutil, sampled at both ends of the period: every live process of each
tree, plus the ``children_user``/``children_system`` of each, which hold the
processes it reaped (the LocalExecutor's workers and the task processes they
fork), so task processes that came and went are counted. The period runs from
triggering the first gate (``event``: applying its scenario) until a second after
the last gate's run finished, so it includes each component's heartbeats while the
gate waits; the idle rate of the same processes, measured for ``--idle`` seconds
before the first gate, tells how much of it that is. The api-server (the
execution API the tasks talk to) is printed on its own, not in
the total; neither the ``airflow dags trigger`` commands nor the emulated cluster
(this process) are counted.

    python benchmarks/bench_latency.py [--n 5] [--window 10] [--idle 15]
        [--modes deferrable,reschedule,event] [--home DIR (keep the Airflow homes)]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kube_test_cluster.cluster import EmulatedCluster  # noqa: E402
from kube_test_cluster.registry.store import Change, Obj, Store  # noqa: E402
from tests.airflow.services import AirflowServices, wait_until  # noqa: E402

MODES = ("deferrable", "reschedule", "event")
#: The scenario applied per gate, the StatefulSet it creates, and its replicas.
SCENARIO = WORKLOAD = "healthy"
REPLICAS = 3
PREFIX = "gate-"
#: Generous for a loaded 2-core machine: the first gate waits for every component.
STARTUP = 300
STEP = 240
#: What the scheduler logs when a rescheduled poke's process exits after its next poke
#: was queued (``benchmarks/bench_gates.py``); the try fails and is retried.
RACE = "but the task instance's state attribute is queued"

_SENSOR_DAG = textwrap.dedent(
    """
    from datetime import datetime
    from airflow.sdk import dag, task
    from airflow_sts_provider.sensors.statefulset import StatefulSetRunningSensor

    @dag(dag_id="{dag_id}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False,
         max_active_runs=1)
    def latency():
        gate = StatefulSetRunningSensor(
            task_id="gate", name="{workload}", namespace="{{{{ dag_run.conf['ns'] }}}}",
            min_stable_seconds={window}, **{kwargs}
        )

        @task
        def downstream():
            return None

        gate >> downstream()

    latency()
    """
)

_EVENT_DAGS = textwrap.dedent(
    """
    from datetime import datetime
    from airflow.sdk import dag, task
    from airflow_sts_provider.assets import workload_asset

    def consumer(i):
        asset = workload_asset(
            "StatefulSet", "{workload}", f"{prefix}{{i}}", policy={{"min_stable_seconds": {window}}}
        )

        @dag(dag_id=f"latency_event_{{i}}", schedule=[asset], start_date=datetime(2024, 1, 1),
             catchup=False)
        def latency():
            @task
            def downstream():
                return None

            downstream()

        return latency()

    for i in range({n}):
        consumer(i)
    """
)

_SENSOR_KWARGS = {
    "deferrable": '{"deferrable": True}',
    "reschedule": '{"mode": "reschedule", "poke_interval": 5, "deferrable": False}',
}


# ---------------------------------------------------------------------- the true window end


def _pod_ready(pod: Obj | None) -> bool:
    conditions = ((pod or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _ready_stamp(pod: Obj) -> str | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("lastTransitionTime"))
    return None


def _sts_ready(sts: Obj | None) -> bool:
    """The StatefulSet's status counts say every replica is current, ready and available."""
    if sts is None:
        return False
    meta, status = sts.get("metadata") or {}, sts.get("status") or {}
    desired = int((sts.get("spec") or {}).get("replicas", 1))
    return (
        int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 0)
        and int(status.get("replicas") or 0) == desired
        and all(
            int(status.get(count) or 0) >= desired
            for count in ("readyReplicas", "availableReplicas", "updatedReplicas")
        )
        and status.get("currentRevision") == status.get("updateRevision")
    )


class Witness:
    """Wall-clock moments of the writes that end a window, per ``gate-*`` namespace.

    The store calls :meth:`_on_change` under its lock as part of every write, so
    ``time.time()`` here is the moment the write happened (no polling error).
    """

    def __init__(self, store: Store, clock_lag: float) -> None:
        #: seconds the emulator's clock (its stamps) runs behind the wall clock
        self.clock_lag = clock_lag
        #: namespace -> pod -> when its Ready last turned True (epoch seconds)
        self.pod_ready: dict[str, dict[str, float]] = {}
        #: namespace -> pod -> that transition's lastTransitionTime, as the API serves it
        self.pod_stamp: dict[str, dict[str, str]] = {}
        #: namespace -> when the StatefulSet's status last turned all ready
        self.sts_ready: dict[str, float] = {}
        store.add_listener(self._on_change)

    def _on_change(self, change: Change) -> None:
        if change.resource not in ("pods", "statefulsets"):
            return
        meta = change.obj["metadata"]
        namespace = str(meta.get("namespace") or "")
        if not namespace.startswith(PREFIX):
            return
        now = time.time()
        gone = change.type == "DELETED"
        if change.resource == "pods":
            ready = not gone and _pod_ready(change.obj)
            if ready and not _pod_ready(change.old):
                self.pod_ready.setdefault(namespace, {})[meta["name"]] = now
                self.pod_stamp.setdefault(namespace, {})[meta["name"]] = str(
                    _ready_stamp(change.obj)
                )
            elif not ready:  # not ready (again): its window has not started
                self.pod_ready.get(namespace, {}).pop(meta["name"], None)
        elif meta.get("name") == WORKLOAD:
            ready = not gone and _sts_ready(change.obj)
            if ready and not _sts_ready(change.old):
                self.sts_ready[namespace] = now
            elif not ready:
                self.sts_ready.pop(namespace, None)

    def window_end(self, namespace: str, window: float) -> float | None:
        """When the window truly ends (epoch seconds), once every pod is Ready."""
        pods, sts = self.pod_ready.get(namespace, {}), self.sts_ready.get(namespace)
        if len(pods) < REPLICAS or sts is None:
            return None
        return max(max(pods.values()) + window, sts)

    def stamp_error(self, namespace: str) -> float:
        """How far the last Ready pod's ``lastTransitionTime`` lies from the moment it
        turned Ready, both on the emulator's clock (negative: the stamp is earlier)."""
        pods = self.pod_ready[namespace]
        last = max(pods, key=lambda pod: pods[pod])
        return _epoch(self.pod_stamp[namespace][last]) - (pods[last] - self.clock_lag)


# ---------------------------------------------------------------------- CPU


@dataclass
class Cpu:
    """CPU seconds by component at one moment (cumulative since each process started)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def __sub__(self, before: Cpu) -> Cpu:
        return Cpu({k: v - before.seconds.get(k, 0.0) for k, v in self.seconds.items()})

    @property
    def counted(self) -> float:
        """Scheduler, executor workers and tasks, triggerer, dag-processor: not the api-server."""
        return sum(v for k, v in self.seconds.items() if k != "api-server")


def cpu_now(airflow: AirflowServices) -> Cpu:
    """user+system of every live process of each component's tree, plus what each reaped."""
    seconds: dict[str, float] = {}
    for name, popen in airflow.processes.items():
        own = rest = 0.0
        try:
            root = psutil.Process(popen.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        for process in tree:
            try:
                t = process.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if process.pid == popen.pid:
                own += t.user + t.system
                rest += t.children_user + t.children_system
            else:
                rest += t.user + t.system + t.children_user + t.children_system
        if name == "scheduler":  # its descendants: the LocalExecutor's workers and tasks
            seconds["scheduler"], seconds["workers+tasks"] = own, rest
        else:
            seconds[name] = own + rest
    return Cpu(seconds)


# ---------------------------------------------------------------------- what Airflow recorded


def _epoch(text: Any) -> float:
    """Epoch seconds of an ISO timestamp, naive ones taken as UTC (as Airflow stores them)."""
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]\d\d:?\d\d)?")


def log_times(text: str, needle: str) -> list[float]:
    """The timestamps of the component log lines holding ``needle``."""
    times = []
    for line in text.splitlines():
        found = _LOG_TIME.match(line) if needle in line else None
        if found:
            times.append(_epoch(found.group(1) + (found.group(2) or "")))
    return times


def task_log_times(
    airflow: AirflowServices, dag_id: str, run_id: str, pattern: str, prefix: str
) -> list[float]:
    """When the sensor's JSON log lines whose event starts with ``prefix`` were written;
    ``pattern``: which files (``attempt=*.log`` the task's, ``...trigger.*.log`` its trigger's,
    which the triggerer writes beside them)."""
    folder = airflow.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / "task_id=gate"
    times = []
    for path in sorted(folder.glob(pattern)):
        for line in path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if str(entry.get("event", "")).startswith(prefix):
                times.append(_epoch(entry["timestamp"]))
    return sorted(times)


def run_finished(airflow: AirflowServices, dag_id: str, run_id: str) -> bool:
    """The run succeeded (all its tasks did); a failure ends the benchmark, naming it."""
    rows = airflow.query("SELECT state FROM dag_run WHERE dag_id=? AND run_id=?", dag_id, run_id)
    state = str(rows[0][0]) if rows else None
    if state == "failed":
        tasks = airflow.query(
            "SELECT task_id, state, try_number FROM task_instance WHERE dag_id=? AND run_id=?",
            dag_id,
            run_id,
        )
        raise AssertionError(f"{dag_id} {run_id} failed: {tasks}")
    return state == "success"


def task_marks(
    airflow: AirflowServices, dag_id: str, run_id: str, task_id: str, *, last: bool = False
) -> dict[str, float]:
    """When the task (its latest try or poke) was scheduled, queued, reported running (the
    audit log's ``running`` event) and ended; ``last``: the downstream task, up to its start."""
    ((scheduled, queued, start, end),) = airflow.query(
        "SELECT scheduled_dttm, queued_dttm, start_date, end_date "
        "FROM task_instance WHERE dag_id=? AND run_id=? AND task_id=?",
        dag_id,
        run_id,
        task_id,
    )
    name = "downstream" if last else "sensor"
    marks = {f"{name} scheduled": _epoch(scheduled), f"{name} queued": _epoch(queued)}
    if last:
        marks["downstream start"] = _epoch(start)
        return marks
    ((running,),) = airflow.query(
        "SELECT max(dttm) FROM log WHERE dag_id=? AND run_id=? AND task_id=? AND event='running'",
        dag_id,
        run_id,
        task_id,
    )
    marks["sensor running"] = _epoch(running)
    marks["sensor end"] = _epoch(end)
    return marks


# ---------------------------------------------------------------------- one mode


@dataclass
class Gate:
    """One gate: when its window truly ended, and the moments Airflow reached after it."""

    namespace: str
    window_end: float
    #: how far the newest Ready stamp lies before the truth, on the emulator's own clock
    stamp_error: float
    #: named moments (epoch seconds) in the order they happen; the last is the downstream start
    marks: dict[str, float]
    note: str = ""

    @property
    def latency(self) -> float:
        return self.marks["downstream start"] - self.window_end


@dataclass
class ModeResult:
    mode: str
    gates: list[Gate]
    cpu: Cpu
    idle: Cpu
    idle_seconds: float
    measured_seconds: float
    #: how far the emulator's clock runs behind the wall clock
    clock_lag: float
    #: how often the scheduler logged the queued-state race (:data:`RACE`)
    races: int


def dag_files(tmp: Path, mode: str, n: int, window: float) -> list[Path]:
    path = tmp / f"latency_{mode}.py"
    if mode == "event":
        path.write_text(_EVENT_DAGS.format(workload=WORKLOAD, prefix=PREFIX, window=window, n=n))
    else:
        path.write_text(
            _SENSOR_DAG.format(
                dag_id=f"latency_{mode}",
                workload=WORKLOAD,
                window=window,
                kwargs=_SENSOR_KWARGS[mode],
            )
        )
    return [path]


def run_mode(mode: str, n: int, window: float, idle: float, home: Path | None) -> ModeResult:
    """A fresh cluster and Airflow; ``n`` gates of ``mode`` one after the other."""
    with tempfile.TemporaryDirectory() as tmp, EmulatedCluster() as cluster:
        lag = time.time() - cluster.clock.now().timestamp()
        witness = Witness(cluster.store, lag)
        for i in range(n):
            cluster.ensure_namespace(f"{PREFIX}{i}")
        base = Path(tmp) if home is None else home / mode
        base.mkdir(parents=True, exist_ok=True)
        airflow = AirflowServices(
            base / "airflow",
            dag_files(base, mode, n, window),
            {"AIRFLOW_CONN_KUBERNETES_DEFAULT": cluster.airflow_connection_json()},
        )
        airflow.migrate()
        airflow.start()
        try:
            _wait_for_dags(airflow, mode, n)
            time.sleep(5)  # the first heartbeats and parses after start are not steady state
            before_idle = cpu_now(airflow)
            time.sleep(idle)
            idle_cpu = cpu_now(airflow) - before_idle
            started, before = time.time(), cpu_now(airflow)
            bench = Bench(airflow, cluster, witness, mode, window)
            gate = bench.event_gate if mode == "event" else bench.sensor_gate
            gates = [gate(i) for i in range(n)]
            time.sleep(1)  # the last task process is reaped after it reported its state
            cpu, measured = cpu_now(airflow) - before, time.time() - started
            if mode == "event":
                _watcher_marks(airflow, gates)
            races = airflow.log_of("scheduler").count(RACE)
        except BaseException:
            print(airflow.logs())
            raise
        finally:
            airflow.stop()
    return ModeResult(mode, gates, cpu, idle_cpu, idle, measured, lag, races)


def _wait_for_dags(airflow: AirflowServices, mode: str, n: int) -> None:
    dags = [f"latency_event_{i}" for i in range(n)] if mode == "event" else [f"latency_{mode}"]

    def parsed() -> bool:
        found = airflow.query("SELECT dag_id FROM dag WHERE is_paused = 0")
        return set(dags) <= {dag_id for (dag_id,) in found}

    wait_until(f"{len(dags)} DAG(s) parsed", parsed, STARTUP)
    if mode == "event":
        wait_until(
            "every asset watcher to run in the triggerer",
            lambda: airflow.query(
                "SELECT count(*) FROM trigger WHERE triggerer_id IS NOT NULL HAVING count(*) >= ?",
                n,
            ),
            STARTUP,
        )

        def judged() -> bool:  # each watcher's first verdict: "not found" in its namespace
            log = airflow.log_of("triggerer")
            return all(f"StatefulSet {PREFIX}{i}/{WORKLOAD}: " in log for i in range(n))

        wait_until("every asset watcher's first verdict", judged, STARTUP)


@dataclass
class Bench:
    """One mode's deployment: Airflow, the cluster and the witness of its writes."""

    airflow: AirflowServices
    cluster: EmulatedCluster
    witness: Witness
    mode: str
    window: float

    def apply_and_wait(self, namespace: str) -> float:
        """Apply the scenario in ``namespace``; when its window truly ends (epoch seconds)."""
        self.cluster.apply_scenario(SCENARIO, namespace=namespace)
        return wait_until(
            f"{namespace}/{WORKLOAD} ready",
            lambda: self.witness.window_end(namespace, self.window),
            60,
            0.05,
        )

    def sensor_gate(self, i: int) -> Gate:
        """Trigger a run, wait for its sensor to wait, roll out, wait for the downstream task."""
        airflow, witness, mode = self.airflow, self.witness, self.mode
        dag_id = f"latency_{mode}"
        namespace = run_id = f"{PREFIX}{i}"
        triggered = airflow._airflow(
            "dags", "trigger", dag_id, "--run-id", run_id, "--conf", json.dumps({"ns": namespace})
        )
        assert triggered.returncode == 0, triggered.stdout + triggered.stderr
        waiting = "deferred" if mode == "deferrable" else "up_for_reschedule"

        def sensor_waiting() -> bool:
            rows = airflow.query(
                "SELECT ti.state, t.triggerer_id FROM task_instance ti "
                "LEFT JOIN trigger t ON ti.trigger_id = t.id "
                "WHERE ti.dag_id=? AND ti.run_id=? AND ti.task_id='gate'",
                dag_id,
                run_id,
            )
            state, triggerer = rows[0] if rows else (None, None)
            if state in ("failed", "success", "upstream_failed"):
                raise AssertionError(
                    f"{dag_id} {run_id}: the sensor ended {state} before the rollout"
                )
            return state == waiting and (mode != "deferrable" or triggerer is not None)

        wait_until(f"{dag_id} {run_id}'s sensor to be {waiting}", sensor_waiting, STEP)
        if mode == "deferrable":  # its trigger listed (found nothing) and is watching
            wait_until(
                f"{dag_id} {run_id}'s trigger's first verdict",
                lambda: task_log_times(
                    airflow,
                    dag_id,
                    run_id,
                    "attempt=*.log.trigger.*.log",
                    f"StatefulSet {namespace}/{WORKLOAD}: ",
                ),
                STEP,
            )
            time.sleep(1)  # the watches open right after the first list
        window_end = self.apply_and_wait(namespace)
        wait_until(
            f"{dag_id} {run_id} to finish", lambda: run_finished(airflow, dag_id, run_id), STEP
        )
        marks: dict[str, float] = {}
        ready = f"StatefulSet {namespace}/{WORKLOAD}: READY"
        if mode == "deferrable":
            triggers = "attempt=*.log.trigger.*.log"
            judged = task_log_times(airflow, dag_id, run_id, triggers, ready)
            fired = task_log_times(airflow, dag_id, run_id, triggers, "Trigger fired event")
            marks |= {"trigger judged READY": judged[0]} if judged else {}
            marks |= {"trigger fired": fired[0]} if fired else {}
        else:
            ((due,),) = airflow.query(
                "SELECT max(r.reschedule_date) FROM task_reschedule r "
                "JOIN task_instance ti ON r.ti_id = ti.id "
                "WHERE ti.dag_id=? AND ti.run_id=? AND ti.task_id='gate'",
                dag_id,
                run_id,
            )
            marks["last poke due"] = _epoch(due)
        marks |= task_marks(airflow, dag_id, run_id, "gate")
        if mode == "reschedule":  # the successful poke's READY, before the sensor's end
            judged = task_log_times(airflow, dag_id, run_id, "attempt=*.log", ready)
            sensor_end = marks.pop("sensor end")
            marks |= {"poke judged READY": judged[-1]} if judged else {}
            marks["sensor end"] = sensor_end
        marks |= task_marks(airflow, dag_id, run_id, "downstream", last=True)
        ((tries,),) = airflow.query(
            "SELECT try_number FROM task_instance WHERE dag_id=? AND run_id=? AND task_id='gate'",
            dag_id,
            run_id,
        )
        note = f"the sensor needed try {tries}" if int(tries or 1) > 1 else ""
        return Gate(namespace, window_end, witness.stamp_error(namespace), marks, note)

    def event_gate(self, i: int) -> Gate:
        """Roll out in the next namespace; wait for the run its watcher starts to finish."""
        airflow, witness = self.airflow, self.witness
        dag_id, namespace = f"latency_event_{i}", f"{PREFIX}{i}"
        window_end = self.apply_and_wait(namespace)
        runs = wait_until(
            f"a run of {dag_id}",
            lambda: airflow.query(
                "SELECT run_id, queued_at, start_date FROM dag_run WHERE dag_id=?", dag_id
            ),
            STEP,
        )
        if len(runs) > 1:
            raise AssertionError(f"{dag_id}: {len(runs)} runs for one rollout")
        run_id = str(runs[0][0])
        wait_until(
            f"{dag_id} {run_id} to finish", lambda: run_finished(airflow, dag_id, run_id), STEP
        )
        ((fired,),) = airflow.query(
            "SELECT e.timestamp FROM asset_event e JOIN asset a ON e.asset_id = a.id "
            "WHERE a.uri = ?",
            f"kubernetes://{namespace}/statefulset/{WORKLOAD}",
        )
        ((queued, started),) = airflow.query(
            "SELECT queued_at, start_date FROM dag_run WHERE dag_id=?", dag_id
        )
        marks = {
            "asset event": _epoch(fired),
            "run queued": _epoch(queued),
            "run started": _epoch(started),
            **task_marks(airflow, dag_id, run_id, "downstream", last=True),
        }
        return Gate(namespace, window_end, witness.stamp_error(namespace), marks)


def _watcher_marks(airflow: AirflowServices, gates: list[Gate]) -> None:
    """When each watcher decided to fire: its "Firing ready" line in the triggerer's log."""
    log = airflow.log_of("triggerer")
    for gate in gates:
        judged = log_times(log, f"StatefulSet {gate.namespace}/{WORKLOAD}: READY")
        fired = log_times(log, f"Firing ready for StatefulSet {gate.namespace}/{WORKLOAD} ")
        gate.marks = {
            **({"watcher judged READY": judged[0]} if judged else {}),
            **({"watcher fired": fired[0]} if fired else {}),
            **gate.marks,
        }


# ---------------------------------------------------------------------- report


def steps(gate: Gate) -> dict[str, float]:
    """Each mark's seconds after the one before it (the first: after the window end)."""
    pieces, last = {}, gate.window_end
    for name, moment in gate.marks.items():
        pieces[name] = moment - last
        last = moment
    return pieces


def report(results: list[ModeResult], window: float) -> None:
    print()
    print(
        f"latency = true window end -> downstream task start; window {window:g}s, "
        f"{REPLICAS} pods; CPU = scheduler + executor workers and tasks + triggerer + "
        "dag-processor"
    )
    print(f"{'mode':11} {'n':>3} {'p50 s':>7} {'max s':>7} {'CPU s/gate':>11}")
    for result in results:
        latencies = [g.latency for g in result.gates]
        n = len(latencies)
        print(
            f"{result.mode:11} {n:>3} {statistics.median(latencies):>7.2f} "
            f"{max(latencies):>7.2f} {result.cpu.counted / n:>11.2f}"
        )
    for result in results:
        n = len(result.gates)
        print()
        print(
            f"== {result.mode}: {result.measured_seconds:.0f}s measured for {n} gates; "
            f"the emulator's clock ran {result.clock_lag:.2f}s behind the wall clock; "
            f"the scheduler logged the queued-state race {result.races} time(s)"
        )
        print("   samples (s): " + ", ".join(f"{gate.latency:.2f}" for gate in result.gates))
        print(
            "   CPU s/gate by component: "
            + ", ".join(f"{k} {v / n:.2f}" for k, v in result.cpu.seconds.items())
            + " (api-server not in the table's total)"
        )
        idle_rate = result.idle.counted / result.idle_seconds
        print(
            f"   idle CPU of the counted components: {idle_rate:.3f} s/s, so "
            f"{idle_rate * result.measured_seconds / n:.2f} s/gate of the total is idle heartbeat"
        )
        medians = {
            name: statistics.median(steps(gate)[name] for gate in result.gates)
            for name in result.gates[0].marks
            if all(name in gate.marks for gate in result.gates)
        }
        print(
            "   median step after the previous one (s): window end -> "
            + " -> ".join(f"{name} {value:+.2f}" for name, value in medians.items())
        )
        for gate in result.gates:
            print(
                f"   {gate.namespace}: {gate.latency:6.2f}s = "
                + ", ".join(f"{name} {value:+.2f}" for name, value in steps(gate).items())
                + f"; Ready stamp {gate.stamp_error:+.2f}s off"
                + (f"; {gate.note}" if gate.note else "")
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5, help="gates per mode")
    parser.add_argument("--window", type=float, default=10, help="min_stable_seconds")
    parser.add_argument(
        "--modes", default=",".join(MODES), help="comma-separated, of: " + ", ".join(MODES)
    )
    parser.add_argument(
        "--idle", type=float, default=15, help="seconds of idle CPU measured per mode"
    )
    parser.add_argument(
        "--home", type=Path, help="keep each mode's Airflow home under this directory"
    )
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        parser.error(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
    results = []
    for mode in modes:
        print(f"{mode}: {args.n} gates, window {args.window:g}s ...", flush=True)
        results.append(run_mode(mode, args.n, args.window, args.idle, args.home))
    report(results, args.window)


if __name__ == "__main__":
    main()
