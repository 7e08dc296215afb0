"""The README and the pages of ``docs/`` say what the code does, and every link leads somewhere.

Every fenced code block is checked by its language: Python is parsed, compiled and,
unless marked ``fragment``, run; YAML and JSON are loaded; shell is ``bash -n``'d (a
``console`` block's ``$`` commands). A block marked ``fragment`` (```` ```python
fragment ````) is listed in :data:`FRAGMENTS` with why it cannot run alone. Every
relative link resolves to a file, every ``#anchor`` to a heading or ``<a id>`` there;
every ``python -m airflow_sts_provider.docs NAME`` and every ``docs/*.md`` cited in
the repository exists.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from airflow_sts_provider import docs
from airflow_sts_provider.hooks.wire import Request, permission_message
from airflow_sts_provider.readiness import PodReport, State, Verdict

REPO = Path(__file__).resolve().parents[2]
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))]
README_LIMIT = 12_500

#: Languages a block may declare, and what is checked for each.
CHECKS = {
    "python": "parsed and compiled; run unless a fragment",
    "yaml": "loaded; a whole block is Kubernetes manifests",
    "json": "loaded",
    "bash": "bash -n",
    "console": "its $ commands, bash -n",
    "text": "output a program prints: not code (the 403 message is compared with the code's)",
}

#: Blocks marked ``fragment``, by page and first line, and why each cannot run alone.
FRAGMENTS = {
    (
        "docs/guide.md",
        "from airflow_sts_provider.hooks.statefulset import StatefulSetHook",
    ): "asks a cluster through the kubernetes_default connection",
    (
        "docs/operations.md",
        '  - apiGroups: ["kafka.strimzi.io"]',
    ): "one rule to add under the Role's rules, not a manifest of its own",
}

#: Where the repository is read for citations; what is skipped is not ours or not source.
SKIPPED_DIRS = {".git", ".venv", "build", "dist", ".demo", "node_modules", "__pycache__"}
CITING_FILES = (".py", ".md", ".yaml", ".yml", ".toml", ".cfg", ".sh", "Makefile")


@dataclass(frozen=True)
class Block:
    """A fenced code block: where it starts, its info string, its text."""

    page: str
    line: int
    info: str
    body: str

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info else ""

    @property
    def fragment(self) -> bool:
        return "fragment" in self.info.split()[1:]

    @property
    def first_line(self) -> str:
        return self.body.splitlines()[0] if self.body else ""

    def __str__(self) -> str:
        return f"{self.page}:{self.line} {self.language}"


def blocks(page: str) -> Iterator[Block]:
    """Every fenced block of ``page`` (fences start a line, as GitHub's and the reader's do)."""
    opened: tuple[int, str] | None = None
    body: list[str] = []
    for number, line in enumerate((REPO / page).read_text().splitlines(), start=1):
        if not line.startswith("```"):
            body.append(line)
        elif opened is None:
            opened, body = (number, line[3:].strip()), []
        else:
            yield Block(page, opened[0], opened[1], "\n".join(body) + "\n")
            opened = None
    assert opened is None, f"{page}:{opened[0]}: a code fence is never closed"


BLOCKS = [block for page in PAGES for block in blocks(page)]


def by(language: str, *, fragments: bool = True) -> list[Block]:
    return [b for b in BLOCKS if b.language == language and (fragments or not b.fragment)]


def ids(found: list[Block], verb: str) -> list[str]:
    return [f"the {b.language} block at {b.page}:{b.line} {verb}" for b in found]


# ---------------------------------------------------------------------------- blocks


def test_every_block_declares_a_language_that_is_checked() -> None:
    undeclared = [str(b) for b in BLOCKS if b.language not in CHECKS]
    assert not undeclared, f"declare one of {sorted(CHECKS)}: {undeclared}"


def test_every_fragment_is_listed_with_why_it_cannot_run_alone() -> None:
    marked = {(b.page, b.first_line) for b in BLOCKS if b.fragment}
    assert marked == set(FRAGMENTS)


@pytest.mark.parametrize("block", by("python"), ids=ids(by("python"), "parses and compiles"))
def test_python_blocks_parse_and_compile(block: Block) -> None:
    compile(ast.parse(block.body, str(block)), str(block), "exec")


@pytest.mark.parametrize(
    "block", by("python", fragments=False), ids=ids(by("python", fragments=False), "runs")
)
def test_python_blocks_that_are_not_fragments_run(block: Block) -> None:
    exec(compile(block.body, str(block), "exec"), {"__name__": "docs_block"})


@pytest.mark.parametrize("block", by("yaml"), ids=ids(by("yaml"), "loads"))
def test_yaml_blocks_load_and_whole_ones_are_manifests(block: Block) -> None:
    documents = list(yaml.safe_load_all(block.body))
    assert documents
    if not block.fragment:
        for document in documents:
            assert isinstance(document, dict) and {"apiVersion", "kind"} <= set(document)


@pytest.mark.parametrize("block", by("json"), ids=ids(by("json"), "loads"))
def test_json_blocks_load(block: Block) -> None:
    json.loads(block.body)


def console_commands(body: str) -> str:
    """The ``$`` commands of a console block, continuation lines included."""
    commands: list[str] = []
    continued = False
    for line in body.splitlines():
        if line.startswith("$ ") or continued:
            commands.append(line[2:] if line.startswith("$ ") and not continued else line)
            continued = line.endswith("\\")
    return "\n".join(commands) + "\n"


SHELL = by("bash") + by("console")


@pytest.mark.parametrize("block", SHELL, ids=ids(SHELL, "is valid shell"))
def test_shell_blocks_are_valid_shell(block: Block) -> None:
    script = console_commands(block.body) if block.language == "console" else block.body
    assert script.strip(), f"{block}: no command"
    result = subprocess.run(
        ["bash", "-n"], input=script, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr


def section_blocks(page: str, name: str, language: str) -> list[Block]:
    text = docs.section((REPO / page).read_text(), name)
    assert text is not None, f"{page} has no section {name!r}"
    return [b for b in by(language) if b.page == page and b.body in text]


def test_the_role_in_the_docs_is_the_one_example_dags_ships() -> None:
    (block,) = [b for b in section_blocks("docs/operations.md", "rbac", "yaml") if not b.fragment]
    shipped = (REPO / "example_dags" / "k8s" / "rbac.yaml").read_text()
    assert list(yaml.safe_load_all(block.body)) == list(yaml.safe_load_all(shipped))


def test_the_403_message_in_the_docs_is_the_one_the_hooks_write() -> None:
    (block,) = section_blocks("docs/operations.md", "rbac", "text")
    written = permission_message(Request("list", "pods", "default"), 403, "")
    assert " ".join(block.body.split()) == written


def test_the_xcom_report_in_the_guide_is_a_verdict_as_the_sensor_returns_it() -> None:
    (block,) = section_blocks("docs/guide.md", "the-xcom-report", "json")
    sample = json.loads(block.body)
    pods = tuple(
        PodReport(
            **{
                **pod,
                "state": State(pod["state"]),
                "ready_since": datetime.fromisoformat(pod["ready_since"]),
            }
        )
        for pod in sample["pods"]
    )
    verdict = Verdict(
        **{**sample, "state": State(sample["state"]), "pods": pods, "rules": tuple(sample["rules"])}
    )
    assert verdict.to_dict() == sample


# ---------------------------------------------------------------------------- size


def test_the_readme_stays_short() -> None:
    size = len((REPO / "README.md").read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes: move detail into docs/"


# ---------------------------------------------------------------------------- links

_LINK = re.compile(r"\]\(([^)\s]+)\)")
_CODE_SPAN = re.compile(r"``.*?``|`[^`]*`")


def links(page: str) -> Iterator[str]:
    """The targets of the markdown links of ``page``, outside code."""
    fenced = False
    for line in (REPO / page).read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            yield from _LINK.findall(_CODE_SPAN.sub("", line))


#: The test cluster's own pages: their links are checked too (their code, by its tests).
TEST_CLUSTER_PAGES = ["test-cluster/README.md", "test-cluster/docs/api.md"]

LINKS = [
    (page, target)
    for page in [*PAGES, *TEST_CLUSTER_PAGES]
    for target in links(page)
    if not re.match(r"[a-z]+:", target)  # http:, https:, mailto:
]


def check_target(base: Path, target: str) -> None:
    """``target`` (``path#anchor``, relative to ``base``) names a file and, if any, an anchor."""
    path, _, anchor = target.partition("#")
    resolved = (base / path) if path else base
    assert resolved.exists(), f"{target}: no such file"
    if anchor:
        assert resolved.suffix == ".md", f"{target}: an anchor into a file that is not markdown"
        assert anchor in docs.anchors(resolved.read_text()), f"{target}: no such anchor"


@pytest.mark.parametrize(
    ("page", "target"), LINKS, ids=[f"{page} links to {target}" for page, target in LINKS]
)
def test_relative_links_lead_to_a_file_and_an_anchor_there(page: str, target: str) -> None:
    base = REPO / page
    check_target(base if target.startswith("#") else base.parent, target)


def test_links_are_found_at_all() -> None:
    assert len(LINKS) > 50 and all(page in dict(LINKS) for page in PAGES + TEST_CLUSTER_PAGES)


# ---------------------------------------------------------------------------- citations


def repo_files() -> Iterator[Path]:
    """Source and documentation files of the repository (not the venv, builds or caches)."""
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
        for name in files:
            if name.endswith(CITING_FILES):
                yield Path(root, name)


_DOCS_COMMAND = re.compile("python -m airflow_sts_provider" + r"\.docs ([a-z0-9][a-z0-9_-]*)")
_CITED_DOC = re.compile(
    r"(?<![\w./-])((?:README|CHANGELOG|docs/[\w-]+|benchmarks/RESULTS|test-cluster/README)\.md)"
    r"(#[\w-]+)?"
)
_CITED_URL = re.compile(r"/(?:blob|tree)/main/([\w./-]+\.md)(#[\w-]+)?")


def citations(pattern: re.Pattern[str], *, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """``(file, what it cites)`` for every match of ``pattern`` in the repository's files."""
    found: set[tuple[str, str]] = set()
    for path in repo_files():
        relative = path.relative_to(REPO).as_posix()
        if relative.startswith(skip):
            continue
        for match in pattern.finditer(path.read_text(errors="replace")):
            found.add((relative, "".join(group or "" for group in match.groups())))
    return sorted(found)


DOCS_COMMANDS = citations(_DOCS_COMMAND)
#: The test cluster is a distribution of its own, whose docs cite its own pages.
CITED_DOCS = citations(_CITED_DOC, skip=("test-cluster/",)) + citations(_CITED_URL)


@pytest.mark.parametrize(
    ("where", "name"),
    DOCS_COMMANDS,
    ids=[f"{where} cites docs {name}" for where, name in DOCS_COMMANDS],
)
def test_every_docs_command_cited_prints_something(where: str, name: str) -> None:
    assert docs.find(name, docs.pages()) is not None, f"{where}: no page or section {name!r}"


@pytest.mark.parametrize(
    ("where", "cited"), CITED_DOCS, ids=[f"{where} cites {cited}" for where, cited in CITED_DOCS]
)
def test_every_document_cited_exists_with_its_anchor(where: str, cited: str) -> None:
    check_target(REPO, cited)


def test_a_section_name_is_on_one_page_only_so_the_reader_finds_the_one_meant() -> None:
    pages = docs.pages()
    owners: dict[str, list[str]] = {}
    for page, text in pages.items():
        for name in docs.anchors(text) - {page}:
            owners.setdefault(name, []).append(page)
    shared = {name: where for name, where in owners.items() if len(where) > 1 or name in pages}
    assert not shared, (
        f"rename one: `python -m airflow_sts_provider.docs NAME` finds the first only: {shared}"
    )


def test_the_errors_and_the_docs_cite_the_rbac_section() -> None:
    assert ("airflow_sts_provider/hooks/wire.py", "rbac") in DOCS_COMMANDS
    assert ("airflow_sts_provider/hooks/wire.py", "docs/operations.md#rbac") in CITED_DOCS
