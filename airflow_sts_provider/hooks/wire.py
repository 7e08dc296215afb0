"""What one API call is, and what its answer means: transport-independent.

The sync and the async hook differ only in how bytes arrive (urllib3 vs aiohttp).
Everything else about a call lives here so the two cannot drift: the request in
the words of RBAC (verb, resource, namespace) and its URL, which status is
permanent, transient or "not found", the server's ``Retry-After``, and decoding a
body. Stdlib only, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from airflow_sts_provider import HOMEPAGE
from airflow_sts_provider.exceptions import (
    ContinueExpiredError,
    KubernetesApiCallError,
    KubernetesPermissionError,
    NotFoundError,
    TransientKubernetesError,
)
from airflow_sts_provider.names import path_segment

#: A JSON object as the API server sent it, decoded (the hooks sharpen its stamps in place).
JsonObject = dict[str, Any]

#: Where the docs explain the Role the hooks need (docs/operations.md, section ``rbac``):
#: readable offline from the installed package (the docs ship in the wheel), and online.
RBAC_DOC: Final = (
    "the operations guide's RBAC section (`python -m airflow_sts_provider.docs rbac`, "
    f"or {HOMEPAGE}/blob/main/docs/operations.md#rbac)"
)

#: API group of the resources whose group a caller does not name (messages, URLs).
_CORE_RESOURCES: Final = frozenset({"pods", "events", "namespaces"})
_APPS_RESOURCES: Final = frozenset(
    {"statefulsets", "deployments", "replicasets", "daemonsets", "controllerrevisions"}
)


def default_group(resource: str) -> str:
    """``""`` (core) or ``"apps"`` for the resources the built-in kinds read."""
    return "apps" if resource in _APPS_RESOURCES else ""


@dataclass(frozen=True)
class Request:
    """One API call described in the words of RBAC, for URLs, messages and error mapping."""

    verb: str  # get, list, watch
    resource: str  # statefulsets, pods, ...
    namespace: str | None
    name: str | None = None
    group: str | None = None  # None: the resource's usual group ("" core, "apps")
    version: str = "v1"
    #: A path of its own (discovery: ``/apis/kafka.strimzi.io/v1beta2``), else built.
    raw_path: str | None = None

    @property
    def api_group(self) -> str:
        """The API group, ``""`` for core."""
        return default_group(self.resource) if self.group is None else self.group

    @property
    def target(self) -> str:
        """``statefulsets default/web`` or ``pods in namespace default``."""
        if self.name:
            return f"{self.resource} {self.namespace}/{self.name}"
        return f"{self.resource} in namespace {self.namespace}"

    @property
    def path(self) -> str:
        """The URL path: ``/apis/apps/v1/namespaces/ns/statefulsets/web``.

        Without a namespace the resource is cluster-scoped (``/api/v1/namespaces/ns``).
        Every segment is percent-encoded: the public hook methods refuse what cannot be
        a Kubernetes name, and even a value that got past them (``web?x=1``,
        ``default/../other``) stays one segment instead of becoming a query or
        climbing into another namespace.
        """
        if self.raw_path:
            return self.raw_path
        group, version = path_segment(self.api_group), path_segment(self.version)
        prefix = f"/apis/{group}/{version}" if self.api_group else "/api/v1"
        scope = f"/namespaces/{path_segment(self.namespace)}" if self.namespace else ""
        path = f"{prefix}{scope}/{path_segment(self.resource)}"
        return f"{path}/{path_segment(self.name)}" if self.name else path

    def as_verb(self, verb: str) -> Request:
        """The same target for another verb (``watch`` after ``list``)."""
        return Request(
            verb, self.resource, self.namespace, self.name, self.group, self.version, self.raw_path
        )


def status_message(body: bytes | str | None) -> str:
    """The ``message`` of a ``Status`` error body, or a clipped raw body when it is not one."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        status = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:200]
    if isinstance(status, dict) and status.get("message"):
        return str(status["message"])
    return " ".join(text.split())[:200]


def permission_message(request: Request, status: int, server_message: str) -> str:
    """401: the credentials were rejected; 403: they lack a right. Each with its own fix."""
    message = _unauthenticated(request) if status == 401 else _forbidden(request)
    if server_message:
        message += f" API server said: {server_message}"
    return message


