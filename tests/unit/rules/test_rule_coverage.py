"""Which rule ids of each table no line of its table shows, so a gap is seen, not guessed.

Each rule table (docs/rules.md: S1-S12, P1-P7 with P2b/P3b/P3c, D1-D6,
DS1-DS9, G1-G8)
has its table of cases; a line covers the rules its verdict names (``rules=``) and
those it shows holding (``shows=``). The test fails for an id no line covers unless
it is listed below, with why.
"""

from __future__ import annotations

import pytest
from pytest import ParameterSet

from airflow_sts_provider.readiness import daemonset, deployment, pods, resource, statefulset

from . import (
    test_daemonset_rules,
    test_deployment_rules,
    test_pod_rules,
    test_resource_rules,
    test_statefulset_rules,
)
from .table import uncovered

# Rule ids that have no line yet, each with the reason; adding the line removes the entry.
NOT_YET_COVERED: dict[str, str] = {}

# (rule table, its ids as the design lists them, the table of cases)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], list[ParameterSet]]] = {
    "pod rules P1-P7": (
        pods.RULES,
        ("P1", "P2", "P2b", "P3", "P3b", "P3c", "P4", "P5", "P6", "P7"),
        test_pod_rules.CASES,
    ),
    "StatefulSet rules S1-S12": (
        statefulset.RULES,
        tuple(f"S{n}" for n in range(1, 13)),
        test_statefulset_rules.CASES,
    ),
    "Deployment rules D1-D6": (
        deployment.RULES,
        tuple(f"D{n}" for n in range(1, 7)),
        test_deployment_rules.CASES,
    ),
    "DaemonSet rules DS1-DS9": (
        daemonset.RULES,
        tuple(f"DS{n}" for n in range(1, 10)),
        test_daemonset_rules.CASES,
    ),
    "resource rules G1-G8": (
        resource.RULES,
        tuple(f"G{n}" for n in range(1, 9)),
        test_resource_rules.CASES,
    ),
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_rule_id_of_the_table_has_a_line(name: str) -> None:
    table, design, cases = TABLES[name]
    assert table == design, "the rule ids are the design's, in its order"
    missing = uncovered(table, cases)
    unexplained = [rule for rule in missing if rule not in NOT_YET_COVERED]
    assert unexplained == [], f"rule ids without a line: {missing}"


def test_not_yet_covered_names_only_ids_that_still_have_no_line() -> None:
    still_missing = {
        rule for table, _, cases in TABLES.values() for rule in uncovered(table, cases)
    }
    assert set(NOT_YET_COVERED) <= still_missing, "a listed id has a line now: drop it"
