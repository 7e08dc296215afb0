"""How long the provider holds the triggerer's event loop while 200 triggers start at once.

Airflow's triggerer runs every trigger on one asyncio loop; it warns when that loop is
blocked ("async thread was blocked", from 200 ms) and its heartbeat suffers. The
provider's promise: nothing it runs there holds the loop more than 100 ms, quiet or
under load. This starts N ``StatefulSetRunningTrigger`` at once (own watches, or shared
where this Airflow shares streams) over W StatefulSets of the test cluster, which runs
in a process of its own (its CPU is not the triggerer's), and measures on the loop:

* every callback (a task's step) that ran over 50 ms: its wall time and the loop
  thread's own CPU time in it (``time.thread_time``; wall minus CPU is time the
  thread waited for the GIL or the OS, not time the provider's code ran), and what
  it was (the task's coroutine, or the callback);
* the lag of a probe that sleeps 5 ms over and over (how late it wakes).

    python benchmarks/bench_loop_lag.py [--n 200] [--workloads 50] [--replicas 3]
        [--seconds 20] [--modes own,shared] [--busy 0,2]

``--busy K`` starts K processes spinning on a core for the run (a loaded machine).
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.events
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: A step (callback) at least this long is recorded.
RECORDED = 0.05
#: The provider's promise for one step.
PROMISE = 0.1
#: The probe's sleep.
TICK = 0.005

_SERVER = textwrap.dedent(
    """
    import sys, time
    from benchmarks.bench_scale import statefulset_manifest
    from kube_test_cluster.cluster import EmulatedCluster
    workloads, replicas = int(sys.argv[1]), int(sys.argv[2])
    with EmulatedCluster() as cluster:
        for i in range(workloads):
            cluster.create("statefulsets", statefulset_manifest("default", f"w-{i:04d}", replicas))
        cluster.wait_for(
            lambda: len(cluster.store.snapshot("pods", "default")[0]) >= workloads * replicas,
            timeout=300,
        )
        print(cluster.kubeconfig_path, flush=True)
        sys.stdin.read()
    """
)


@dataclass
class Steps:
    """The loop's long steps, recorded by wrapping ``Handle._run``."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    what: Counter[str] = field(default_factory=Counter)

    def over(self, seconds: float, cpu: bool = False) -> int:
        return sum(1 for value in (self.cpu if cpu else self.wall) if value > seconds)


@contextmanager
def recorded_steps() -> Iterator[Steps]:
    steps = Steps()
    original: Callable[[Any], None] = asyncio.events.Handle._run

    def timed(handle: Any) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        original(handle)
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        if wall >= RECORDED:
            steps.wall.append(wall)
            steps.cpu.append(cpu)
            steps.what[_name(handle)] += 1

    asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]
    try:
        yield steps
    finally:
        asyncio.events.Handle._run = original  # type: ignore[method-assign,assignment]


def _name(handle: Any) -> str:
    owner = getattr(handle._callback, "__self__", None)
    coro = owner.get_coro() if isinstance(owner, asyncio.Task) else None
    if coro is not None:
        return getattr(coro, "__qualname__", repr(coro))
    return getattr(handle._callback, "__qualname__", repr(handle._callback))


async def _probe(lags: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        started = loop.time()
        await asyncio.sleep(TICK)
        lags.append(loop.time() - started - TICK)


async def _one(i: int, workloads: int, seconds: float, share: bool, manager: Any) -> str:
    from airflow_sts_provider.triggers.statefulset import StatefulSetRunningTrigger

    trigger = StatefulSetRunningTrigger(
        name=f"w-{i % workloads:04d}",
        namespace="default",
        kubernetes_conn_id="loop_lag",
        policy={"min_stable_seconds": 3600},
        timeout_seconds=seconds,
        share_watches=share,
    )
    key = trigger.shared_stream_key() if manager is not None else None
    if key is None:
        async for event in trigger.run():
            return str(event.payload["status"])
        return "none"
    stream = manager.subscribe(trigger_id=i, trigger=trigger, key=key)
    try:
        async for event in trigger.filter_shared_stream(stream):
            return str(event.payload["status"])
    finally:
        await manager.unsubscribe(i, key)
    return "none"


async def _run(n: int, workloads: int, seconds: float, share: bool) -> tuple[Steps, list[float]]:
    manager = None
    if share:
        from airflow.triggers.shared_stream import SharedStreamManager

        manager = SharedStreamManager()
    lags: list[float] = []
    stop = asyncio.Event()
    with recorded_steps() as steps:
        probe = asyncio.create_task(_probe(lags, stop))
        outcomes = await asyncio.gather(
            *(_one(i, workloads, seconds, share, manager) for i in range(n)),
            return_exceptions=True,
        )
        stop.set()
        await probe
    statuses = Counter(o if isinstance(o, str) else type(o).__name__ for o in outcomes)
    if set(statuses) != {"timeout"}:
        print(f"  unexpected outcomes: {dict(statuses)}", file=sys.stderr)
    return steps, lags


def _spin() -> None:
    while True:
        pass


@contextmanager
def busy(k: int) -> Iterator[None]:
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(k)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()


@contextmanager
def test_cluster(workloads: int, replicas: int) -> Iterator[Path]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(workloads), str(replicas)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        yield Path(server.stdout.readline().strip())
    finally:
        server.kill()
        server.wait()


def _forget_the_provider() -> None:
    """Each run imports the provider afresh, on its loop, as a new triggerer would."""
    for name in [m for m in sys.modules if m.startswith("airflow_sts_provider")]:
        del sys.modules[name]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--workloads", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--modes", default="own,shared")
    parser.add_argument("--busy", default="0,2")
    args = parser.parse_args()
    # Not the provider's trigger module: the triggerer imports it on its loop, and so
    # does the first trigger here (its cost is part of what is measured).
    from airflow.triggers.base import BaseEventTrigger

    sharing = hasattr(BaseEventTrigger, "shared_stream_key")
    modes = [m for m in args.modes.split(",") if m == "own" or sharing]
    print(f"{args.n} triggers over {args.workloads} StatefulSets of {args.replicas} pods")
    print(
        f"{'mode':7} {'busy':>4} {'steps>100ms wall/cpu':>21} {'longest wall/cpu':>17}"
        f" {'lag p99':>8} {'lag max':>8}  longest steps were"
    )
    with test_cluster(args.workloads, args.replicas) as kubeconfig:
        extra = {"kube_config_path": str(kubeconfig)}
        os.environ["AIRFLOW_CONN_LOOP_LAG"] = json.dumps(
            {"conn_type": "kubernetes", "extra": extra}
        )
        for load in (int(k) for k in args.busy.split(",")):
            for mode in modes:
                _forget_the_provider()
                with busy(load):
                    steps, lags = asyncio.run(
                        _run(args.n, args.workloads, args.seconds, mode == "shared")
                    )
                print(
                    f"{mode:7} {load:>4} {steps.over(PROMISE):>10} / {steps.over(PROMISE, True):<8}"
                    f" {max(steps.wall, default=0):>7.3f} / {max(steps.cpu, default=0):<7.3f}"
                    f" {_quantile(lags, 0.99):>8.3f} {max(lags, default=0):>8.3f}  "
                    + ", ".join(f"{name} x{count}" for name, count in steps.what.most_common(3))
                )


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("airflow_sts_provider").setLevel(logging.WARNING)
    main()
