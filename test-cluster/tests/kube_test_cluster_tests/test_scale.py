"""Bring-up cost: the cluster's work per pod must not grow with the number of pods.

These checks count what grew with the pods before (deep copies, sorts); that the
whole bring-up stays linear is timed in ``benchmarks/bench_bringup.py``: a ratio of
timings, wall or CPU, moved past its bound on a loaded machine (the control plane's
threads do more passes when the wall clock stretches), so it is no test.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from kube_test_cluster.cluster import EmulatedCluster


def bring_up(replicas: int) -> float:
    """Seconds to create ``big`` with ``replicas`` pods and run them all to Ready."""
    with EmulatedCluster(manual_clock=True, tls=False) as cluster:
        started = time.perf_counter()
        cluster.apply_scenario("big", replicas=replicas)
        cluster.advance(5)
        elapsed = time.perf_counter() - started
        sts = cluster.get("statefulsets", "big")
        assert sts is not None
        assert sts["status"].get("readyReplicas") == replicas
        return elapsed


def test_bringing_up_pods_makes_no_deep_copies_per_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's writes copy only what they change (before: ~39 copy.deepcopy per pod)."""
    calls = 0
    deepcopy = copy.deepcopy

    def counting(value: Any, memo: Any = None) -> Any:
        nonlocal calls
        if memo is None:
            calls += 1
        return deepcopy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", counting)
    bring_up(200)
    assert calls < 20, f"{calls} deep copies for 200 pods"


def test_a_paged_list_sorts_the_pods_once_not_once_per_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before, every page sorted every stored object: 40 pages of 20,000 pods took 25.6 s."""
    import builtins
    import json

    import kubernetes

    from kube_test_cluster.registry import store as store_module

    pods, limit = 2000, 100
    with EmulatedCluster(manual_clock=True, tls=False) as cluster:
        cluster.apply_scenario("big", replicas=pods)
        cluster.advance(5)
        sorted_items = 0

        def counting(items: Any, **kwargs: Any) -> Any:
            nonlocal sorted_items
            result = builtins.sorted(items, **kwargs)
            sorted_items += len(result)
            return result

        monkeypatch.setattr(store_module, "sorted", counting, raising=False)
        api = kubernetes.config.new_client_from_config(str(cluster.kubeconfig_path))
        names: list[str] = []
        params: list[tuple[str, Any]] = [("limit", limit), ("labelSelector", "app=big")]
        token = None
        while True:
            query = params + ([("continue", token)] if token else [])
            body = json.loads(
                api.call_api(
                    "/api/v1/namespaces/default/pods",
                    "GET",
                    query_params=query,
                    _preload_content=False,
                    auth_settings=["BearerToken"],
                ).data
            )
            names += [item["metadata"]["name"] for item in body["items"]]
            token = body["metadata"].get("continue")
            if not token:
                break
    assert len(names) == pods and len(set(names)) == pods
    assert names == builtins.sorted(names)  # etcd's key order, page after page
    assert sorted_items <= 2 * pods, f"{sorted_items} objects sorted for {pods // limit} pages"


def test_statuses_handed_over_to_the_store_are_never_changed_afterwards() -> None:
    """The kubelet and the scheduler hand their fresh bodies to the store uncopied: every
    stored version of a pod (watch history) must stay as it was written, while the sims
    that built them go on (a crash loop: restarts, back-off, last terminations)."""
    from kube_test_cluster.registry.store import Change

    written: list[tuple[Change, Any]] = []
    with EmulatedCluster(manual_clock=True, tls=False) as cluster:

        def keep(change: Change) -> None:
            if change.resource == "pods":
                written.append((change, copy.deepcopy(change.obj)))

        cluster.store.add_listener(keep)
        cluster.apply_scenario("crashloop")
        cluster.advance(120)
    assert len(written) > 10
    for change, as_written in written:
        assert change.obj == as_written, change.obj["metadata"]["name"]
