"""Many deferred waits at once: what N StatefulSet triggers cost the API server and the triggerer.

N deferred sensors are N ``StatefulSetRunningTrigger`` coroutines in one triggerer.
Each keeps its own watches (the StatefulSet by name, its pods by selector), or, on
Airflow >= 3.3 with the provider's shared streams, the triggers of one namespace share
one list+watch per resource. This runs N triggers over N one-pod StatefulSets spread
over a few namespaces of the test cluster and measures, with and without sharing:

* watch connections open at the API server (the test cluster counts them);
* requests per minute while every trigger waits (the idle phase);
* the triggerer's RSS (and its growth over Airflow alone) and CPU while idle;
* the latency from a workload's last pod's stability window closing (its Ready
  ``lastTransitionTime`` + ``min_stable_seconds``, on the cluster's clock) to its
  trigger's event.

The triggers run the way the triggerer runs them, in one process of their own (the
"triggerer", so its RSS and CPU are its own): a trigger whose ``shared_stream_key()``
returns a key is subscribed to Airflow's ``SharedStreamManager`` and its events come
from ``filter_shared_stream``; every other trigger runs ``run()`` (as
``TriggerRunner.run_trigger`` routes them in Airflow 3.3's ``triggerer_job_runner``).
A real ``airflow triggerer`` with 1,000 deferred tasks is too heavy for a 2-core
machine next to the test cluster; its DB and supervisor add nothing to what is counted.

    python benchmarks/bench_scale.py [--n 10,100] [--modes own,shared] [--idle 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

#: how the worker is started: ``python bench_scale.py --worker SPEC``
WORKER_FLAG = "--worker"
#: both modes, in the order they are run for each N
MODES = ("own", "shared")
#: what a pod does in the test cluster: pulls and turns Ready fast (the ``big`` scenario's)
POD_BEHAVIOUR = "pull=0.2, ready=0.3"
#: real seconds watches_opened and LIST pods must stay unchanged for the triggers to count as idle
SETTLE_SECONDS = 3.0
#: the triggerer's wait between two judgements without events (the trigger's default)
CHECK_INTERVAL = 30.0


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Idle:
    """What the idle phase measured (all triggers waiting, no window closed yet)."""

    seconds: float
    watches_open: int
    requests: int
    rss_bytes: int
    base_rss_bytes: int
    cpu_seconds: float
    fds: int
    cluster_cpu_seconds: float

    @property
    def requests_per_minute(self) -> float:
        return self.requests * 60.0 / self.seconds

    @property
    def cpu_percent(self) -> float:
        return 100.0 * self.cpu_seconds / self.seconds

    @property
    def cluster_cpu_percent(self) -> float:
        return 100.0 * self.cluster_cpu_seconds / self.seconds


@dataclass(frozen=True)
class Result:
    """One run: N triggers in one mode."""

    n: int
    mode: str
    namespaces: int
    routed_shared: int
    shared_groups: int
    startup_seconds: float
    idle: Idle
    latencies: list[float]
    statuses: dict[str, int]
    fired_before_idle_ended: int
    requests_by_kind: dict[str, int] = field(default_factory=dict)

    def latency(self, quantile: float) -> float:
        """The ``quantile`` of the latencies (nearest rank), NaN when none fired."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, math.ceil(quantile * len(ordered)) - 1)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mode": self.mode,
            "namespaces": self.namespaces,
            "routed_shared": self.routed_shared,
            "shared_groups": self.shared_groups,
            "startup_seconds": round(self.startup_seconds, 2),
            "watches_open": self.idle.watches_open,
            "requests_per_minute": round(self.idle.requests_per_minute, 1),
            "rss_mb": round(self.idle.rss_bytes / 2**20, 1),
            "rss_growth_mb": round((self.idle.rss_bytes - self.idle.base_rss_bytes) / 2**20, 1),
            "cpu_percent": round(self.idle.cpu_percent, 2),
            "fds": self.idle.fds,
            "cluster_cpu_percent": round(self.idle.cluster_cpu_percent, 1),
            "latency_p50": round(self.latency(0.5), 3),
            "latency_p95": round(self.latency(0.95), 3),
            "latency_max": round(self.latency(1.0), 3),
            "statuses": self.statuses,
            "fired_before_idle_ended": self.fired_before_idle_ended,
        }


