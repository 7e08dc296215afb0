"""Cost of one poke against its floor: the same HTTP reads, bytes only, and model objects.

One StatefulSet ``big`` of N ready pods on the test cluster, served over real HTTPS
by a separate process (``python -m kube_test_cluster serve``), as a real
API server is: the client and the server do not share a GIL. In one client process,
taking turns run by run, best of ``--repeat``:

* ``bytes``: the poke's own requests (GET the StatefulSet, LIST its pods in pages of
  500 following the ``continue`` tokens) through the hook's transport, the bodies
  read and dropped: no decoding, no rules. The floor.
* ``hook``: ``WorkloadHook.get_workload_readiness``: the slim msgspec decode, the
  next page requested while this one is decoded and judged, only the pods'
  reports kept.
* ``hook, whole list``: before page-by-page judging: the same reads and decoding,
  every pod held until the last page, then judged.
* ``hook, json``: before slim decoding too (every body through ``json.loads``, no
  page requested ahead, the whole list held), for before/after.
* ``models``: the same reads through the ``kubernetes`` client's model objects
  (``read_namespaced_stateful_set`` + paged ``list_namespaced_pod``), not even judged.

Memory: the peak growth of Python allocations (``tracemalloc``) during one poke at
``--memory-pods``, per path, in this (client) process only.

    python benchmarks/bench_poke.py            # quick: 1,000 pods, memory at 2,000
    python benchmarks/bench_poke.py --full     # the targets: 1,000 and 5,000, memory at 20,000
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kubernetes import client, config

from airflow_sts_provider.hooks import decode, workload
from airflow_sts_provider.hooks.clock import ServerClock
from airflow_sts_provider.hooks.decode import peek_continue
from airflow_sts_provider.hooks.paging import PAGE_LIMIT
from airflow_sts_provider.hooks.reads import poke_plan, run_plan
from airflow_sts_provider.hooks.wire import Request
from airflow_sts_provider.hooks.workload import WorkloadHook
from airflow_sts_provider.kinds import kind_of
from airflow_sts_provider.readiness import ReadinessPolicy, State

NAME, NAMESPACE, SELECTOR = "big", "default", "app=big"
POLICY = ReadinessPolicy(min_stable_seconds=1)
CONN = "AIRFLOW_CONN_KUBERNETES_DEFAULT"


@contextlib.contextmanager
def served(pods: int) -> Iterator[Path]:
    """A test cluster in its own process with ``big`` at ``pods`` replicas, all Ready."""
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        command = [
            sys.executable,
            "-m",
            "kube_test_cluster",
            "serve",
            "--scenario",
            NAME,
            "--replicas",
            str(pods),
            "--speed",
            "2",  # continue tokens live 300 emulated s: 150 real s, for the slow model path
            "--kubeconfig-out",
            str(kubeconfig),
        ]
        server = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            assert server.stdout is not None
            for line in server.stdout:
                if line.startswith("Serving"):
                    break
            else:
                raise RuntimeError("the test cluster did not start")
            _drain(server)
            yield kubeconfig
        finally:
            server.terminate()
            server.wait(timeout=30)


def _drain(server: subprocess.Popen[str]) -> None:
    """Keep reading the server's progress lines so its pipe never fills."""
    import threading

    def read() -> None:
        assert server.stdout is not None
        for _ in server.stdout:
            pass

    threading.Thread(target=read, daemon=True).start()


def hook_for(kubeconfig: Path) -> WorkloadHook:
    extra = {"kube_config_path": str(kubeconfig)}
    os.environ[CONN] = json.dumps({"conn_type": "kubernetes", "extra": extra})
    return WorkloadHook()


def wait_ready(hook: WorkloadHook, pods: int, timeout: float = 600) -> float:
    """The real seconds the cluster took to get every pod Ready, then one poke to confirm.

    It asks the StatefulSet's own ``readyReplicas`` (one small GET a second): a full
    poke of 20,000 pods every second would keep the server busy and slow the
    bring-up it measures.
    """
    started = time.monotonic()
    request = Request("get", "statefulsets", NAMESPACE, NAME, "apps", "v1")
    while time.monotonic() - started < timeout:
        try:
            status = json.loads(hook._get_once(request, {}, ServerClock())).get("status") or {}
        except Exception:  # not created yet
            status = {}
        if status.get("readyReplicas") == pods:
            took = time.monotonic() - started
            verdict = hook.get_workload_readiness("StatefulSet", NAME, NAMESPACE, policy=POLICY)
            if verdict.state is State.READY and verdict.ready == pods:
                return took
        time.sleep(1)
    raise TimeoutError(f"{NAME} did not get {pods} pods Ready in {timeout}s")


# --------------------------------------------------------------------------- the paths


def bytes_only(hook: WorkloadHook) -> int:
    """The poke's requests through the hook's transport; bodies read, never decoded."""
    clock = ServerClock()
    size = len(hook._get_once(Request("get", "statefulsets", NAMESPACE, NAME), {}, clock))
    request = Request("list", "pods", NAMESPACE)
    params: dict[str, Any] = {"labelSelector": SELECTOR, "limit": PAGE_LIMIT}
    while True:
        data = hook._get_once(request, params, clock)
        size += len(data)
        token = peek_continue(data)
        if token is None:
            return size
        params = {**params, "continue": token}


def poke(hook: WorkloadHook) -> int:
    verdict = hook.get_workload_readiness("StatefulSet", NAME, NAMESPACE, policy=POLICY)
    assert verdict.state is State.READY, verdict.reason
    return verdict.ready


