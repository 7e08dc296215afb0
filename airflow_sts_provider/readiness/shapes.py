"""The JSON shapes the rules read, and a wrong shape as a WAITING finding naming the field.

The API sends objects of known shapes; a proxy, a corrupted cache or an attacker
may send anything JSON can hold. Each kind's rules read a few fields: the schemas
here say which type each one must have and the rule that reads it. :func:`problems`
walks an object against a schema once (linear in its size) and returns one
finding per wrong field ("status.conditions is not a list (string)"), with the id
of the rule that needed it. An absent or null field is not wrong: the rules say
what its absence means. A number the API never sends is wrong like a wrong type
("status.desiredNumberScheduled is -1, out of range (never below 0)"): a count
below 0 (:func:`count`), a ``metadata.generation`` below 1 (:func:`generation`).
The rules never add, subtract or clamp such a value: a negative ``restartCount``
would cancel another container's restarts.

Workloads are checked before their rules run (one object per call). A pod is
checked only when its rules could not read it (:func:`airflow_sts_provider.readiness.pods.judge_pod`
catches the error and asks here which field is wrong): every poke reads
thousands of well-formed pods, and the check would cost them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .verdict import Finding, State, Verdict, in_table_order

Schema = tuple[str, str, Any]
"""(JSON type, rule id, the fields of an object / the schema of a list's items /
the least value of an integer, None for any)."""

_MAX_PROBLEMS = 3
_INT64 = 2**63


def obj(rule: str, fields: Mapping[str, Schema] | None = None) -> Schema:
    return ("object", rule, dict(fields or {}))


def lst(rule: str, item: Schema) -> Schema:
    return ("list", rule, item)


def text(rule: str) -> Schema:
    return ("string", rule, None)


def num(rule: str) -> Schema:
    return ("integer", rule, None)


def count(rule: str) -> Schema:
    """A count: replicas, restarts, scheduled nodes, ``observedGeneration``. Never below 0."""
    return ("integer", rule, 0)


def generation(rule: str) -> Schema:
    """``metadata.generation``: the API server starts it at 1."""
    return ("integer", rule, 1)


def flag(rule: str) -> Schema:
    return ("boolean", rule, None)


def is_int(value: Any) -> bool:
    """A JSON integer the API could send (int64): not a bool, a float or digits in a string."""
    return type(value) is int and -_INT64 <= value < _INT64


def _is_object(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


_IS: dict[str, Callable[[Any], bool]] = {
    "object": _is_object,
    "list": _is_list,
    "string": _is_string,
    "integer": is_int,
    "boolean": _is_bool,
}
_ARTICLE = {
    "object": "an object",
    "list": "a list",
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
}


def json_type(value: Any) -> str:
    """The JSON name of a value's type: object, list, string, integer, number, boolean, null."""
    if value is None:
        return "null"
    for kind in ("boolean", "integer", "string", "object", "list"):
        if _IS[kind](value):
            return kind
    if isinstance(value, int | float):
        return "number" if not isinstance(value, int) else "integer out of range"
    return type(value).__name__


def problems(value: Any, schema: Schema, what: str) -> list[Finding]:
    """The first few fields of ``value`` whose type (or range) ``schema`` does not allow.

    ``what`` names the whole value when it is itself wrong ("StatefulSet", "pods[2]").
    """
    found: list[Finding] = []
    _walk(value, schema, "", what, found, nullable=False)
    return found


def _walk(
    value: Any, schema: Schema, path: str, what: str, found: list[Finding], *, nullable: bool = True
) -> None:
    """A field may be null (absent); the value itself and a list's entries may not."""
    if (value is None and nullable) or len(found) >= _MAX_PROBLEMS:
        return
    kind, rule, inner = schema
    if not _IS[kind](value):
        name = path or what
        found.append(
            Finding(rule, State.WAITING, f"{name} is not {_ARTICLE[kind]} ({json_type(value)})")
        )
        return
    if kind == "integer" and inner is not None and value < inner:
        text = f"{path or what} is {value}, out of range (never below {inner})"
        found.append(Finding(rule, State.WAITING, text))
    elif kind == "object":
        for key, sub in inner.items():
            _walk(value.get(key), sub, f"{path}.{key}" if path else key, what, found)
    elif kind == "list":
        for index, item in enumerate(value):
            if len(found) >= _MAX_PROBLEMS:
                return
            _walk(item, inner, f"{path or what}[{index}]", what, found, nullable=False)