# --------------------------------------------------------------------------- sharing


def sharing_available() -> bool:
    """Whether the provider's triggers can share streams (Airflow >= 3.3 and the provider's
    ``share_watches`` switch); without it only the ``own`` mode is measured."""
    from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger

    try:
        from airflow.triggers.shared_stream import SharedStreamManager  # noqa: F401
    except ImportError:
        return False
    parameters = inspect.signature(StatefulSetRunningTrigger.__init__).parameters
    return "share_watches" in parameters and hasattr(StatefulSetRunningTrigger, "shared_stream_key")


# --------------------------------------------------------------------------- the workloads


def workload_names(n: int, namespaces: int) -> list[tuple[str, str]]:
    """``(namespace, name)`` of the N workloads, dealt round-robin over the namespaces."""
    return [(f"scale-{i % namespaces}", f"w-{i:05d}") for i in range(n)]


def statefulset_manifest(namespace: str, name: str, replicas: int) -> dict[str, Any]:
    """A small Parallel StatefulSet whose pods turn Ready about a second after creation."""
    from kube_test_cluster.machinery.behaviour import ANNOTATION
    from kube_test_cluster.scenarios import IMAGE, statefulset

    container = {
        "name": "app",
        "image": IMAGE,
        "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5},
    }
    template = {
        "metadata": {"labels": {"app": name}, "annotations": {ANNOTATION: POD_BEHAVIOUR}},
        "spec": {"containers": [container]},
    }
    return statefulset(name, namespace, replicas, template, policy="Parallel")


def ready_since(pod: dict[str, Any]) -> datetime | None:
    """The pod's Ready condition's lastTransitionTime, if it is Ready."""
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            stamp = str(condition.get("lastTransitionTime") or "")
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
    return None


def last_ready(cluster: Any, workloads: list[tuple[str, str]], replicas: int) -> dict[str, float]:
    """``"ns/name"`` -> epoch (cluster clock) its last pod turned Ready; {} until all are."""
    by_workload: dict[str, list[float]] = {}
    for pod in cluster.store.list("pods"):
        meta = pod["metadata"]
        since = ready_since(pod)
        if since is None:
            return {}
        key = f"{meta['namespace']}/{(meta.get('labels') or {}).get('app')}"
        by_workload.setdefault(key, []).append(since.timestamp())
    wanted = {f"{ns}/{name}" for ns, name in workloads}
    if set(by_workload) != wanted or any(len(v) < replicas for v in by_workload.values()):
        return {}
    return {key: max(stamps) for key, stamps in by_workload.items()}


# --------------------------------------------------------------------------- the triggerer


@dataclass(frozen=True)
class WorkerSpec:
    """What the triggerer process runs: one trigger per workload, shared or not."""

    workloads: list[tuple[str, str]]
    min_stable_seconds: float
    check_interval: float
    share: bool
    deadline: float

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__))

    @classmethod
    def load(cls, path: Path) -> WorkerSpec:
        raw = json.loads(path.read_text())
        raw["workloads"] = [tuple(w) for w in raw["workloads"]]
        return cls(**raw)


def _say(**line: Any) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def build_trigger(spec: WorkerSpec, namespace: str, name: str) -> Any:
    """The trigger a deferred ``StatefulSetRunningSensor`` would hand the triggerer."""
    from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger

    kwargs: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "kubernetes_conn_id": "kubernetes_default",
        "policy": {"min_stable_seconds": spec.min_stable_seconds},
        "check_interval": spec.check_interval,
        "deadline": spec.deadline,
    }
    if "share_watches" in inspect.signature(StatefulSetRunningTrigger.__init__).parameters:
        kwargs["share_watches"] = spec.share
    return StatefulSetRunningTrigger(**kwargs)