def _unauthenticated(request: Request) -> str:
    return (
        f"Kubernetes API not authenticated (401): the API server rejected the connection's "
        f"credentials when asked to {request.verb} {request.target}. Check that its token "
        "or client certificate has not expired or been revoked, and that the connection's "
        "kube_config / kube_config_path and cluster_context point at this cluster."
    )


def _forbidden(request: Request) -> str:
    group = f'"{request.api_group}"' if not request.api_group else request.api_group
    return (
        f"Kubernetes API forbidden (403): cannot {request.verb} {request.target} "
        f"(apiGroup {group}). Grant the connection's identity `{request.verb}` on "
        f"`{request.resource}` in namespace {request.namespace!r}; the least-privilege Role "
        f"is in {RBAC_DOC}."
    )


def retry_after_seconds(headers: Mapping[str, Any] | None) -> float | None:
    """The ``Retry-After`` header in seconds (the API server sends whole seconds)."""
    value = None
    if headers is not None:
        value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        seconds = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def error_for_status(
    request: Request,
    status: int,
    body: bytes | str | None,
    *,
    has_continue: bool = False,
    headers: Mapping[str, Any] | None = None,
) -> KubernetesApiCallError:
    """Map an HTTP error status to the one exception class the callers branch on."""
    message = status_message(body)
    kwargs: dict[str, Any] = {
        "verb": request.verb,
        "resource": request.resource,
        "namespace": request.namespace,
        "name": request.name,
        "status": status,
    }
    if status in (401, 403):
        return KubernetesPermissionError(permission_message(request, status, message), **kwargs)
    if status == 404:
        return NotFoundError(f"{request.target} not found", **kwargs)
    text = f"{request.verb} {request.target}: HTTP {status} {message}".rstrip()
    if status == 410 and has_continue:
        return ContinueExpiredError(
            f"{request.verb} {request.target}: continue token expired (410)", **kwargs
        )
    if status in (408, 410, 429) or status >= 500:
        # 410 outside paging: a watch or list at a compacted resourceVersion; start afresh.
        return TransientKubernetesError(text, retry_after=retry_after_seconds(headers), **kwargs)
    return KubernetesApiCallError(text, **kwargs)


def transient(request: Request, exc: BaseException) -> TransientKubernetesError:
    """A network-level failure (timeout, reset, truncated body) as a transient error."""
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return TransientKubernetesError(
        f"{request.verb} {request.target}: {type(exc).__name__}: {detail}",
        verb=request.verb,
        resource=request.resource,
        namespace=request.namespace,
        name=request.name,
    )


def tls_failure(request: Request, exc: BaseException) -> KubernetesApiCallError:
    """A server certificate this client does not trust: a configuration error, not a blip."""
    return KubernetesApiCallError(
        f"{request.verb} {request.target}: the API server's TLS certificate was not accepted "
        f"({type(exc).__name__}); check the kubeconfig's certificate-authority(-data) and the "
        "server address, or set disable_verify_ssl on the connection for a test cluster",
        verb=request.verb,
        resource=request.resource,
        namespace=request.namespace,
        name=request.name,
    )


#: The event types a watch stream carries.
WATCH_EVENT_TYPES: Final = frozenset({"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"})


def event_object(request: Request, event: Mapping[str, Any]) -> JsonObject:
    """A watch event's ``object``; a line that is JSON but not such an event is transient.

    A rewritten line (``{"type": "MODIFIED", "object": null}``) must never reach the
    picture, where it would be judged as a pod named ``""``: the watch resumes from the
    last version seen instead, which replays the event whole.
    """
    obj = event.get("object")
    metadata = obj.get("metadata", {}) if isinstance(obj, dict) else None
    if event.get("type") not in WATCH_EVENT_TYPES or not isinstance(metadata, dict):
        kind = type(obj).__name__
        raise transient(request, ValueError(f"not a watch event: {event.get('type')!r}, {kind}"))
    assert isinstance(obj, dict)
    return obj


def decode_object(request: Request, data: bytes | str) -> JsonObject:
    """``json.loads`` a response body; a body that is not a JSON object is transient."""
    try:
        obj = json.loads(data)
    except ValueError as exc:
        raise transient(request, exc) from exc
    if not isinstance(obj, dict):
        raise transient(request, ValueError(f"expected a JSON object, got {type(obj).__name__}"))
    return obj
