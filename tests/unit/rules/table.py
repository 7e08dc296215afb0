"""The rule tables' one shape: a scenario per line, the verdict it expects, the rule ids.

A table is a list of :func:`case` lines, each a sentence (the test id), what is
given to the rules (a pod; a StatefulSet and pods; a Deployment, ReplicaSets and
pods), and what the verdict must say: its state, exactly the ids of the rules that
did not hold (``rules``), and words of the reason only where the wording is the
point. :func:`check` asserts all of it; :func:`uncovered` tells which rule ids of a
table no line shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pytest
from pytest import ParameterSet

from airflow_sts_provider.readiness import ReadinessPolicy, State, Verdict

Given = TypeVar("Given")


@dataclass(frozen=True)
class Scenario(Generic[Given]):
    """One line of a rule table."""

    given: Given
    state: State
    rules: tuple[str, ...]  # exactly Verdict.rules
    words: tuple[str, ...]  # in the reason
    absent: tuple[str, ...]  # not in the reason
    ready: int | None  # Verdict.ready, where the line says
    policy: ReadinessPolicy
    shows: tuple[str, ...]  # rules the line shows holding (S11: scaled to zero is ready)

    @property
    def covers(self) -> frozenset[str]:
        return frozenset((*self.rules, *self.shows))


def case(
    sentence: str,
    given: Given,
    state: State,
    *words: str,
    rules: tuple[str, ...],
    absent: tuple[str, ...] = (),
    ready: int | None = None,
    policy: ReadinessPolicy | None = None,
    shows: tuple[str, ...] = (),
) -> ParameterSet:
    """A table line; ``rules`` is required, so every line says which rules did not hold."""
    scenario = Scenario(
        given, state, rules, words, absent, ready, policy or ReadinessPolicy(), shows
    )
    return pytest.param(scenario, id=sentence)


def check(verdict: Verdict, scenario: Scenario[Any]) -> None:
    """The verdict says what the line expects, and every pod report is well formed."""
    assert verdict.state is scenario.state, verdict.reason
    assert verdict.rules == scenario.rules, verdict.reason
    for word in scenario.words:
        assert word in verdict.reason
    for word in scenario.absent:
        assert word not in verdict.reason
    if scenario.ready is not None:
        assert verdict.ready == scenario.ready
    for report in verdict.pods:
        assert report.reason.startswith(report.name)
        assert (report.rule is None) == (report.state is State.READY), report
        assert report.rule is None or report.rule in verdict.rules, report


def scenarios(cases: Iterable[ParameterSet]) -> list[Scenario[Any]]:
    """The scenarios of a table's lines."""
    found: list[Scenario[Any]] = []
    for line in cases:
        (scenario,) = line.values
        assert isinstance(scenario, Scenario)
        found.append(scenario)
    return found


def uncovered(table: Sequence[str], cases: Iterable[ParameterSet]) -> list[str]:
    """The ids of ``table`` (in table order) that no line of ``cases`` covers."""
    covered = frozenset().union(*(scenario.covers for scenario in scenarios(cases)))
    return [rule for rule in table if rule not in covered]