def event_stream(manager: Any, trigger_id: int, trigger: Any) -> tuple[AsyncIterator[Any], Any]:
    """The trigger's events as ``TriggerRunner.run_trigger`` routes them; the shared key or None."""
    from airflow.triggers.base import BaseEventTrigger

    key = trigger.shared_stream_key() if isinstance(trigger, BaseEventTrigger) else None
    if manager is None or key is None:
        return trigger.run(), None
    shared = manager.subscribe(trigger_id=trigger_id, trigger=trigger, key=key)
    return trigger.filter_shared_stream(shared), key


async def run_one(manager: Any, trigger_id: int, trigger: Any, routed: list[int]) -> None:
    """Take the trigger's first event (a deferred sensor's only one) and report when it came."""
    stream, key = event_stream(manager, trigger_id, trigger)
    if key is not None:
        routed.append(trigger_id)
    try:
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for event in stream:
                payload = event.payload
                _say(fired=trigger_id, wall=time.time(), status=payload.get("status"))
                break
    finally:
        if key is not None:
            await manager.unsubscribe(trigger_id, key)


async def run_worker(spec: WorkerSpec) -> None:
    """Every trigger at once in one event loop, as the triggerer holds them."""
    try:
        from airflow.triggers.shared_stream import SharedStreamManager
    except ImportError:
        manager = None
    else:
        manager = SharedStreamManager()
    triggers = [build_trigger(spec, ns, name) for ns, name in spec.workloads]
    routed: list[int] = []
    tasks = [asyncio.create_task(run_one(manager, i, t, routed)) for i, t in enumerate(triggers)]
    await asyncio.sleep(0)  # every task subscribes (or not) before its first await
    groups = len(getattr(manager, "_groups", {}))
    _say(started=time.time(), shared_triggers=len(routed), shared_groups=groups)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for i, outcome in enumerate(results):
        if isinstance(outcome, BaseException):
            _say(fired=i, wall=time.time(), status=f"raised {type(outcome).__name__}: {outcome}")
    if manager is not None:
        await manager.stop_all()


def worker_main(spec_path: Path) -> None:
    """The triggerer process: load Airflow, report, wait for 'go', run the triggers."""
    import airflow.triggers.base  # noqa: F401  (Airflow loaded before the baseline RSS)
    from airflow.sdk.log import configure_logging

    import airflow_sts_provider.triggers.statefulset  # noqa: F401

    # The triggers' logs go to stderr (kept in a file): stdout carries this process's reports.
    level = os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    configure_logging(log_level=level, output=sys.stderr, colored_console_log=False)
    spec = WorkerSpec.load(spec_path)
    _say(loaded=time.time())
    sys.stdin.readline()
    asyncio.run(run_worker(spec))
    _say(done=time.time())


