"""The transport-free shape of one API request and its answer.

The HTTP layer (``server.py``) turns bytes into :class:`ApiRequest` and
:class:`Reply` / :class:`WatchReply` back into bytes; everything in between
works on these, so handlers never touch sockets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from kube_test_cluster.apiserver.protobuf import PROTOBUF
from kube_test_cluster.registry.status import ApiError

Obj = dict[str, Any]

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


class Headers(Protocol):
    """Case-insensitive header lookup, as ``email.message.Message`` provides."""

    def get(self, name: str, /) -> str | None: ...


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Headers
    body: bytes = b""

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return None if value is None else str(value)

    def flag(self, name: str) -> bool:
        """A boolean query parameter, parsed like Go's ``strconv.ParseBool``."""
        value = self.query.get(name)
        if value is None or value == "":
            return False
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ApiError(400, "BadRequest", f'strconv.ParseBool: parsing "{value}": invalid syntax')

    def integer(self, name: str) -> int | None:
        value = self.query.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except ValueError:
            raise ApiError(
                400, "BadRequest", f'strconv.ParseInt: parsing "{value}": invalid syntax'
            ) from None

    def json_body(self, *, allow_empty: bool = False) -> Any:
        """The decoded body (JSON, or YAML when the client says so)."""
        if not self.body.strip():
            if allow_empty:
                return None
            raise ApiError(400, "BadRequest", "the body of the request is empty")
        content_type = (self.header("Content-Type") or "").lower()
        if content_type.startswith(PROTOBUF):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json, application/yaml",
            )
        try:
            if "yaml" in content_type:
                return yaml.safe_load(self.body)
            return json.loads(self.body)
        except (ValueError, yaml.YAMLError) as exc:
            if "yaml" not in content_type:
                try:  # apply-patch bodies are YAML, and YAML is a superset of JSON
                    return yaml.safe_load(self.body)
                except yaml.YAMLError:
                    pass
            raise ApiError(400, "BadRequest", f"json parse error: {exc}") from None


@dataclass
class Reply:
    code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WatchReply:
    """A streamed watch: each item is one ``{"type": ..., "object": ...}`` event.

    The server sets :attr:`client_gone` to a check of its connection; the stream asks
    it while nothing happens, so a watch whose client hung up ends at once.
    """

    events: Iterator[Obj]
    client_gone: Callable[[], bool] = field(default=lambda: False)
