"""The knobs of the rules: :class:`ReadinessPolicy`, validated when it is built."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# Why each policy field may not be negative, and what to write instead.
_POLICY_FIXES = {
    "min_stable_seconds": "use 0 to accept a pod as soon as it is Ready",
    "max_restarts": "use 0 to fail on the first recent restart",
    "restart_window_seconds": "use 0 to ignore every restart that is not happening right now",
    "image_pull_grace_seconds": "use 0 to fail on the first image pull error",
    "config_error_grace_seconds": "use 0 to fail on the first container config error",
    "unschedulable_grace_seconds": "use 0 to fail as soon as the scheduler gives up on a pod",
}


@dataclass(frozen=True)
class ReadinessPolicy:
    """The knobs of the rules; the defaults suit a service that must stay up.

    Graces exist because some failures heal by themselves (a registry hiccup, a
    ConfigMap created a few seconds after the pod, a node that autoscales in).
    """

    min_stable_seconds: float = 60.0
    max_restarts: int = 0
    restart_window_seconds: float = 900.0
    image_pull_grace_seconds: float = 120.0
    config_error_grace_seconds: float = 60.0
    unschedulable_grace_seconds: float = 300.0
    require_updated_on_delete: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_field(f.name, getattr(self, f.name))


def _check_field(name: str, value: Any) -> None:
    if name == "require_updated_on_delete":
        if not isinstance(value, bool):
            raise ValueError(
                f"ReadinessPolicy.require_updated_on_delete must be True or False, got {value!r}"
            )
        return
    fix = _POLICY_FIXES[name]
    if name == "max_restarts":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"ReadinessPolicy.max_restarts must be a whole number, got {value!r}; {fix}"
            )
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(
            f"ReadinessPolicy.{name} must be a number of seconds, got {value!r}; {fix}"
        )
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"ReadinessPolicy.{name} must be >= 0, got {value!r}; {fix}")


DEFAULT_POLICY = ReadinessPolicy()


def check_policy(policy: ReadinessPolicy) -> None:
    """Refuse anything but a policy: a dict of knobs would silently be ignored."""
    if not isinstance(policy, ReadinessPolicy):
        raise TypeError(f"policy must be a ReadinessPolicy, got {type(policy).__name__}")
