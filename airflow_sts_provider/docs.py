"""``python -m airflow_sts_provider.docs [PAGE | SECTION]``: the documentation, offline.

The pages of ``docs/`` ship inside the wheel as the package ``airflow_sts_provider.pages``,
so a pip user reads the documentation of the exact version installed, with no clone
and no network. With no argument it lists the pages; ``PAGE`` (``guide``,
``operations``...) prints one; ``SECTION`` prints the section whose anchor (``rbac``)
or heading's GitHub slug matches, searching every page. Error messages point here.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources

MODULE = "airflow_sts_provider.docs"
PACKAGE = "airflow_sts_provider.pages"
#: The index page's file stem, and the name it is listed and asked for by.
INDEX_FILE, INDEX = "README", "index"

_ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
_LINKED_PAGE = re.compile(r"\]\(([\w-]+)\.md[)#]")


@dataclass(frozen=True)
class Heading:
    """A heading outside code fences: its line, its level, its GitHub slug, its anchor."""

    line: int
    level: int
    slug: str
    anchor: str | None = None

    @property
    def names(self) -> set[str]:
        """What ``#fragment`` (or ``docs NAME``) finds it by."""
        return {self.slug, self.anchor} if self.anchor else {self.slug}


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: ``## Least-privilege RBAC`` is ``least-privilege-rbac``."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def headings(text: str) -> Iterator[Heading]:
    """Every heading, named as GitHub names it (a repeated slug gets ``-1``, ``-2``...)
    and by an ``<a id="..."></a>`` on the line right above it."""
    lines, seen, fenced = text.splitlines(), dict[str, int](), False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            base = slug(line)
            count = seen.get(base, 0)
            seen[base] = count + 1
            above = _ANCHOR.fullmatch(lines[index - 1].strip()) if index else None
            level = len(line) - len(line.lstrip("#"))
            unique = f"{base}-{count}" if count else base
            yield Heading(index, level, unique, above.group(1) if above else None)


def anchors(text: str) -> set[str]:
    """Every ``#fragment`` a link into ``text`` may use: heading slugs and ``<a id>``s."""
    names = {name for heading in headings(text) for name in heading.names}
    return names | set(_ANCHOR.findall(text))


def section(text: str, name: str) -> str | None:
    """The section an anchor or heading slug names, up to the next heading of its level."""
    lines, found = text.splitlines(), list(headings(text))
    for position, heading in enumerate(found):
        if name not in heading.names:
            continue
        ends = [h.line for h in found[position + 1 :] if h.level <= heading.level]
        return "\n".join(lines[heading.line : ends[0] if ends else len(lines)]).rstrip() + "\n"
    return None


def pages() -> dict[str, str]:
    """Every page by name, the index first, then in the order the index links them."""
    files = {
        entry.name.removesuffix(".md"): entry.read_text(encoding="utf-8")
        for entry in resources.files(PACKAGE).iterdir()
        if entry.name.endswith(".md")
    }
    index = files.pop(INDEX_FILE, "")
    order = [name for name in _LINKED_PAGE.findall(index) if name in files]
    ranked = sorted(
        files, key=lambda name: (order.index(name) if name in order else len(order), name)
    )
    return ({INDEX: index} if index else {}) | {name: files[name] for name in ranked}


def title(text: str) -> str:
    """A page's first ``# `` heading, without the hashes."""
    return next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), "")


def find(name: str, found: dict[str, str]) -> str | None:
    """The page called ``name``, else the first section of that name on any page."""
    if name in found:
        return found[name]
    return next((s for text in found.values() if (s := section(text, name)) is not None), None)


def listing(found: dict[str, str]) -> str:
    """What ``python -m airflow_sts_provider.docs`` prints: the pages and how to ask."""
    width = max(len(name) for name in found)
    rows = [f"  {name:<{width}}  {title(text)}" for name, text in found.items()]
    how = f"A SECTION is an anchor or a heading's GitHub slug on any page: python -m {MODULE} rbac"
    return "\n".join([f"Pages (python -m {MODULE} PAGE):", *rows, how]) + "\n"


def unknown(name: str, found: dict[str, str]) -> str:
    """One line naming what exists: the pages, and every page's top sections."""
    tops = [h.anchor or h.slug for text in found.values() for h in headings(text) if h.level == 2]
    return (
        f"error: no page or section {name!r}; pages: {', '.join(found)}; "
        f"sections: {', '.join(tops)}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    found = pages()
    if not found:
        print(
            f"error: no documentation pages in {PACKAGE}: is the wheel complete?", file=sys.stderr
        )
        return 2
    if len(args) > 1:
        print(f"usage: python -m {MODULE} [PAGE | SECTION]", file=sys.stderr)
        return 2
    if not args:
        sys.stdout.write(listing(found))
        return 0
    text = find(args[0], found)
    if text is None:
        print(unknown(args[0], found), file=sys.stderr)
        return 2
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