def entries(value: Any, rule: str, what: str) -> tuple[list[Any], list[Finding]]:
    """A list argument (``pods``, ``replicasets``, ``revisions``): its objects, and what is wrong.

    Anything but a list or tuple is one finding; each entry that is not an object
    is one finding (the first few named) and is left out.
    """
    seen = Entries(what)
    return seen.take(value), seen.findings(rule)


def checked_entries(
    value: Any, rule: str, what: str, schema: Schema, name: str
) -> tuple[list[Any], list[Finding], list[Finding]]:
    """A list read with the workload (ReplicaSets, revisions): its objects, the entries
    that are not objects (:func:`entries`), and the wrong fields of those that are."""
    kept, bad = entries(value, rule, what)
    return kept, bad, [found for entry in kept for found in problems(entry, schema, name)]


class Entries:
    """:func:`entries` over a list that arrives in pages: positions count across pages.

    The hook hands the pods of a paged LIST to the rules one page at a time; a
    wrong entry is still named by its place in the whole list (``pods[712]``).
    """

    __slots__ = ("_bad", "_count", "_not_list", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        self.clear()

    def clear(self) -> None:
        """Forget every page (the LIST started again from its first page)."""
        self._count = 0
        self._bad: list[int] = []
        self._not_list: str | None = None

    def take(self, value: Any) -> list[Any]:
        """The objects of one page; what is not an object is remembered, and left out."""
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            self._not_list = self._not_list or json_type(value)
            return []
        start, self._count = self._count, self._count + len(value)
        kept = [entry for entry in value if type(entry) is dict or isinstance(entry, Mapping)]
        if len(kept) != len(value):
            self._bad += [start + i for i, e in enumerate(value) if not isinstance(e, Mapping)]
        return kept

    def findings(self, rule: str) -> list[Finding]:
        """One WAITING finding under ``rule`` for what was wrong, if anything was."""
        if self._not_list is not None:
            return [Finding(rule, State.WAITING, f"{self.what} is not a list ({self._not_list})")]
        bad = self._bad
        if not bad:
            return []
        named = ", ".join(f"{self.what}[{i}]" for i in bad[:_MAX_PROBLEMS])
        more = f" and {len(bad) - _MAX_PROBLEMS} more" if len(bad) > _MAX_PROBLEMS else ""
        verb = "is" if len(bad) == 1 else "are"
        return [Finding(rule, State.WAITING, f"{named}{more} {verb} not an object")]


# --------------------------------------------------------------------------- the pod


def _terminated(rule: str) -> Schema:
    return obj(
        rule,
        {
            "exitCode": num(rule),
            "reason": text(rule),
            "finishedAt": text(rule),
            "signal": num(rule),
        },
    )


_CONTAINER_STATUS = obj(
    "P6",
    {
        "name": text("P6"),
        "ready": flag("P6"),
        "restartCount": count("P4"),
        "state": obj(
            "P6",
            {
                "waiting": obj("P3", {"reason": text("P3")}),
                "running": obj("P6", {"startedAt": text("P7")}),
                "terminated": _terminated("P6"),
            },
        ),
        "lastState": obj("P4", {"terminated": _terminated("P4")}),
    },
)
_CONTAINER = obj("P6", {"name": text("P6"), "restartPolicy": text("P6")})

POD = obj(
    "P6",
    {
        "metadata": obj(
            "P1",
            {
                "name": text("P1"),
                "namespace": text("P1"),
                "labels": obj("P1"),
                "deletionTimestamp": text("P1"),
                "creationTimestamp": text("P3b"),
            },
        ),
        "spec": obj(
            "P6",
            {
                "nodeName": text("P6"),
                "containers": lst("P6", _CONTAINER),
                "initContainers": lst("P6", _CONTAINER),
                "readinessGates": lst("P6", obj("P6", {"conditionType": text("P6")})),
            },
        ),
        "status": obj(
            "P6",
            {
                "phase": text("P2"),
                "podIP": text("P6"),
                "conditions": lst(
                    "P6",
                    obj(
                        "P6",
                        {
                            "type": text("P6"),
                            "status": text("P6"),
                            "lastTransitionTime": text("P7"),
                        },
                    ),
                ),
                "initContainerStatuses": lst("P6", _CONTAINER_STATUS),
                "containerStatuses": lst("P6", _CONTAINER_STATUS),
            },
        ),
    },
)


# --------------------------------------------------------------------------- workloads


def metadata(deletion: str, generation_rule: str) -> Schema:
    """``metadata`` as every workload's rules read it."""
    return obj(
        deletion,
        {
            "name": text(deletion),
            "namespace": text(deletion),
            "uid": text(deletion),
            "generation": generation(generation_rule),
            "deletionTimestamp": text(deletion),
            "annotations": obj(deletion),
            "labels": obj(deletion),
        },
    )


STATEFULSET = obj(
    "S3",
    {
        "metadata": metadata("S1", "S2"),
        "spec": obj(
            "S3",
            {
                "replicas": count("S3"),
                "updateStrategy": obj(
                    "S6",
                    {"type": text("S6"), "rollingUpdate": obj("S6", {"partition": num("S6")})},
                ),
                "podManagementPolicy": text("S12"),
                "ordinals": obj("S9", {"start": count("S9")}),
                "minReadySeconds": num("S5"),
            },
        ),
        "status": obj(
            "S3",
            {
                "observedGeneration": count("S2"),
                "replicas": count("S3"),
                "readyReplicas": count("S4"),
                "availableReplicas": count("S5"),
                "updatedReplicas": count("S6"),
                "updateRevision": text("S6"),
                "currentRevision": text("S7"),
            },
        ),
    },
)

_DEPLOYMENT_CONDITION = obj("D3", {"type": text("D3"), "status": text("D3"), "reason": text("D3")})
DEPLOYMENT = obj(
    "D5",
    {
        "metadata": metadata("D1", "D2"),
        "spec": obj(
            "D5",
            {"replicas": count("D5"), "paused": flag("D4"), "progressDeadlineSeconds": num("D3")},
        ),
        "status": obj(
            "D5",
            {
                "observedGeneration": count("D2"),
                "replicas": count("D5"),
                "updatedReplicas": count("D5"),
                "readyReplicas": count("D5"),
                "availableReplicas": count("D5"),
                "terminatingReplicas": count("D5"),
                "conditions": lst("D3", _DEPLOYMENT_CONDITION),
            },
        ),
    },
)
REPLICASET = obj("D6", {"metadata": metadata("D6", "D6")})

DAEMONSET = obj(
    "DS3",
    {
        "metadata": metadata("DS1", "DS2"),
        "spec": obj(
            "DS5",
            {"updateStrategy": obj("DS5", {"type": text("DS5")}), "minReadySeconds": num("DS6")},
        ),
        "status": obj(
            "DS3",
            {
                "observedGeneration": count("DS2"),
                "desiredNumberScheduled": count("DS3"),
                "currentNumberScheduled": count("DS4"),
                "numberMisscheduled": count("DS4"),
                "updatedNumberScheduled": count("DS5"),
                "numberReady": count("DS6"),
                "numberAvailable": count("DS6"),
            },
        ),
    },
)
REVISION = obj("DS5", {"revision": count("DS5"), "metadata": metadata("DS5", "DS5")})

RESOURCE = obj(
    "G5",
    {
        "kind": text("G5"),
        "metadata": metadata("G1", "G2"),
        "status": obj("G5", {"observedGeneration": count("G2")}),
    },
)


def malformed_verdict(
    kind: str, value: Any, findings: list[Finding], order: tuple[str, ...]
) -> Verdict:
    """WAITING for an object whose shape the rules cannot read: each wrong field named."""
    meta = value.get("metadata") if isinstance(value, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    name = meta.get("name")
    name = name if isinstance(name, str) else ""
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    found = tuple(findings)
    return Verdict(
        kind=kind,
        name=name,
        namespace=namespace,
        state=State.WAITING,
        reason=f"{kind} {name}: cannot be judged: " + "; ".join(f.text for f in found),
        desired=0,
        ready=0,
        revision=None,
        pods=(),
        findings=found,
        rules=in_table_order([f.rule for f in found], order),
    )
