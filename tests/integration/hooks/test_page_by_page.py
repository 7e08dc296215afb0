"""A poke judges the pods page by page through the real hook, and gets the whole list's verdict.

Over real HTTPS against the test cluster (a manual clock holds it still between
pokes), every scenario is poked at several moments three ways: with the default
page size, with a page per pod (each judged as it arrives, the next one fetched
meanwhile), and the way pokes were judged before (every pod held until the last
page, then judged): the verdicts must be equal to the letter. The poke keeps no
pod, only their reports and uids; a LIST restarted after its continue token
expired judges each pod once.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sts_provider.exceptions import ContinueExpiredError
from airflow_sts_provider.hooks.clock import ServerClock
from airflow_sts_provider.hooks.reads import Read, events_plan, poke_plan, run_plan
from airflow_sts_provider.hooks.workload import WorkloadHook
from airflow_sts_provider.kinds import Kind
from airflow_sts_provider.readiness import ReadinessPolicy
from kube_test_cluster.cluster import EmulatedCluster

from .test_decode_scenarios import MOMENTS, SCENARIOS, connect, workloads

POLICY = ReadinessPolicy(min_stable_seconds=5)


def whole_list(hook: WorkloadHook, kind: Kind, name: str, namespace: str) -> dict[str, Any]:
    """The verdict as pokes gave it before: every pod read, held, then judged at once."""
    clock = ServerClock()

    def answer(step: Read) -> Any:
        return hook._answer(step, clock)

    picture = run_plan(poke_plan(kind, name, namespace), answer)
    verdict = picture.judge(hook._now(clock), POLICY)
    return run_plan(events_plan(verdict, picture, hook._warn_once), answer).to_dict()


@pytest.mark.parametrize(
    "scenario",
    [pytest.param(name, id=f"{name} is judged page by page as a whole") for name in SCENARIOS],
)
def test_every_scenario_is_judged_page_by_page_as_the_whole_list(
    scenario: str, frozen: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace = "ns-" + scenario
    frozen.apply_scenario(scenario, namespace=namespace, replicas=3)
    hook, by_one = connect(monkeypatch, frozen), connect(monkeypatch, frozen, page_limit=1)
    rows = workloads(hook, scenario, namespace)
    assert rows, f"scenario {scenario} creates no workload this test knows"
    at, compared = 0.0, 0
    for moment in MOMENTS:
        frozen.advance(moment - at)
        at = moment
        for kind, name in rows:
            paged = hook.get_workload_readiness(kind, name, namespace, policy=POLICY).to_dict()
            one = by_one.get_workload_readiness(kind, name, namespace, policy=POLICY).to_dict()
            assert paged == one == whole_list(hook, kind, name, namespace), f"{name} at {moment}s"
            compared += 1
    assert compared >= len(MOMENTS)


def test_a_poke_keeps_the_pods_reports_not_the_pods(
    frozen: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen.apply_scenario("rolling-update", replicas=5)
    frozen.advance(30)
    hook = connect(monkeypatch, frozen, page_limit=2)
    clock = ServerClock()
    row = workloads(hook, "rolling-update", "default")[0][0]
    plan = poke_plan(row, "rolling-update", "default", POLICY)
    picture = run_plan(plan, lambda step: hook._answer(step, clock))
    assert "pods" not in picture.related
    assert picture.pods is not None
    names = {pod["metadata"]["name"] for pod in frozen.store.list("pods", "default")}
    assert set(picture.pods.uids) == names
    assert hook.last_stats.pages["pods"] == 3 and hook.last_stats.items["pods"] == len(names)
    assert len(picture.judge(hook._now(clock), POLICY).pods) == 5


class ExpiresOnce(WorkloadHook):
    """The continue token expires once, after the second page: the LIST starts again."""

    cluster: EmulatedCluster
    pages = 0

    def _get_once(self, request: Any, params: Any, clock: Any) -> Any:
        if "continue" in params and request.resource == "pods":
            self.pages += 1
            if self.pages == 2:
                self.cluster.faults.set(expire_continue=True)
        try:
            return super()._get_once(request, params, clock)
        except ContinueExpiredError:
            self.cluster.faults.set(expire_continue=False)
            raise


@pytest.mark.parametrize(
    ("scenario", "kind", "name"),
    [
        ("rolling-update", "StatefulSet", "rolling-update"),
        ("crashloop-deployment", "Deployment", "crashloop-deployment"),
        ("daemonset-rollout", "DaemonSet", "daemonset-rollout"),
    ],
    ids=[
        "a StatefulSet list restarted judges each pod once",
        "a Deployment list restarted judges each pod once",
        "a DaemonSet list restarted judges each pod once",
    ],
)
def test_a_list_restarted_after_its_token_expired_judges_each_pod_once(
    scenario: str, kind: str, name: str, frozen: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen.apply_scenario(scenario, replicas=5)
    frozen.advance(30)
    expected = connect(monkeypatch, frozen).get_workload_readiness(kind, name, policy=POLICY)
    hook = ExpiresOnce(page_limit=1)
    hook.cluster = frozen
    try:
        verdict = hook.get_workload_readiness(kind, name, policy=POLICY)
    finally:
        frozen.faults.clear()
    assert hook.pages >= 2, "the list never reached its third page"
    assert verdict.to_dict() == expected.to_dict()
    assert len({pod.name for pod in verdict.pods}) == len(verdict.pods)
