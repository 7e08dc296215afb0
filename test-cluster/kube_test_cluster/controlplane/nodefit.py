"""Which node a pod may run on: ``nodeSelector``, required node affinity and taints.

The filters the default scheduler and the DaemonSet controller share
(``NodeAffinity``, ``TaintToleration`` in ``pkg/scheduler/framework/plugins`` and
``predicates`` in ``pkg/controller/daemon``), for the emulator's static nodes. A
cordoned node (``spec.unschedulable``) carries the ``node.kubernetes.io/unschedulable``
taint, which is how both see it (the scheduler's ``NodeUnschedulable`` says so first).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kube_test_cluster.machinery.topology import UNSCHEDULABLE_TAINT, Node

Obj = dict[str, Any]

#: effects that keep a pod off a node (PreferNoSchedule only scores)
_HARD = ("NoSchedule", "NoExecute")


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    """``v1.Toleration.ToleratesTaint`` for one taint."""
    for toleration in tolerations:
        effect = toleration.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        key = toleration.get("key") or ""
        operator = toleration.get("operator") or "Equal"
        if operator == "Exists":
            if not key or key == taint.get("key"):
                return True
            continue
        if key == taint.get("key") and (toleration.get("value") or "") == (
            taint.get("value") or ""
        ):
            return True
    return False


def untolerated_taint(
    spec: Mapping[str, Any], node: Node, effects: tuple[str, ...] = _HARD
) -> Mapping[str, Any] | None:
    tolerations = spec.get("tolerations") or []
    for taint in node.all_taints:
        if taint.get("effect") in effects and not tolerates(tolerations, taint):
            return taint
    return None


def _expression(expr: Mapping[str, Any], value: str | None) -> bool:  # noqa: PLR0911
    operator = expr.get("operator")
    values = [str(v) for v in expr.get("values") or []]
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and values:
        try:
            left, right = int(value), int(values[0])
        except ValueError:
            return False
        return left > right if operator == "Gt" else left < right
    return False


def matches_affinity(spec: Mapping[str, Any], node: Node) -> bool:
    """``nodeSelector`` and ``requiredDuringSchedulingIgnoredDuringExecution`` both hold."""
    labels = node.all_labels
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        )
        or {}
    ).get("nodeSelectorTerms")
    if not required:
        return True
    for term in required:  # terms are ORed, their requirements ANDed
        expressions = term.get("matchExpressions") or []
        fields = term.get("matchFields") or []
        if not expressions and not fields:
            continue
        if all(_expression(e, labels.get(e.get("key", ""))) for e in expressions) and all(
            _expression(f, node.name if f.get("key") == "metadata.name" else None) for f in fields
        ):
            return True
    return False


def fits(spec: Mapping[str, Any], node: Node) -> bool:
    """The pod spec may be scheduled on ``node``."""
    return matches_affinity(spec, node) and untolerated_taint(spec, node) is None


def unfit_reasons(spec: Mapping[str, Any], nodes: Iterable[Node]) -> str:
    """The scheduler's per-node reasons, counted (``1 node(s) had untolerated taint ...``)."""
    counts: dict[str, int] = {}
    for node in nodes:
        if node.unschedulable and not tolerates(spec.get("tolerations") or [], UNSCHEDULABLE_TAINT):
            reason = "node(s) were unschedulable"  # NodeUnschedulable filters first
        elif not matches_affinity(spec, node):
            reason = "node(s) didn't match Pod's node affinity/selector"
        else:
            taint = untolerated_taint(spec, node)
            if taint is None:
                continue
            reason = (
                f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
            )
        counts[reason] = counts.get(reason, 0) + 1
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))
