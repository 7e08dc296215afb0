"""Scripted pod behaviour: what the emulated scheduler and kubelet do with a pod.

A pod (in practice its workload's pod template) carries the annotation
``sts.emulator/behaviour``; ``sts.emulator/behaviour-<ordinal>`` adds to it for
the StatefulSet pod with that ordinal only (``sts.emulator/behaviour-node-<node>``
for the pod on that node, e.g. one DaemonSet pod), so a scenario can break exactly
one pod. The value is ``key=value`` pairs separated by commas, semicolons or
newlines (a bare key means ``true``), or a JSON object::

    sts.emulator/behaviour: "pull=2, ready=5"
    sts.emulator/behaviour-1: "crash-after=3, exit-code=1"
    sts.emulator/behaviour-2: '{"image-error": "not-found"}'

Durations are emulated seconds (``5``, ``2.5``, ``90s``, ``2m``). The keys are
listed in :data:`KEYS`; unknown keys are an error, which the kubelet reports as
a Warning event on the pod (and then runs it with the defaults).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

ANNOTATION = "sts.emulator/behaviour"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"

IMAGE_ERRORS = ("not-found", "unauthorized", "rate-limit", "timeout", "invalid", "never-pull")


class BehaviourError(ValueError):
    """An annotation the emulator cannot follow."""


@dataclass(frozen=True)
class Behaviour:
    """One pod's script. Defaults make a healthy pod Ready about a second after creation."""

    schedule: float = 0.0  # scheduling delay
    unschedulable: str | None = None  # "cpu", "memory" or the scheduler's reason text
    unschedulable_for: float | None = None  # then a node frees up (from creation)
    pull: float = 0.4  # image pull time (a node pulls an IfNotPresent image once)
    image_error: str | None = None  # one of IMAGE_ERRORS
    image_error_for: float | None = None  # then the registry recovers (from creation)
    config_error: str | None = None  # "secret:NAME", "configmap:NAME" or a message
    config_error_for: float | None = None  # then the secret/configmap appears (from creation)
    start: float = 0.1  # container create + start time
    ready: float | None = None  # readiness delay after start (default: from the probe)
    init: float = 0.5  # how long each (non-sidecar) init container runs
    crash_after: float | None = None  # the container exits this long after each start
    exit_code: int = 1  # ... with this code (0: Completed, else Error)
    oom_after: float | None = None  # killed by the OOM killer this long after each start
    crashes: int | None = None  # how many times it crashes in all (default: every time)
    unready_after: float | None = None  # the readiness probe starts failing after this
    unready_for: float | None = None  # ... and passes again after this long
    evict_after: float | None = None  # the kubelet evicts the pod this long after it started
    stop_after: float = 0.5  # time to exit after SIGTERM (the grace period caps it)
    container: str | None = None  # which container the failure keys apply to (default: first)


def _duration(value: Any) -> float:
    if isinstance(value, bool):
        raise BehaviourError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", str(value))
        if match is None:
            raise BehaviourError(f"expected a duration such as 5, 2.5 or 90s, got {value!r}")
        scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[match.group(2) or "s"]
        number = float(match.group(1)) * scale
    if number < 0:
        raise BehaviourError(f"durations cannot be negative, got {value!r}")
    return number


def _integer(value: Any) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise BehaviourError(f"expected an integer, got {value!r}") from None


def _text(value: Any) -> str:
    return str(value).strip()


def _unschedulable(value: Any) -> str | None:
    text = str(value).strip()
    if value is False or text.lower() in ("false", "no", "0"):
        return None
    if value is True or text.lower() in ("", "true", "yes", "1"):
        return "cpu"
    return text


def _image_error(value: Any) -> str:
    text = str(value).strip()
    if text not in IMAGE_ERRORS:
        raise BehaviourError(f"image-error must be one of {', '.join(IMAGE_ERRORS)}, got {text!r}")
    return text


