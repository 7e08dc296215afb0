"""``python -m airflow_sts_provider.docs [SECTION]``: the README, wherever pip put it.

The README travels inside the distribution's metadata (its long description), so
a pip user reads the documentation of the exact version installed, with no clone
and no network. Error messages point here (``rbac``) as well as to the project's
home; ``SECTION`` is an anchor (``rbac``) or a heading's GitHub slug.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from email.message import Message
from importlib import metadata
from typing import cast

DISTRIBUTION = "airflow-sts-provider"

_ANCHOR = re.compile(r'<a id="([^"]+)"></a>')


def readme() -> str:
    """The installed distribution's README; empty when it is not installed."""
    try:
        meta = cast(Message, metadata.metadata(DISTRIBUTION))
    except metadata.PackageNotFoundError:
        return ""
    return str(meta.get_payload() or "")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: ``## Least-privilege RBAC`` is ``least-privilege-rbac``."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _headings(lines: list[str]) -> Iterator[tuple[int, int]]:
    """``(line index, level)`` of every heading outside code fences."""
    fenced = False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            yield index, len(line) - len(line.lstrip("#"))


def section(text: str, name: str) -> str | None:
    """The section an anchor or heading slug names, up to the next heading of its level."""
    lines = text.splitlines()
    headings = list(_headings(lines))
    for position, (index, level) in enumerate(headings):
        above = lines[index - 1].strip() if index else ""
        anchor = _ANCHOR.fullmatch(above)
        if slug(lines[index]) != name and not (anchor and anchor.group(1) == name):
            continue
        ends = [i for i, lvl in headings[position + 1 :] if lvl <= level]
        return "\n".join(lines[index : ends[0] if ends else len(lines)]).rstrip() + "\n"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    text = readme()
    if not text:
        print(f"error: {DISTRIBUTION} is not installed, so it has no README", file=sys.stderr)
        return 2
    if not args:
        sys.stdout.write(text)
        return 0
    found = section(text, args[0])
    if found is None:
        lines = text.splitlines()
        names = ", ".join(slug(lines[i]) for i, level in _headings(lines) if level == 2)
        print(f"error: the README has no section {args[0]!r}; sections: {names}", file=sys.stderr)
        return 2
    sys.stdout.write(found)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
