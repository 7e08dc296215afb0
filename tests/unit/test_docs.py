"""The docs as a pip user reads them: ``python -m airflow_sts_provider.docs [PAGE | SECTION]``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from airflow_sts_provider.docs import anchors, headings, section, slug
from airflow_sts_provider.hooks.wire import RBAC_DOC

TEXT = """# Title

intro

<a id="rbac"></a>
## Least-privilege RBAC

```bash
# not a heading: a comment in a code block
```

### A subsection

kept

## Next

gone

## Next

the second of its name
"""


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("rbac", "## Least-privilege RBAC", "kept"),
        ("least-privilege-rbac", "## Least-privilege RBAC", "kept"),
        ("a-subsection", "### A subsection", "kept"),
        ("next", "## Next", "gone"),
        ("next-1", "## Next", "the second of its name"),
    ],
    ids=[
        "an anchor names the heading below it, and a code block's '#' ends nothing",
        "a heading's GitHub slug names it",
        "a subsection ends at the next heading of its level or above",
        "a section ends at the next heading of its level",
        "a repeated heading is found as GitHub links it, with -1, and runs to the end",
    ],
)
def test_a_section_runs_from_its_heading_to_the_next_of_its_level(
    name: str, first: str, last: str
) -> None:
    found = section(TEXT, name)
    assert found is not None
    lines = found.strip().splitlines()
    assert (lines[0], lines[-1]) == (first, last)


def test_an_unknown_section_is_none() -> None:
    assert section(TEXT, "not-a-comment") is None


def test_the_anchors_a_link_may_use_are_the_slugs_and_the_ids() -> None:
    assert anchors(TEXT) == {
        "title",
        "rbac",
        "least-privilege-rbac",
        "a-subsection",
        "next",
        "next-1",
    }
    assert [heading.level for heading in headings(TEXT)] == [1, 2, 3, 2, 2]


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("## Least-privilege RBAC", "least-privilege-rbac"),
        ("## Releases: `WorkloadsRunningSensor`", "releases-workloadsrunningsensor"),
        ("# How *running* is decided", "how-running-is-decided"),
        (
            "## Compared with `kubectl rollout status` and `helm --wait`",
            "compared-with-kubectl-rollout-status-and-helm---wait",
        ),
    ],
    ids=[
        "words and a hyphen are kept",
        "code and punctuation are dropped",
        "emphasis is dropped",
        "each space becomes a hyphen, beside the hyphens already there",
    ],
)
def test_slugs_are_githubs(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def docs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_sts_provider.docs", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PAGES = ("index", "guide", "rules", "operations", "security", "testing", "contributing")


@pytest.mark.parametrize(
    ("args", "starts", "holds"),
    [
        (("rbac",), "## Least-privilege RBAC", ("kind: Role", "verbs:")),
        (("guide",), "# The guide", ("## The sensors", "## Sensor reference")),
        (("index",), "# airflow-sts-provider documentation", ("guide.md", "operations.md")),
        (("shared-watches",), "### Shared watches", ("share_watches=False",)),
        (("the-knobs-readinesspolicy",), "## The knobs", ("min_stable_seconds",)),
        ((), "Pages (python -m airflow_sts_provider.docs PAGE):", PAGES),
    ],
    ids=[
        "the rbac section the errors point to prints the Role",
        "a page's name prints the page",
        "the index is a page",
        "a subsection is found by its slug on any page",
        "a section's slug drops its code",
        "no argument lists every page, the index first",
    ],
)
def test_the_reader_prints_what_it_is_asked_for(
    args: tuple[str, ...], starts: str, holds: tuple[str, ...]
) -> None:
    result = docs(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(starts)
    for text in holds:
        assert text in result.stdout


def test_the_pages_are_listed_in_the_order_the_index_gives_them() -> None:
    listed = [line.split()[0] for line in docs().stdout.splitlines()[1:-1]]
    assert listed == list(PAGES)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("no-such-section",), ("pages: index, guide,", "sections: ", "the-sensors", " rbac,")),
        (("rbac", "guide"), ("usage: python -m airflow_sts_provider.docs",)),
    ],
    ids=[
        "an unknown name is one line listing the pages and the sections",
        "two names are a usage error",
    ],
)
def test_a_wrong_question_is_one_line_and_exit_2(args: tuple[str, ...], says: tuple[str]) -> None:
    result = docs(*args)
    assert (result.returncode, result.stdout, result.stderr.count("\n")) == (2, "", 1)
    for text in says:
        assert text in result.stderr


def test_the_403_advice_names_the_reader_and_the_page_online() -> None:
    assert "python -m airflow_sts_provider.docs rbac" in RBAC_DOC
    assert RBAC_DOC.endswith("/blob/main/docs/operations.md#rbac)")
