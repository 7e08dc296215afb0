"""``spec.selector`` as the ``labelSelector`` query string a LIST of its pods sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SET_OPERATORS = {"In": "in", "NotIn": "notin"}


def selector_to_label_selector(spec_selector: Mapping[str, Any]) -> str:
    """``spec.selector`` (matchLabels + matchExpressions) as a ``labelSelector`` query string.

    Requirements are sorted by key (then matchLabels before expressions) and set
    values sorted, so the same selector always yields the same string, as the
    API server's own ``LabelSelectorAsSelector`` does. Invalid selectors raise
    ``ValueError`` here rather than silently matching too much.
    """
    requirements: list[tuple[str, int, str]] = []
    for key, value in sorted((spec_selector.get("matchLabels") or {}).items()):
        requirements.append((str(key), 0, f"{key}={value}"))
    for expression in spec_selector.get("matchExpressions") or ():
        requirements.append((str(expression.get("key")), 1, _expression(expression)))
    requirements.sort()
    return ",".join(text for _, _, text in requirements)


def _expression(expression: Mapping[str, Any]) -> str:
    """One ``matchExpressions`` entry as a requirement: ``env in (a,b)``, ``gpu``, ``!legacy``."""
    key = expression.get("key")
    operator = expression.get("operator")
    values = expression.get("values") or []
    if not key:
        raise ValueError(f"label selector expression without a key: {dict(expression)!r}")
    if operator in _SET_OPERATORS:
        if not values:
            raise ValueError(
                f"label selector operator {operator!r} for key {key!r} needs at least one value"
            )
        joined = ",".join(sorted(str(v) for v in values))
        return f"{key} {_SET_OPERATORS[operator]} ({joined})"
    if operator in ("Exists", "DoesNotExist"):
        if values:
            raise ValueError(
                f"label selector operator {operator!r} for key {key!r} takes no values, "
                f"got {list(values)!r}"
            )
        return str(key) if operator == "Exists" else f"!{key}"
    raise ValueError(
        f"unknown label selector operator {operator!r} for key {key!r}; "
        "expected one of In, NotIn, Exists, DoesNotExist"
    )
