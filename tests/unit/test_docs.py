"""The README as a pip user reads it: ``python -m airflow_sts_provider.docs [SECTION]``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from airflow_sts_provider.docs import section, slug
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
"""


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("rbac", "## Least-privilege RBAC", "kept"),
        ("least-privilege-rbac", "## Least-privilege RBAC", "kept"),
        ("a-subsection", "### A subsection", "kept"),
        ("next", "## Next", "gone"),
    ],
    ids=[
        "an anchor names the heading below it (a code block's '#' ends nothing)",
        "a heading's GitHub slug names it",
        "a subsection ends at the next heading of its level or above",
        "the last section runs to the end",
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


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("## Least-privilege RBAC", "least-privilege-rbac"),
        (
            "## The test cluster (`airflow_sts_provider.testing`)",
            "the-test-cluster-airflow_sts_providertesting",
        ),
        ("### How *running* is decided", "how-running-is-decided"),
    ],
    ids=["words and a hyphen", "code and punctuation are dropped", "emphasis is dropped"],
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


def test_the_rbac_section_the_errors_point_to_prints_the_role() -> None:
    assert "python -m airflow_sts_provider.docs rbac" in RBAC_DOC
    result = docs("rbac")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("## Least-privilege RBAC")
    assert "kind: Role" in result.stdout


def test_an_unknown_section_is_one_line_listing_the_sections() -> None:
    result = docs("no-such-section")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "least-privilege-rbac" in result.stderr
