"""The sensors' arguments, checked when the DAG is parsed and again once rendered.

A typo must show as an import error in the Airflow UI, with the argument, the bad
value and the fix, never as a traceback from the rules an hour later.
"""

from __future__ import annotations

import math
from typing import Any

from airflow_sts_provider import names

#: The sensors' arguments that must be a real bool (a string would be truthy).
SENSOR_FLAGS = (
    "fail_fast",
    "deferrable",
    "require_updated_on_delete",
    "share_watches",
    "end_from_trigger",
)
GRACE_ARGUMENTS = (
    "restart_window_seconds",
    "image_pull_grace_seconds",
    "config_error_grace_seconds",
    "unschedulable_grace_seconds",
)


def is_template(value: Any) -> bool:
    """A Jinja expression is checked after rendering, not when the DAG is parsed."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def as_seconds(argument: str, value: Any) -> float:
    """A non-negative number of seconds from an int, float or rendered string."""
    fix = f"pass a number of seconds >= 0, e.g. {argument}=60"
    if isinstance(value, bool):
        raise ValueError(f"{argument} must be a number of seconds, got {value!r}; {fix}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(
                f"{argument} must be a number of seconds, got {value!r}; {fix}"
            ) from None
    if not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"{argument} must be a number of seconds, got {value!r}; {fix}")
    if math.isinf(value):
        raise ValueError(
            f"{argument} must be a finite number of seconds, got {value!r} (a window or grace "
            f"that never ends never decides); {fix}"
        )
    if value < 0:
        raise ValueError(f"{argument} must be >= 0, got {value!r}; {fix}")
    return float(value)


def as_count(argument: str, value: Any) -> int:
    """A non-negative whole number from an int or rendered string."""
    fix = f"pass a whole number >= 0, e.g. {argument}=0 to fail on the first recent restart"
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError(f"{argument} must be a whole number, got {value!r}; {fix}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{argument} must be a whole number, got {value!r}; {fix}")
    if value < 0:
        raise ValueError(f"{argument} must be >= 0, got {value!r}; {fix}")
    return value


def check_flag(argument: str, value: Any) -> None:
    """A real bool: ``deferrable='no'`` is a truthy string and would defer."""
    if not isinstance(value, bool):
        raise ValueError(
            f"{argument} must be True or False, got {value!r}; pass {argument}=True or "
            f"{argument}=False (not a string)"
        )


def check_name(kind: str, value: Any, *, rendered: bool, max_length: int = 253) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"name must be the {kind}'s name, got {value!r}; pass e.g. name='web' "
            "(a Jinja template such as name='{{ params.statefulset }}' works too)"
        )
    if is_template(value) and not rendered:
        return
    names.check_name(kind, value, max_length=max_length)


def check_namespace(value: Any, *, rendered: bool) -> None:
    if value is None or (is_template(value) and not rendered):
        return
    names.check_namespace(value)


def check_api_version_and_kind(api_version: Any, kind: Any) -> None:
    """A custom resource's ``apiVersion`` and ``kind``: their shape, as discovery's URL needs."""
    names.check_api_version(api_version)
    names.check_kind(kind)


def check_label_selector(
    argument: str, value: Any, *, rendered: bool, required: bool = False
) -> None:
    """A ``labelSelector`` string such as ``app.kubernetes.io/instance=kafka``."""
    if value is None and not required:
        return
    if is_template(value) and not rendered:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"{argument} must be a label selector, got {value!r}; e.g. "
            f"{argument}='app.kubernetes.io/instance=kafka'"
        )
