"""``limit`` / ``continue``: chunked lists with tokens that go stale.

A token is opaque to clients but carries, like the apiserver's, the
resourceVersion of the list's snapshot and the last key served. The emulator
adds the emulated time it was issued so tokens expire after ``ttl`` emulated
seconds (the real server's tokens die when etcd compacts that revision, about
five minutes later). Every page of one list is cut from the same snapshot, so
objects changed between two pages do not tear the list, exactly as with etcd.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from kube_test_cluster.registry.status import ApiError

EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter, or use the continue token in "
    "this response to retrieve the remainder of the results. Continuing with the provided "
    "token results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)

Key = tuple[str, str]  # (namespace, name): the order etcd keys sort in


@dataclass(frozen=True)
class ContinueToken:
    resource_version: int
    start: Key  # the last key already served
    issued: float  # emulated POSIX seconds

    def encode(self) -> str:
        raw = json.dumps(
            {
                "v": "meta.k8s.io/v1",
                "rv": self.resource_version,
                "start": list(self.start),
                "t": self.issued,
            },
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token: str) -> ContinueToken:
    """Parse a continue token; malformed tokens are the apiserver's 400."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError("unsupported version")
        start = data["start"]
        return ContinueToken(int(data["rv"]), (str(start[0]), str(start[1])), float(data["t"]))
    except (ValueError, KeyError, IndexError, TypeError, binascii.Error) as exc:
        raise ApiError(400, "BadRequest", f"continue key is not valid: {exc}") from None


def check_fresh(token: ContinueToken, now: datetime, ttl: float, *, force_expired: bool) -> None:
    """Raise 410 Expired for a token older than ``ttl`` emulated seconds (or when forced)."""
    if force_expired or now.timestamp() - token.issued > ttl:
        raise ApiError(410, "Expired", EXPIRED_MESSAGE)
