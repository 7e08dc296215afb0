"""A ``labelSelector`` string matched locally, as the API server matches it, and grouped.

Two readers need the related objects a selector picks without a LIST of their own:

* a shared pod watch (:mod:`airflow_sts_provider.hooks.shared`) sees every pod of
  the namespace; each waiting trigger needs the ones its workload's selector picks,
  the same set its own LIST by that selector would have returned;
* a release (:func:`~airflow_sts_provider.hooks.reads.workloads_plan`) reads the pods
  of many workloads with one LIST by a requirement their selectors share
  (:func:`group_selectors`) and gives each workload what its own selector picks.

The strings come from
:func:`~airflow_sts_provider.readiness.selectors.selector_to_label_selector`
(``app=web,tier in (a,b),!legacy``), so this parses what it writes, nothing more.
It lives among the hooks so that both the hooks and the triggers may import it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Selector", "SelectorGroup", "group_selectors", "labels_of"]

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

    __slots__ = ("_tests", "equalities", "requirements", "text")

    def __init__(self, text: str) -> None:
        parts = _split(text)
        parsed = [_requirement(part) for part in parts]
        self.text = text
        self._tests = tuple(test for test, _ in parsed)
        #: The ``key=value`` requirements: an index narrows candidates by any one of them.
        self.equalities = tuple(pair for _, pair in parsed if pair is not None)
        #: Each requirement as text, an equality written ``key=value`` (``a == b`` too),
        #: so that two selectors' requirements compare as the server would read them.
        self.requirements = tuple(
            part if pair is None else f"{pair[0]}={pair[1]}"
            for part, (_, pair) in zip(parts, parsed, strict=True)
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Selector) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Selector({self.text!r})"

    def matches(self, obj: Mapping[str, Any] | None) -> bool:
        """Whether ``obj`` (an API object) carries labels this selector picks."""
        if obj is None:
            return False
        labels = labels_of(obj)
        return all(test(labels) for test in self._tests)


@dataclass(frozen=True)
class SelectorGroup:
    """Selectors one LIST serves: ``members`` (their positions), listed by ``selector``.

    ``selector`` is every requirement all members' selectors contain, so whatever
    any member's selector picks, the LIST by ``selector`` returns too; each member
    then keeps what its own selector matches (:meth:`Selector.matches`).
    """

    selector: str
    members: tuple[int, ...]


def group_selectors(selectors: Sequence[Selector]) -> list[SelectorGroup]:
    """As few LISTs as the selectors allow, each serving the selectors it is a part of.

    Greedy: the ``key=value`` requirement that the most selectors not yet served
    contain (the first seen of equals) makes a group of all of them; again until each
    selector with an equality is served. A group is listed by every requirement its
    members share (at least that one, and a single member's is its whole selector).
    A selector without an equality (``tier in (a,b)``, ``""``) shares no LIST that
    another could narrow: it is listed by itself, once for every selector written
    the same. The groups come in the order they were made.
    """
    groups: list[SelectorGroup] = []
    remaining = [index for index, selector in enumerate(selectors) if selector.equalities]
    while remaining:
        counts = Counter(pair for index in remaining for pair in set(selectors[index].equalities))
        first_seen: dict[tuple[str, str], int] = {}
        for index in remaining:
            for pair in selectors[index].equalities:
                first_seen.setdefault(pair, len(first_seen))
        best = max(counts, key=lambda pair: (counts[pair], -first_seen[pair]))
        members = [index for index in remaining if best in selectors[index].equalities]
        remaining = [index for index in remaining if best not in selectors[index].equalities]
        groups.append(SelectorGroup(_shared(selectors, members), tuple(members)))
    alone: dict[str, list[int]] = {}
    for index, selector in enumerate(selectors):
        if not selector.equalities:
            alone.setdefault(",".join(selector.requirements), []).append(index)
    groups += [
        SelectorGroup(selectors[members[0]].text, tuple(members)) for members in alone.values()
    ]
    return groups


def _shared(selectors: Sequence[Selector], members: Sequence[int]) -> str:
    """The requirements every member contains, in the first member's order; the
    members' own text when they are written the same (a LIST as each one's own)."""
    if len({selectors[index].text for index in members}) == 1:
        return selectors[members[0]].text
    others = [set(selectors[index].requirements) for index in members[1:]]
    first = selectors[members[0]].requirements
    return ",".join(part for part in first if all(part in other for other in others))