@contextlib.contextmanager
def as_before() -> Iterator[None]:
    """The hook as it was: every body through ``json.loads``, no page requested ahead."""
    decoders, peek = decode._DECODERS, vars(workload)["peek_continue"]
    decode._DECODERS = {}
    setattr(workload, "peek_continue", lambda data: None)  # noqa: B010 - not exported
    try:
        yield
    finally:
        decode._DECODERS = decoders
        setattr(workload, "peek_continue", peek)  # noqa: B010


def whole_list(hook: WorkloadHook) -> int:
    """The poke as it was before page-by-page judging: every pod held, then judged."""
    clock = ServerClock()
    picture = run_plan(
        poke_plan(kind_of("StatefulSet"), NAME, NAMESPACE), lambda s: hook._answer(s, clock)
    )
    verdict = picture.judge(clock.now(), POLICY)
    assert verdict.state is State.READY, verdict.reason
    return verdict.ready


def whole_list_json(hook: WorkloadHook) -> int:
    with as_before():
        return whole_list(hook)


def models(api: client.ApiClient) -> int:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.read_namespaced_stateful_set(NAME, NAMESPACE)
    pods: list[Any] = []  # held, as a poke that judges them must
    token = None
    while True:
        page = core.list_namespaced_pod(
            NAMESPACE, label_selector=SELECTOR, limit=PAGE_LIMIT, _continue=token
        )
        pods += page.items
        token = page.metadata._continue
        if not token:
            return len(pods)


# --------------------------------------------------------------------------- measuring


def timed(
    paths: dict[str, Callable[[], Any]], repeat: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Best wall seconds and best client CPU seconds of each path, taking turns run by run.

    CPU is this process's (all its threads), so the server's work is not in it.
    """
    best = dict.fromkeys(paths, float("inf"))
    cpu = dict.fromkeys(paths, float("inf"))
    for run in paths.values():
        run()  # warm: imports, connection pool, caches
    for _ in range(repeat):
        for name, run in paths.items():
            gc.collect()
            started, started_cpu = time.perf_counter(), time.process_time()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
            cpu[name] = min(cpu[name], time.process_time() - started_cpu)
    return best, cpu


def peak_growth(run: Callable[[], Any]) -> int:
    """Peak bytes allocated above the starting point while ``run`` runs (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def paths_for(kubeconfig: Path) -> dict[str, Callable[[], Any]]:
    hook = hook_for(kubeconfig)
    api = config.new_client_from_config(str(kubeconfig))
    return {
        "bytes": lambda: bytes_only(hook),
        "hook": lambda: poke(hook),
        "hook, whole list": lambda: whole_list(hook),
        "hook, json": lambda: whole_list_json(hook),
        "models": lambda: models(api),
    }


def time_at(pods: int, repeat: int) -> tuple[dict[str, float], dict[str, float]]:
    with served(pods) as kubeconfig:
        took = wait_ready(hook_for(kubeconfig), pods)
        print(f"\n{pods:,} pods Ready on the test cluster in {took:.1f} s (real)")
        paths = paths_for(kubeconfig)
        size = paths["bytes"]()
        best, cpu = timed(paths, repeat)
    print(f"{size / 1e6:.1f} MB per poke, {1 + -(-pods // PAGE_LIMIT)} requests")
    print(
        f"{'path':<17}{'wall s':>8}{'/ bytes':>9}{'models /':>10}"
        f"{'client CPU s':>14}{'/ bytes':>9}{'models /':>10}"
    )
    for name, seconds in best.items():
        print(
            f"{name:<17}{seconds:>8.3f}{seconds / best['bytes']:>8.2f}x"
            f"{best['models'] / seconds:>9.1f}x{cpu[name]:>14.3f}"
            f"{cpu[name] / cpu['bytes']:>8.2f}x{cpu['models'] / cpu[name]:>9.1f}x"
        )
    return best, cpu


def memory_at(pods: int) -> dict[str, int]:
    with served(pods) as kubeconfig:
        took = wait_ready(hook_for(kubeconfig), pods)
        print(f"\n{pods:,} pods Ready on the test cluster in {took:.1f} s (real)")
        paths = paths_for(kubeconfig)
        for run in paths.values():
            run()
        grown = {name: peak_growth(run) for name, run in paths.items()}
    print("peak Python allocation growth during one poke (tracemalloc, client process)")
    for name, size in grown.items():
        print(f"{name:<17}{size / 1e6:>9.1f} MB{grown['models'] / max(size, 1):>8.1f}x less")
    return grown


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--full", action="store_true", help="1,000 and 5,000 pods, memory at 20,000"
    )
    parser.add_argument("--pods", type=int, nargs="*", help="pod counts to time")
    parser.add_argument("--memory-pods", type=int, help="pod count of the memory run (0: none)")
    parser.add_argument("--repeat", type=int, help="runs per path (best is kept)")
    args = parser.parse_args()
    sizes = args.pods or ([1000, 5000] if args.full else [1000])
    memory = args.memory_pods if args.memory_pods is not None else (20000 if args.full else 2000)
    repeat = args.repeat or (7 if args.full else 3)
    timings = {pods: time_at(pods, repeat) for pods in sizes}
    if len(sizes) > 1:
        low, high = min(sizes), max(sizes)
        for label, index in (("wall", 0), ("client CPU", 1)):
            per = {n: timings[n][index]["hook"] / n for n in (low, high)}
            print(
                f"\nhook {label} per pod: {per[low] * 1e6:.1f} us at {low:,}, "
                f"{per[high] * 1e6:.1f} us at {high:,} (x{per[high] / per[low]:.2f}: 1.0 is linear)"
            )
    if memory:
        memory_at(memory)


if __name__ == "__main__":
    main()
