"""The shared store's routing: a change reaches the workloads it concerns, and only those."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sts_provider.hooks.follow import Changed, Listed, Stale
from airflow_sts_provider.hooks.labels import Selector
from airflow_sts_provider.hooks.reads import WORKLOAD, Listing
from airflow_sts_provider.hooks.shared import Store, _Item
from airflow_sts_provider.kinds import KINDS


def sts(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"selector": {"matchLabels": {"app": name}}}}


def pod(name: str, app: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"app": app, **labels}}}


def synced_store(workloads: int = 3, pods: int = 2) -> Store:
    """A StatefulSet store of ``web0..`` with ``pods`` pods each, every workload waited on."""
    store = Store("key", KINDS["StatefulSet"], "default")
    names = [f"web{i}" for i in range(workloads)]
    for name in names:
        store.interest(name)
    store.apply(
        [
            _Item("statefulsets", Listed(Listing([sts(n) for n in names], "1"))),
            _Item(
                "pods",
                Listed(Listing([pod(f"{n}-{i}", n) for n in names for i in range(pods)], "1")),
            ),
        ]
    )
    return store


@pytest.mark.parametrize(
    ("change", "routed"),
    [
        (_Item("pods", Changed("MODIFIED", pod("web1-0", "web1"))), {"web1": {("pods", "web1-0")}}),
        (_Item("pods", Changed("ADDED", pod("stray", "other"))), {}),
        (_Item("statefulsets", Changed("MODIFIED", sts("web2"))), {"web2": {(WORKLOAD, "web2")}}),
        (_Item("statefulsets", Changed("ADDED", sts("unwatched"))), {}),
        (_Item("pods", Changed("DELETED", pod("web0-1", "web0"))), {"web0": {("pods", "web0-1")}}),
    ],
    ids=[
        "a pod's change reaches the workload whose selector picks it",
        "a pod no waiting workload selects reaches nobody",
        "a workload's change reaches its own subscribers",
        "a workload nobody waits on reaches nobody",
        "a deleted pod reaches the workload it belonged to",
    ],
)
def test_a_change_is_routed_to_the_workloads_it_concerns(
    change: _Item, routed: dict[str, set[tuple[str, str]]]
) -> None:
    batch = synced_store().apply([change])
    assert batch.routed == routed
    assert not batch.resync_all


def test_a_pod_relabelled_away_reaches_its_old_and_new_workloads() -> None:
    store = synced_store()
    batch = store.apply([_Item("pods", Changed("MODIFIED", pod("web0-0", "web1")))])
    assert batch.routed == {"web0": {("pods", "web0-0")}, "web1": {("pods", "web0-0")}}
    assert set(store.related(KINDS["StatefulSet"].related[0], Selector("app=web1"))) == {
        "web1-0",
        "web1-1",
        "web0-0",
    }


def test_a_change_costs_its_workload_not_every_waiting_one() -> None:
    """1,000 waiting workloads: one pod's change is matched against one selector, not 1,000."""
    store = synced_store(workloads=1000, pods=1)
    calls = 0
    original = Selector.matches

    def counting(self: Selector, obj: Any) -> bool:
        nonlocal calls
        calls += 1
        return original(self, obj)

    Selector.matches = counting  # type: ignore[method-assign]
    try:
        batch = store.apply([_Item("pods", Changed("MODIFIED", pod("web7-0", "web7")))])
    finally:
        Selector.matches = original  # type: ignore[method-assign]
    assert batch.routed == {"web7": {("pods", "web7-0")}}
    assert calls <= 2


@pytest.mark.parametrize(
    ("item", "flag"),
    [
        (_Item("pods", Stale(True)), "stale_changed"),
        (_Item("pods", Listed(Listing([], "9"))), "resync_all"),
        (_Item("pods", PermissionError("forbidden")), "error"),
    ],
    ids=[
        "a reconnecting watch marks the picture stale for everyone",
        "a relist makes every subscriber rebuild from the store",
        "a permanent error reaches every subscriber",
    ],
)
def test_what_every_subscriber_hears(item: Any, flag: str) -> None:
    batch = synced_store().apply([item])
    assert getattr(batch, flag)


def test_a_workload_that_appears_gets_its_selector_and_a_resync() -> None:
    store = Store("key", KINDS["StatefulSet"], "default")
    store.interest("late")
    store.apply(
        [_Item("statefulsets", Listed(Listing([], "1"))), _Item("pods", Listed(Listing([], "1")))]
    )
    assert store.synced.is_set()
    assert store.selector("late") is None
    batch = store.apply([_Item("statefulsets", Changed("ADDED", sts("late")))])
    assert batch.resync == {"late"}
    assert store.selector("late") == Selector("app=late")


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ("", {}, True),
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=db", {}, True),
        ("tier in (a,b)", {"tier": "b"}, True),
        ("tier notin (a,b)", {"tier": "a"}, False),
        ("gpu", {"gpu": "1"}, True),
        ("!legacy", {"legacy": "x"}, False),
        ("app=web,tier in (b)", {"app": "web", "tier": "a"}, False),
    ],
    ids=[
        "the empty selector picks everything, as an unfiltered LIST",
        "an equality holds",
        "a double-equals equality fails on another value",
        "an inequality holds for a missing label",
        "a set holds",
        "a notin fails for a listed value",
        "an existence holds",
        "a non-existence fails when the label is there",
        "every requirement must hold",
    ],
)
def test_selectors_match_as_the_api_server_does(
    selector: str, labels: dict[str, str], matches: bool
) -> None:
    assert Selector(selector).matches({"metadata": {"labels": labels}}) is matches
