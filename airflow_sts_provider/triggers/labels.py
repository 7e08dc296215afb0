"""A ``labelSelector`` string matched in the triggerer, as the API server matches it.

A shared pod watch sees every pod of the namespace; each waiting trigger needs the
ones its workload's selector picks, the same set its own LIST by that selector
would have returned. The strings come from
:func:`~airflow_sts_provider.readiness.selectors.selector_to_label_selector`
(``app=web,tier in (a,b),!legacy``), so this parses what it writes, nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Selector", "labels_of"]

_SET = re.compile(r"^\s*(\S+)\s+(in|notin)\s+\((.*)\)\s*$")
_Requirement = Callable[[Mapping[str, Any]], bool]


def labels_of(obj: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``metadata.labels`` of an object, ``{}`` when absent or of the wrong shape."""
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    labels = meta.get("labels") if isinstance(meta, Mapping) else None
    return labels if isinstance(labels, Mapping) else {}


def _split(text: str) -> list[str]:
    """Requirements split at the commas that are not inside ``in (a,b)``."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _requirement(text: str) -> tuple[_Requirement, tuple[str, str] | None]:
    """One requirement as a test on labels, and its ``key=value`` if it is an equality."""
    found = _SET.match(text)
    if found:
        key, operator, values = found.group(1), found.group(2), found.group(3)
        allowed = {value.strip() for value in values.split(",")}
        if operator == "in":
            return (lambda labels: key in labels and str(labels[key]) in allowed), None
        return (lambda labels: key not in labels or str(labels[key]) not in allowed), None
    if "!=" in text:
        key, _, value = (part.strip() for part in text.partition("!="))
        return (lambda labels: key not in labels or str(labels[key]) != value), None
    if "=" in text:
        key, _, value = (part.strip().lstrip("=").strip() for part in text.partition("="))
        return (lambda labels: key in labels and str(labels[key]) == value), (key, value)
    if text.startswith("!"):
        key = text[1:].strip()
        return (lambda labels: key not in labels), None
    return (lambda labels: text in labels), None


class Selector:
    """A parsed ``labelSelector``; the empty string selects everything, as in a LIST."""

    __slots__ = ("_tests", "equalities", "text")

    def __init__(self, text: str) -> None:
        parsed = [_requirement(part) for part in _split(text)]
        self.text = text
        self._tests = tuple(test for test, _ in parsed)
        #: The ``key=value`` requirements: an index narrows candidates by any one of them.
        self.equalities = tuple(pair for _, pair in parsed if pair is not None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Selector) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def matches(self, obj: Mapping[str, Any] | None) -> bool:
        """Whether ``obj`` (an API object) carries labels this selector picks."""
        if obj is None:
            return False
        labels = labels_of(obj)
        return all(test(labels) for test in self._tests)
