"""Reading the real objects of ``../shared/fixtures``: where they are, and as the API sends them.

Shared by the tests over Argo CD's health data (workloads and operator resources):
the folder (or an environment variable's), YAML timestamps turned back into the
RFC 3339 strings the API sends, and "now" as the fixtures' READMEs define it (the
latest timestamp in the object plus ten minutes).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow_sts_provider.readiness.checks import parse_time

#: The API server's own form: ``2021-02-22T16:05:47Z``.
API_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def fixtures_dir(env: str, folder: str) -> Path:
    """``$env`` if set, else ``../shared/fixtures/<folder>`` beside the checkout."""
    configured = os.environ.get(env)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[4] / "shared" / "fixtures" / folder


def normalise(value: Any) -> Any:
    """YAML loads unquoted timestamps as datetimes; the API sends RFC 3339 strings."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


def timestamps(value: Any, stamp: re.Pattern[str] = API_STAMP) -> Iterator[datetime]:
    """Every timestamp (strings matching ``stamp``) anywhere in ``value``."""
    if isinstance(value, str) and stamp.fullmatch(value):
        moment = parse_time(value)
        if moment is not None:
            yield moment
    elif isinstance(value, dict):
        for item in value.values():
            yield from timestamps(item, stamp)
    elif isinstance(value, list):
        for item in value:
            yield from timestamps(item, stamp)


def ten_minutes_after(obj: Any, stamp: re.Pattern[str] = API_STAMP) -> datetime:
    """ "now" as the fixtures' READMEs define it."""
    return max(timestamps(obj, stamp)) + timedelta(minutes=10)
