"""What every kind's rules share: the checks written once, and the readers of raw fields.

The checks (a workload being deleted, a spec its controller has not observed,
controller ownership) are S1/D1, S2/D2 and the ownership filter of every table;
each rule table passes its own rule id. The readers turn the API's JSON fields
(RFC 3339 times, counts that may be absent, null or text) into Python values,
forgiving of what a real cluster sends; a time of another form is unreadable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .policy import ReadinessPolicy, check_policy
from .verdict import Finding, State

Obj = Mapping[str, Any]
"""A Kubernetes object as the API returns it: a JSON dict with camelCase keys."""

EMPTY: Obj = {}


# --------------------------------------------------------------------------- inputs


def check_inputs(now: datetime, policy: ReadinessPolicy) -> datetime:
    """``now`` must be an aware datetime (the server's clock) and ``policy`` a policy."""
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, got {type(now).__name__}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(
            "now must be timezone-aware (the API server's Date header, "
            "or datetime.now(timezone.utc) in tests)"
        )
    check_policy(policy)
    return now


def parts(obj: Obj) -> tuple[Obj, Obj, Obj]:
    """``metadata``, ``spec`` and ``status`` of an object, each ``{}`` when absent or null."""
    return (obj.get("metadata") or EMPTY, obj.get("spec") or EMPTY, obj.get("status") or EMPTY)


# --------------------------------------------------------------------------- readers


def is_map(value: Any) -> bool:
    """The API gives dicts; the ``type`` test spares the slow ABC check on the hot path."""
    return type(value) is dict or isinstance(value, Mapping)


# RFC 3339 as the API server writes a time: metav1.Time "2026-11-02T11:59:30Z",
# MicroTime with a fraction, and an offset for "Z" (Go's time.RFC3339 reads them).
# Strimzi writes its offsets without the colon ("+0000"): read too, a zone all the
# same. A date alone, a time without a zone, ISO 8601's other forms are not.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})"
).fullmatch
_from_iso = datetime.fromisoformat


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time from the API, always aware; None when absent or unreadable.

    The one reader of every stamp the rules time by. A stamp of another form
    (``2026-11-02``, ``2026-11-02T11:59:30``) is unreadable, never guessed: a date
    read as midnight would make a restart minutes ago look hours old.

    Nearly every stamp is metav1.Time, 20 characters with its separators at every
    third place from the fifth: those skip the pattern (it would double the cost
    of reading them, twice a pod each poke), as ``fromisoformat`` reads only ASCII
    digits between them (``test_timestamps`` tries every other character there).
    """
    if not isinstance(value, str):
        return None
    if not (len(value) == 20 and value[4::3] == "--T::Z") and _RFC3339(value) is None:
        return None
    try:
        return _from_iso(value)  # the ranges: month 13, hour 24, offset 24:00
    except ValueError:
        return None


def age(value: Any, now: datetime) -> float | None:
    """Seconds from the timestamp ``value`` to ``now``; None when absent or unreadable."""
    parsed = parse_time(value)
    if parsed is None:
        return None
    return (now - parsed).total_seconds()


def latest_time(stamps: Sequence[Any]) -> datetime | None:
    """The latest of some RFC 3339 timestamps; absent or unreadable ones are skipped."""
    latest = None
    for stamp in stamps:
        moment = parse_time(stamp)
        if moment is not None and (latest is None or moment > latest):
            latest = moment
    return latest


def latest_of_all(stamps: Sequence[Any]) -> datetime | None:
    """The latest of the stamps, or None unless every one is an RFC 3339 time.

    A window timed by some of its stamps only is not timed (P7).
    """
    latest = None
    for stamp in stamps:
        moment = parse_time(stamp)
        if moment is None:
            return None
        if latest is None or moment > latest:
            latest = moment
    return latest


def all_timed(stamps: Sequence[Any]) -> bool:
    """Every stamp is an RFC 3339 time."""
    return not stamps or latest_of_all(stamps) is not None


def as_int(value: Any, default: int = 0) -> int:
    """A count from the API: ints as they are, floats and digit strings read, else ``default``."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def optional_int(value: Any) -> int | None:
    """Like :func:`as_int`, but None for a field that is absent or null."""
    if value is None or isinstance(value, bool):
        return None
    return as_int(value, default=0)


def desired_replicas(spec: Obj) -> int:
    """``spec.replicas`` with the API's default of 1 (0 is a real value: scaled to zero)."""
    replicas = spec.get("replicas")
    if replicas is None:
        return 1
    return max(0, as_int(replicas, default=1))


# --------------------------------------------------------------------------- shared checks


def controller_ref(obj: Obj) -> Obj | None:
    """The ownerReference with ``controller: true``, if any."""
    meta = obj.get("metadata")
    refs = meta.get("ownerReferences") if type(meta) is dict or isinstance(meta, Mapping) else ()
    if type(refs) is not list and not isinstance(refs, list | tuple):
        return None  # absent, or of a shape that owns nothing
    for ref in refs:
        # is_map(ref), inline: every pod of every poke asks this.
        if (type(ref) is dict or isinstance(ref, Mapping)) and ref.get("controller") is True:
            ref_map: Obj = ref
            return ref_map
    return None


def is_controlled_by(obj: Obj, owner_meta: Obj, owner_kind: str) -> bool:
    """Only the controller ownerReference counts; uid first, kind+name when no uid is known."""
    ref = controller_ref(obj)
    if ref is None:
        return False
    owner_uid: str | None = owner_meta.get("uid")
    if owner_uid:
        return owner_uid == ref.get("uid")
    return owner_kind == ref.get("kind") and ref.get("name") == owner_meta.get("name")


def deletion_finding(rule: str, kind: str, meta: Obj) -> Finding | None:
    """S1 / D1: a workload being deleted will not become ready again."""
    stamp = meta.get("deletionTimestamp")
    if not stamp:
        return None
    name = str(meta.get("name") or "")
    return Finding(
        rule, State.FAILED, f"{kind} {name} is being deleted (deletionTimestamp {stamp})"
    )


def generation_finding(rule: str, kind: str, meta: Obj, status: Obj) -> Finding | None:
    """S2 / D2: the status describes the current spec only once the controller observed it."""
    observed = optional_int(status.get("observedGeneration"))
    generation = optional_int(meta.get("generation"))
    if observed is None:
        text = f"{kind} spec not yet observed by its controller (no status.observedGeneration)"
        return Finding(rule, State.WAITING, text)
    if generation is not None and observed < generation:
        text = (
            f"{kind} spec not yet observed by its controller "
            f"(observedGeneration {observed} < generation {generation})"
        )
        return Finding(rule, State.WAITING, text)
    return None


def ready_count_finding(
    rule: str, status: Obj, desired: int, pods_ready: int, field: str = "readyReplicas"
) -> Finding | None:
    """S4 / D5: the controller's own ready count lags behind the pods it owns.

    Told only when the pods do not explain it (they look ready but the controller
    has not counted them yet); a pod that is not ready tells for itself.
    """
    counted = as_int(status.get(field))
    if counted >= desired or pods_ready < desired:
        return None
    return Finding(rule, State.WAITING, f"controller counts {counted} of {desired} ready")
