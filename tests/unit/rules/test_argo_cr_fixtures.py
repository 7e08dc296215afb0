"""The G rules against real operator objects (Argo CD's health test data: Strimzi, CloudNativePG).

The objects live outside the repository, in ``../shared/fixtures/argo-health-crs``
beside the checkout (or wherever ``STS_ARGO_CR_FIXTURES`` points); a clone without
them skips this module. Their README holds a table of Argo CD's verdict and what
the G rules say; this test reads *our* column (its first word, and any G rule ids
it names) from that very table, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from airflow_sts_provider.readiness import State, Verdict, evaluate_resource

from .real_objects import fixtures_dir, normalise, ten_minutes_after

yaml = pytest.importorskip("yaml")


FIXTURES = fixtures_dir("STS_ARGO_CR_FIXTURES", "argo-health-crs")
pytestmark = pytest.mark.skipif(
    not (FIXTURES / "README.md").is_file(),
    reason=f"operator fixtures not found at {FIXTURES} (set STS_ARGO_CR_FIXTURES)",
)

_ROW = re.compile(
    r"^\|\s*(?P<file>[\w.-]+\.yaml)\s*\|\s*(?P<argo>[^|]+?)\s*\|\s*(?P<ours>[^|]+?)\s*\|"
)
# Strimzi writes "2021-02-22T16:05:47+0000"; the API server "2021-02-22T16:05:47Z".
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)")


def expected_verdicts() -> dict[str, tuple[State, tuple[str, ...], str]]:
    """file -> (our state, the G rule ids our column names, Argo CD's verdict)."""
    table: dict[str, tuple[State, tuple[str, ...], str]] = {}
    if not (FIXTURES / "README.md").is_file():
        return table
    for line in (FIXTURES / "README.md").read_text().splitlines():
        match = _ROW.match(line)
        if match:
            ours = match["ours"]
            rules = tuple(re.findall(r"\bG\d\b", ours.split(" unless ")[0]))
            table[match["file"]] = (State(ours.split()[0]), rules, match["argo"])
    return table


def load(name: str) -> tuple[dict[str, Any], datetime]:
    """The object, and ``now`` as the README says: its latest timestamp plus 10 minutes."""
    obj = normalise(yaml.safe_load((FIXTURES / name).read_text()))
    return obj, ten_minutes_after(obj, _STAMP)


def judge(name: str, **options: Any) -> Verdict:
    obj, now = load(name)
    return evaluate_resource(obj, now=now, **options)


EXPECTED = expected_verdicts()


def test_the_readme_table_covers_every_fixture() -> None:
    files = sorted(path.name for path in FIXTURES.glob("*.yaml"))
    assert files, "no fixtures found"
    assert sorted(EXPECTED) == files


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, id=f"{name} is judged {state.value} (Argo CD: {argo})")
        for name, (state, _, argo) in EXPECTED.items()
    ],
)
def test_our_verdict_on_real_operator_objects_matches_the_readme(name: str) -> None:
    state, rules, _ = EXPECTED[name]
    verdict = judge(name)
    assert verdict.state is state, verdict.reason
    assert set(rules) <= set(verdict.rules), verdict.rules
    assert verdict.to_dict()["state"] == state.value
    assert (verdict.desired, verdict.ready) == (0, 0)


_WHY = {
    "kafka-healthy.yaml": "Kafka my-cluster: Ready=True for 600s",
    "kafka-degraded.yaml": (
        "Kafka my-cluster reports no Ready condition yet (NotReady=True, TimeoutException: "
        "Exceeded timeout of 300000ms while waiting for StatefulSet resource "
        "my-cluster-zookeeper in namespace default to be ready)"
    ),
    "kafka-progressing-no-status.yaml": "Kafka my-cluster reports no Ready condition yet",
    "kafka-terminating.yaml": "Kafka terminating-resource is being deleted",
    "cnpg-cluster-healthy.yaml": "Cluster cluster-example: Ready=True for 600s",
    "cnpg-cluster-degraded.yaml": "Ready=False, ClusterIsNotReady: Cluster Is Not Ready",
}


@pytest.mark.parametrize("name", sorted(_WHY))
def test_the_reason_on_real_operator_objects_says_why(name: str) -> None:
    if name not in EXPECTED:
        pytest.skip(f"{name} is not among the fixtures")
    assert _WHY[name] in judge(name).reason


def test_a_failover_fails_once_its_reason_is_named_a_failure() -> None:
    name = "cnpg-cluster-degraded.yaml"
    if name not in EXPECTED:
        pytest.skip(f"{name} is not among the fixtures")
    verdict = judge(name, failure_reasons=("ClusterIsNotReady",))
    assert verdict.state is State.FAILED
    assert verdict.rules == ("G6",)


def test_strimzi_timestamps_without_a_colon_in_the_offset_are_read() -> None:
    name = "kafka-healthy.yaml"
    if name not in EXPECTED:
        pytest.skip(f"{name} is not among the fixtures")
    obj, now = load(name)
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert ready["lastTransitionTime"].endswith("+0000")
    assert evaluate_resource(obj, now=now - timedelta(minutes=9, seconds=30)).rules == ("G7",)
