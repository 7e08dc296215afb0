"""What the Kubernetes API accepts as a name, a namespace, an ``apiVersion`` and a kind.

One source of truth for the sensors and ``workload_asset`` (checked when the DAG is
parsed) and for the hooks (checked before any request, since the hooks are public
API too): each of these values goes into a URL path, so a value the API server
would never accept (``healthy?x=1``, ``default/../other``) must be refused, with one
line naming the argument and the fix, before it can change which URL is read.
Stdlib only and importing nothing of this package, so anything here may import it.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import quote

__all__ = [
    "check_api_version",
    "check_kind",
    "check_name",
    "check_namespace",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "path_segment",
]

#: RFC 1123 label: a namespace (and a StatefulSet's or DaemonSet's name, being a pod label).
_DNS1123_LABEL: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
#: RFC 1123 subdomain: most object names, and an API group.
_DNS1123_SUBDOMAIN: Final = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)
#: An API version: ``v1``, ``v1beta2``, ``v2alpha1``.
_VERSION: Final = re.compile(r"v[0-9]+((alpha|beta)[0-9]+)?")
#: A kind: CamelCase, as in a CRD's ``spec.names.kind``.
_KIND: Final = re.compile(r"[A-Z][A-Za-z0-9]*")
LABEL_MAX: Final = 63
SUBDOMAIN_MAX: Final = 253
#: The fix for a bad namespace argument that may be left unset.
NAMESPACE_FIX: Final = "or leave it unset to use the connection's namespace (else 'default')"


def is_dns1123_label(value: Any) -> bool:
    """At most 63 of ``[a-z0-9-]``, starting and ending with a letter or digit."""
    return (
        isinstance(value, str)
        and len(value) <= LABEL_MAX
        and _DNS1123_LABEL.fullmatch(value) is not None
    )


def is_dns1123_subdomain(value: Any, max_length: int = SUBDOMAIN_MAX) -> bool:
    """Dot-separated labels, at most ``max_length`` (253) characters in all."""
    return (
        isinstance(value, str)
        and len(value) <= max_length
        and _DNS1123_SUBDOMAIN.fullmatch(value) is not None
    )


def check_name(kind: str, value: Any, *, max_length: int = SUBDOMAIN_MAX) -> None:
    """A name the API server accepts for ``kind`` (RFC 1123 subdomain, ``max_length``)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"name must be the {kind}'s name, got {value!r}; pass e.g. name='web'")
    if not is_dns1123_subdomain(value, max_length):
        raise ValueError(
            f"name {value!r} is not a valid Kubernetes {kind} name: use at most {max_length} "
            "lowercase letters, digits, '-' or '.', starting and ending with a letter or digit "
            "(RFC 1123), e.g. 'kafka-broker'"
        )


def check_namespace(value: Any, *, source: str = "", fix: str = NAMESPACE_FIX) -> None:
    """A namespace's name (RFC 1123 label); ``source`` and ``fix`` say where it came from."""
    if not is_dns1123_label(value):
        raise ValueError(
            f"namespace {value!r}{source} is not a valid Kubernetes namespace: use at most "
            f"{LABEL_MAX} lowercase letters, digits or '-', starting and ending with a letter "
            f"or digit, {fix}"
        )


def check_api_version(value: Any) -> None:
    """``v1`` (the core group) or ``<group>/<version>``: a DNS subdomain and ``v1beta2``-like."""
    group, slash, version = value.partition("/") if isinstance(value, str) else ("", "", "")
    core = value == "v1"
    if not core and not (slash and is_dns1123_subdomain(group) and _VERSION.fullmatch(version)):
        raise ValueError(
            f"api_version must be '<group>/<version>' as in the resource's manifest (a DNS "
            f"name, a slash and a version such as v1, v1beta2), or 'v1' for the core group, "
            f"got {value!r}; e.g. api_version='kafka.strimzi.io/v1beta2'"
        )


def check_kind(value: Any) -> None:
    """A CamelCase kind as its CRD spells it (``Kafka``, not ``kafka`` or ``kafkas``)."""
    if not isinstance(value, str) or not _KIND.fullmatch(value):
        raise ValueError(
            f"kind must be the resource's CamelCase kind as in its CRD (`kubectl "
            f"api-resources` lists them), got {value!r}; e.g. kind='Kafka'"
        )


def path_segment(value: str) -> str:
    """``value`` as one URL path segment: ``/``, ``?``, ``#``, ``%`` and ``..`` cannot escape it.

    ``quote`` leaves dots alone, so a segment that is all dots (``.``, ``..``), which a
    client or server would resolve as a dot-segment, has them encoded too.
    """
    segment = quote(value, safe="")
    return segment.replace(".", "%2E") if segment.strip(".") == "" else segment
