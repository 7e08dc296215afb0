"""The rules against real objects captured from clusters (Argo CD's health test data).

The objects live outside the repository, in ``../shared/fixtures/argo-health``
beside the checkout (or wherever ``STS_ARGO_FIXTURES`` points); a clone without
them skips this module. Their README holds a table of Argo CD's verdict and ours;
this test reads *our* column from that very table, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_sts_provider.readiness import (
    State,
    Verdict,
    evaluate_deployment,
    evaluate_pod,
    evaluate_statefulset,
)

from .real_objects import fixtures_dir, normalise, ten_minutes_after

yaml = pytest.importorskip("yaml")


FIXTURES = fixtures_dir("STS_ARGO_FIXTURES", "argo-health")
pytestmark = pytest.mark.skipif(
    not (FIXTURES / "README.md").is_file(),
    reason=f"real-object fixtures not found at {FIXTURES} (set STS_ARGO_FIXTURES)",
)

_ROW = re.compile(r"^\|\s*(?P<file>[\w.-]+\.yaml)\s*\|[^|]*\|\s*(?P<ours>[^|]+?)\s*\|")


def expected_verdicts() -> dict[str, State]:
    """file -> our state, from the README's table (its first word: ready/waiting/failed)."""
    table: dict[str, State] = {}
    if not (FIXTURES / "README.md").is_file():
        return table
    for line in (FIXTURES / "README.md").read_text().splitlines():
        match = _ROW.match(line)
        if match:
            table[match["file"]] = State(match["ours"].split()[0])
    return table


def judge(path: Path) -> Verdict:
    obj = normalise(yaml.safe_load(path.read_text()))
    now = ten_minutes_after(obj)
    if obj["kind"] == "Pod":
        return evaluate_pod(obj, now=now)
    if obj["kind"] == "StatefulSet":
        return evaluate_statefulset(obj, [], now=now)
    return evaluate_deployment(obj, [], [], now=now)


EXPECTED = expected_verdicts()


def test_the_readme_table_covers_every_fixture() -> None:
    files = sorted(path.name for path in FIXTURES.glob("*.yaml"))
    assert files, "no fixtures found"
    assert sorted(EXPECTED) == files


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, id=f"{name} is judged {EXPECTED[name].value}") for name in EXPECTED],
)
def test_our_verdict_on_real_objects_matches_the_readme(name: str) -> None:
    state = EXPECTED[name]
    verdict = judge(FIXTURES / name)
    assert verdict.state is state, verdict.reason
    json_safe = verdict.to_dict()
    assert json_safe["state"] == state.value


_WHY = {
    "deployment-degraded.yaml": "ProgressDeadlineExceeded",
    "deployment-suspended.yaml": "rollout paused",
    "statefulset.yaml": "redis-master-0: not created yet",
    "statefulset-ondelete.yaml": "redis-master-0: not created yet",
    "pod-crashloop.yaml": "my-pod container main: CrashLoopBackOff, last exit 1 (Error)",
    "pod-imagepullbackoff.yaml": "ImagePullBackOff",
    "pod-error.yaml": "my-pod container main: Error, exit 1",
    "pod-running-restart-onfailure.yaml": "CrashLoopBackOff",
    "pod-failed.yaml": "my-pod: pod Failed: container main Error, exit 1",
    "pod-succeeded.yaml": "pod Succeeded",
    "pod-deletion.yaml": "terminating",
    "pod-running-restart-always.yaml": "my-pod: ready for 600s",
}


@pytest.mark.parametrize("name", sorted(_WHY))
def test_the_reason_on_real_objects_says_why(name: str) -> None:
    if not (FIXTURES / name).is_file():
        pytest.skip(f"{name} not among the fixtures")
    assert _WHY[name] in judge(FIXTURES / name).reason