#: key -> (field, parser, what it does) - the documented vocabulary
KEYS: dict[str, tuple[str, Callable[[Any], Any], str]] = {
    "schedule": ("schedule", _duration, "seconds before the scheduler binds the pod"),
    "unschedulable": (
        "unschedulable",
        _unschedulable,
        "no node fits: `cpu` (default), `memory`, or the reason text",
    ),
    "unschedulable-for": ("unschedulable_for", _duration, "seconds until a node fits"),
    "pull": ("pull", _duration, "seconds an image pull takes (default 0.4)"),
    "image-error": ("image_error", _image_error, "the pull fails: " + ", ".join(IMAGE_ERRORS)),
    "image-error-for": ("image_error_for", _duration, "seconds until pulls succeed again"),
    "config-error": (
        "config_error",
        _text,
        "CreateContainerConfigError: `secret:NAME`, `configmap:NAME` or a message",
    ),
    "config-error-for": ("config_error_for", _duration, "seconds until the config appears"),
    "start": ("start", _duration, "seconds to create and start a container (default 0.1)"),
    "ready": (
        "ready",
        _duration,
        "seconds from start to Ready (default: readinessProbe initialDelaySeconds + 0.5, "
        "or 0 without a probe)",
    ),
    "init": ("init", _duration, "seconds each init container runs (default 0.5)"),
    "crash-after": ("crash_after", _duration, "the container exits this long after each start"),
    "exit-code": ("exit_code", _integer, "its exit code (default 1; 0 is Completed)"),
    "oom-after": ("oom_after", _duration, "OOMKilled (exit 137) this long after each start"),
    "crashes": ("crashes", _integer, "how many crashes in all (default: unlimited)"),
    "unready-after": ("unready_after", _duration, "the readiness probe fails from then on"),
    "unready-for": ("unready_for", _duration, "... for this long, then passes again"),
    "evict-after": (
        "evict_after",
        _duration,
        "evicted (node low on memory) after running this long",
    ),
    "stop-after": ("stop_after", _duration, "seconds to exit after SIGTERM (default 0.5)"),
    "container": ("container", _text, "the container the failure keys apply to"),
}

_VALID_FIELDS = {f.name for f in fields(Behaviour)}
assert {spec[0] for spec in KEYS.values()} == _VALID_FIELDS


def parse_behaviour(text: str | None) -> dict[str, Any]:
    """Parse one annotation value into ``Behaviour`` field values (raises BehaviourError)."""
    if text is None or not text.strip():
        return {}
    raw: dict[str, Any] = {}
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            loaded = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise BehaviourError(f"invalid JSON: {error}") from None
        if not isinstance(loaded, dict):
            raise BehaviourError("a JSON behaviour must be an object")
        raw = loaded
    else:
        for chunk in re.split(r"[,;\n]", stripped):
            part = chunk.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            raw[key.strip()] = value.strip() if sep else True
    values: dict[str, Any] = {}
    for key, value in raw.items():
        spec = KEYS.get(key.strip().lower().replace("_", "-"))
        if spec is None:
            raise BehaviourError(f"unknown key {key!r}; known keys: {', '.join(KEYS)}")
        field, parse, _ = spec
        values[field] = parse(value)
    return values


def ordinal_of(pod: dict[str, Any]) -> int | None:
    """The StatefulSet ordinal of a pod (its pod-index label, else its name), if it has one."""
    meta = pod.get("metadata", {})
    index = (meta.get("labels") or {}).get(POD_INDEX_LABEL)
    if index is not None and str(index).isdigit():
        return int(index)
    owners = meta.get("ownerReferences") or []
    if any(ref.get("kind") == "StatefulSet" and ref.get("controller") for ref in owners):
        match = re.search(r"-(\d+)$", meta.get("name", ""))
        if match:
            return int(match.group(1))
    return None


def behaviour_of(pod: dict[str, Any]) -> Behaviour:
    """The behaviour scripted for ``pod``: the base annotation plus its ordinal's, if any."""
    annotations = pod.get("metadata", {}).get("annotations") or {}
    values = parse_behaviour(annotations.get(ANNOTATION))
    ordinal = ordinal_of(pod)
    if ordinal is not None:
        values.update(parse_behaviour(annotations.get(f"{ANNOTATION}-{ordinal}")))
    node = node_of(pod)
    if node is not None:
        values.update(parse_behaviour(annotations.get(f"{ANNOTATION}-node-{node}")))
    return Behaviour(**values)


def node_of(pod: dict[str, Any]) -> str | None:
    """The node a pod runs on or is pinned to (a DaemonSet pod's node affinity)."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in affinity.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return str(field["values"][0])
    return None