# --------------------------------------------------------------------------- process probes


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Worker:
    """The triggerer subprocess and the lines it reports, read by a thread."""

    def __init__(self, spec: WorkerSpec, home: Path, kubeconfig: Path, log_level: str) -> None:
        spec_path = home / "spec.json"
        spec.dump(spec_path)
        self.stderr_path = home / "triggerer.log"
        self._stderr = self.stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), WORKER_FLAG, str(spec_path)],
            env=airflow_env(home, kubeconfig, log_level),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError), self._lock:
                self.lines.append(json.loads(line))

    def seen(self, key: str) -> list[dict[str, Any]]:
        with self._lock:
            return [line for line in self.lines if key in line]

    def wait_for(self, key: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := self.seen(key):
                return found[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"triggerer never reported {key!r}; its log:\n{self.log_tail()}")

    def go(self) -> None:
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None
        stdin.write("go\n")
        stdin.flush()

    def log_tail(self, lines: int = 30) -> str:
        self._stderr.flush()
        return "\n".join(self.stderr_path.read_text().splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


def airflow_home_env(home: Path, log_level: str = "WARNING") -> dict[str, str]:
    """Airflow in a private home (a throwaway config and DB), as the tests set it up."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": log_level,
    }


def airflow_env(home: Path, kubeconfig: Path, log_level: str = "WARNING") -> dict[str, str]:
    """The triggerer's environment: a private home and the connection users set up, in its
    env-var form (as ``scripts/demo.py`` does: the kubeconfig by path, never its contents)."""
    env = dict(os.environ)
    env.update(airflow_home_env(home, log_level))
    env["AIRFLOW_CONN_KUBERNETES_DEFAULT"] = json.dumps(
        {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
    )
    return env


# --------------------------------------------------------------------------- one run


@dataclass(frozen=True)
class Options:
    namespaces: int = 4
    replicas: int = 1
    idle_seconds: float = 30.0
    check_interval: float = CHECK_INTERVAL
    #: real seconds between watch bookmarks (the test cluster's default is 1 s; a real
    #: apiserver sends one about every minute)
    bookmark_interval: float = 60.0
    speed: float = 1.0
    #: real seconds between a test-cluster watch thread's checks for a hung-up client
    #: (the test cluster's default is 0.2 s; at 2,000 watches that is 10,000 wake-ups a
    #: second under one GIL, which a real apiserver does not pay): None keeps the default
    cluster_watch_poll: float | None = 1.0
    #: real seconds allowed for the triggers to list and open their watches (None: by N)
    startup_seconds: float | None = None
    #: the triggerer's log level (its log is kept in the scratch directory while it runs)
    log_level: str = "WARNING"

    def startup_budget(self, n: int, share: bool) -> float:
        """Generous real seconds for N triggers to start on this machine: the stability
        window is set so that no window closes before they all wait and idle is measured."""
        if self.startup_seconds is not None:
            return self.startup_seconds
        return 10.0 + (0.01 if share else 0.08) * n


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sts-bench-scale-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def cluster_watch_poll(seconds: float | None) -> Iterator[None]:
    """Set the test cluster's watch hang-up check interval for one run (in this process)."""
    from kube_test_cluster.registry import watch

    default = watch._POLL
    if seconds is not None:
        watch._POLL = seconds
    try:
        yield
    finally:
        watch._POLL = default


def run_scale(n: int, mode: str, options: Options | None = None) -> Result:
    """N triggers over N StatefulSets in a fresh test cluster, in ``mode`` (own or shared)."""
    from kube_test_cluster.cluster import EmulatedCluster

    opts = options or Options()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    namespaces = min(opts.namespaces, n)
    workloads = workload_names(n, namespaces)
    with (
        scratch_dir() as home,
        cluster_watch_poll(opts.cluster_watch_poll),
        EmulatedCluster(speed=opts.speed) as cluster,
    ):
        cluster.server.api.bookmark_interval = opts.bookmark_interval
        cluster.apply([statefulset_manifest(ns, name, opts.replicas) for ns, name in workloads])
        ready = cluster.wait_for(
            lambda: last_ready(cluster, workloads, opts.replicas), timeout=60 + n * 0.1
        )
        return _measure(
            cluster, home=home, n=n, mode=mode, namespaces=namespaces, ready=ready, opts=opts
        )


def _measure(
    cluster: Any,
    *,
    home: Path,
    n: int,
    mode: str,
    namespaces: int,
    ready: dict[str, float],
    opts: Options,
) -> Result:
    share = mode == "shared"
    emulated_now = cluster.clock.now().timestamp()
    wall_at = time.time()
    budget = opts.startup_budget(n, share) + opts.idle_seconds + SETTLE_SECONDS + 5.0
    window = (emulated_now - min(ready.values())) + budget * opts.speed
    closes = {
        key: wall_at + (stamp + window - emulated_now) / opts.speed for key, stamp in ready.items()
    }
    workloads = workload_names(n, namespaces)
    spec = WorkerSpec(workloads, window, opts.check_interval, share, time.time() + budget * 4 + 120)
    worker = Worker(spec, home, cluster.kubeconfig_path, opts.log_level)
    try:
        worker.wait_for("loaded", timeout=120)
        base_rss = rss_bytes(worker.proc.pid)
        started = time.monotonic()
        worker.go()
        started_line = worker.wait_for("started", timeout=60)
        _settle(cluster, timeout=budget)
        startup = time.monotonic() - started
        idle = _idle(cluster, worker.proc.pid, base_rss, opts.idle_seconds)
        early = len(worker.seen("fired"))
        last_close = max(closes.values())
        worker.wait_for("done", timeout=max(last_close - time.time(), 0) + 60 + opts.check_interval)
        fired = worker.seen("fired")
    finally:
        worker.stop()
    latencies, statuses = _latencies(fired, workloads, closes)
    return Result(
        n=n,
        mode=mode,
        namespaces=namespaces,
        routed_shared=int(started_line.get("shared_triggers") or 0),
        shared_groups=int(started_line.get("shared_groups") or 0),
        startup_seconds=startup,
        idle=idle,
        latencies=latencies,
        statuses=statuses,
        fired_before_idle_ended=early,
        requests_by_kind=cluster.stats()["requests"],
    )


def _settle(cluster: Any, timeout: float) -> None:
    """Wait until no watch opens and no pod LIST happens for SETTLE_SECONDS: all are waiting."""
    started = time.monotonic()
    deadline, report = started + timeout, started + 10.0

    def marker() -> tuple[int, int]:
        stats = cluster.stats()
        return stats["watches_opened"], stats["requests"].get("list pods", 0)

    last, since = marker(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = marker()
        if now != last or now[0] == 0:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= SETTLE_SECONDS:
            return
        if time.monotonic() >= report:
            report += 10.0
            print(
                f"  ... {time.monotonic() - started:.0f} s: {_progress(cluster)}", file=sys.stderr
            )
    raise RuntimeError(
        f"the triggers were still starting after {timeout:.0f} s: {_progress(cluster)}"
    )


def _progress(cluster: Any) -> str:
    stats = cluster.stats()
    lists = stats["requests"].get("list pods", 0)
    return f"{stats['watches_open']} watches open, {lists} pod LISTs"


def _idle(cluster: Any, pid: int, base_rss: int, seconds: float) -> Idle:
    """Counters over ``seconds`` of waiting: requests, the triggerer's CPU, the cluster's CPU."""
    before, cpu_before, own_before = cluster.stats(), cpu_seconds(pid), time.process_time()
    wall = time.monotonic()
    time.sleep(seconds)
    after, cpu_after, own_after = cluster.stats(), cpu_seconds(pid), time.process_time()
    return Idle(
        seconds=time.monotonic() - wall,
        watches_open=after["watches_open"],
        requests=after["requests_total"] - before["requests_total"],
        rss_bytes=rss_bytes(pid),
        base_rss_bytes=base_rss,
        cpu_seconds=cpu_after - cpu_before,
        fds=open_fds(pid),
        cluster_cpu_seconds=own_after - own_before,
    )


def _latencies(
    fired: list[dict[str, Any]], workloads: list[tuple[str, str]], closes: dict[str, float]
) -> tuple[list[float], dict[str, int]]:
    """Real seconds from each workload's window closing to its trigger's event; statuses."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    for line in fired:
        status = str(line.get("status"))
        statuses[status] = statuses.get(status, 0) + 1
        namespace, name = workloads[int(line["fired"])]
        if status == "success":
            latencies.append(float(line["wall"]) - closes[f"{namespace}/{name}"])
    return latencies, statuses


# --------------------------------------------------------------------------- the table

_COLUMNS: list[tuple[str, str, Callable[[Result], str]]] = [
    ("N", ">6", lambda r: f"{r.n:,}"),
    ("mode", "<7", lambda r: r.mode),
    ("watches", ">8", lambda r: f"{r.idle.watches_open:,}"),
    ("per trig", ">9", lambda r: f"{r.idle.watches_open / r.n:.2f}"),
    ("req/min", ">8", lambda r: f"{r.idle.requests_per_minute:,.0f}"),
    ("RSS MB", ">7", lambda r: f"{r.idle.rss_bytes / 2**20:.0f}"),
    ("+MB", ">6", lambda r: f"{(r.idle.rss_bytes - r.idle.base_rss_bytes) / 2**20:.1f}"),
    ("CPU %", ">6", lambda r: f"{r.idle.cpu_percent:.1f}"),
    ("fds", ">6", lambda r: f"{r.idle.fds:,}"),
    ("start s", ">8", lambda r: f"{r.startup_seconds:.1f}"),
    ("lat p50", ">8", lambda r: f"{r.latency(0.5):.2f}"),
    ("p95", ">6", lambda r: f"{r.latency(0.95):.2f}"),
    ("max", ">6", lambda r: f"{r.latency(1.0):.2f}"),
    ("ok", ">6", lambda r: f"{r.statuses.get('success', 0):,}"),
]


def table(results: list[Result]) -> str:
    header = " ".join(f"{name:{fmt}}" for name, fmt, _ in _COLUMNS)
    rows = [" ".join(f"{cell(r):{fmt}}" for _, fmt, cell in _COLUMNS) for r in results]
    return "\n".join([header, "-" * len(header), *rows])


def ratios(results: list[Result]) -> list[str]:
    """Shared against own, per N, from runs in the same process."""
    lines = []
    by_key = {(r.n, r.mode): r for r in results}
    for n in sorted({r.n for r in results}):
        own, shared = by_key.get((n, "own")), by_key.get((n, "shared"))
        if own is None or shared is None:
            continue
        lines.append(
            f"N={n:,} shared/own: "
            f"watches x{_ratio(shared.idle.watches_open, own.idle.watches_open):.3f}, "
            f"RSS growth x{_ratio(_growth(shared), _growth(own)):.2f}, "
            f"idle CPU x{_ratio(shared.idle.cpu_seconds, own.idle.cpu_seconds):.2f}, "
            f"req/min x{_ratio(shared.idle.requests, own.idle.requests):.2f}, "
            f"latency p50 x{_ratio(shared.latency(0.5), own.latency(0.5)):.2f}"
        )
    return lines


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else math.nan


def _growth(result: Result) -> float:
    return float(result.idle.rss_bytes - result.idle.base_rss_bytes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", default="10,100", help="comma-separated trigger counts")
    parser.add_argument("--modes", default="own,shared", help="own, shared or both")
    parser.add_argument("--namespaces", type=int, default=4)
    parser.add_argument("--replicas", type=int, default=1, help="pods per StatefulSet")
    parser.add_argument("--idle", type=float, default=30.0, help="real seconds of idle measuring")
    parser.add_argument("--check-interval", type=float, default=CHECK_INTERVAL)
    parser.add_argument("--bookmark-interval", type=float, default=60.0)
    parser.add_argument(
        "--cluster-watch-poll",
        type=float,
        default=1.0,
        help="test cluster's watch hang-up check interval, s (0 keeps its default, 0.2)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    with scratch_dir() as home:
        os.environ.update(airflow_home_env(home))  # before this process loads Airflow
        run_all(args)


def run_all(args: argparse.Namespace) -> None:
    """Every N in every mode, one fresh test cluster each; the table and the ratios."""
    counts = [int(part.replace("_", "")) for part in args.n.split(",") if part.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if "shared" in modes and not sharing_available():
        print("shared: not measured: the provider's triggers cannot share streams yet")
        modes = [m for m in modes if m != "shared"]
    options = Options(
        namespaces=args.namespaces,
        replicas=args.replicas,
        idle_seconds=args.idle,
        check_interval=args.check_interval,
        bookmark_interval=args.bookmark_interval,
        cluster_watch_poll=args.cluster_watch_poll or None,
    )
    results = []
    for n in counts:
        for mode in modes:
            results.append(run_scale(n, mode, options))
            print(table(results[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(results))
    for line in ratios(results):
        print(line)
    if args.json is not None:
        args.json.write_text(json.dumps([r.to_dict() for r in results], indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == WORKER_FLAG:
        worker_main(Path(sys.argv[2]))
    else:
        main()
