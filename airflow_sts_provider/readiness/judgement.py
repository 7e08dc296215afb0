"""A workload judged while its pods arrive, page by page: what every kind's judgement shares.

A poke of a large workload lists its pods in pages of 500. Holding every pod
until the last page is in costs memory in proportion to the workload (a pod is
~6 KB of Python objects) and keeps the rules from overlapping the transfer. So
each kind's rules come in two steps: the pod rules (P1-P7) judge each page as it
arrives, keeping only a pod's report, and the workload rules run once at the end
over those reports. ``evaluate_*`` are the same two steps over one list, so a
page-by-page verdict is by construction the verdict of the whole list.

A page is judged at the ``now`` it was read at (the API server's clock when its
response came), which is also closest to when its pods looked so: a window timed
earlier is never longer than one timed at the end, so judging early can only make
a verdict wait, never pass sooner (and a restart whose window ends during the
poke's own reads still counts, as it did when the page was read).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from . import shapes
from .checks import Obj, check_inputs
from .policy import ReadinessPolicy, check_policy
from .verdict import Finding, Verdict


class Judgement(ABC):
    """One workload's verdict in the making: :meth:`add_pods` per page, then :meth:`verdict`.

    Made by ``start_statefulset`` / ``start_deployment`` / ``start_daemonset`` /
    ``start_resource`` with the workload (and, for a Deployment or a DaemonSet,
    its ReplicaSets or ControllerRevisions, read before its pods).
    """

    #: The rule that tells a ``pods`` entry that is not an object (S9, D6, DS7, G8).
    pods_rule: ClassVar[str]

    def __init__(self, policy: ReadinessPolicy, wrong: Sequence[Finding]) -> None:
        check_policy(policy)
        self.policy = policy
        #: What is wrong with the workload's own shape: its rules do not run then.
        self.wrong = list(wrong)
        self._pods = shapes.Entries("pods")

    def add_pods(self, pods: Any, now: datetime) -> None:
        """Judge one page of pods (anything the selector matched) at ``now``."""
        now = check_inputs(now, self.policy)
        kept = self._pods.take(pods)
        if not self.wrong and kept:
            self._add(kept, now)

    def clear_pods(self) -> None:
        """Forget every pod judged so far: the LIST is read again from its first page."""
        self._pods.clear()
        self._clear()

    def verdict(self, now: datetime) -> Verdict:
        """The workload rules over the pods' reports, at ``now`` (the last read's time)."""
        now = check_inputs(now, self.policy)
        bad_pods = self._pods.findings(self.pods_rule)
        if self.wrong:
            return self._malformed(bad_pods)
        return self._verdict(now, bad_pods)

    @abstractmethod
    def _add(self, pods: list[Obj], now: datetime) -> None:
        """Judge the pods of one page that are objects."""

    @abstractmethod
    def _clear(self) -> None:
        """Drop what :meth:`_add` kept."""

    @abstractmethod
    def _verdict(self, now: datetime, bad_pods: list[Finding]) -> Verdict:
        """The kind's rules, the shape of the workload known good."""

    @abstractmethod
    def _malformed(self, bad_pods: list[Finding]) -> Verdict:
        """The verdict on a workload of a shape its rules cannot read (:attr:`wrong`)."""
