"""``Status`` bodies: how the apiserver says no (and sometimes yes).

Clients branch on ``reason`` and ``code`` (client-go's ``IsNotFound``,
``IsConflict``, the python client's ``ApiException.status``), so every error the
emulator returns is a real ``meta/v1`` Status with the apiserver's wording.
"""

from __future__ import annotations

from typing import Any

from kube_test_cluster.registry.store import CUSTOM_GROUPS, RESOURCES, StoreError

Obj = dict[str, Any]

#: HTTP code -> the reason the apiserver puts next to it when nothing more specific applies.
REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

#: The message a fault-injected error carries (the apiserver's own wording where it has one).
FAULT_MESSAGES: dict[int, str] = {
    429: "Too many requests, please try again later.",
    500: "Internal error occurred: injected fault",
    503: "The server is currently unable to handle the request",
    504: "The server was unable to return a response in the time allotted, but may still be "
    "processing the request",
}


class ApiError(StoreError):
    """A request the emulated apiserver refuses, carrying ``details`` and extra headers."""

    def __init__(
        self,
        code: int,
        reason: str | None,
        message: str,
        *,
        details: Obj | None = None,
        headers: dict[str, str] | None = None,
        metadata: Obj | None = None,
    ) -> None:
        super().__init__(code, reason or REASONS.get(code, ""), message)
        self.details = details
        self.headers = headers or {}
        self.metadata = metadata or {}


def group_of(resource: str) -> str:
    """The API group of a plural resource name ('' for the core group)."""
    if resource not in RESOURCES and resource in CUSTOM_GROUPS:
        return CUSTOM_GROUPS[resource]
    api_version = RESOURCES.get(resource, ("v1", "", True))[0]
    return api_version.split("/")[0] if "/" in api_version else ""


def qualified(resource: str) -> str:
    """``statefulsets.apps`` / ``pods``: how the apiserver names a resource in messages."""
    group = group_of(resource)
    return f"{resource}.{group}" if group else resource


def details(resource: str, name: str | None, **extra: Any) -> Obj:
    body: Obj = {}
    if name:
        body["name"] = name
    group = group_of(resource)
    if group:
        body["group"] = group
    body["kind"] = resource
    body.update(extra)
    return body


def status_body(
    code: int,
    reason: str,
    message: str,
    details_: Obj | None = None,
    metadata: Obj | None = None,
) -> Obj:
    """A failure ``Status`` exactly shaped like the apiserver's."""
    body: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": metadata or {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details_:
        body["details"] = details_
    body["code"] = code
    return body


def success_body(resource: str, name: str, uid: str) -> Obj:
    """What DELETE returns for kinds that do not return the deleted object."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details(resource, name, uid=uid),
    }


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{qualified(resource)} "{name}" not found',
        details=details(resource, name),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def invalid(resource: str, name: str, kind: str, causes: list[str]) -> ApiError:
    """422 Invalid, worded like field validation errors."""
    message = f'{kind} "{name}" is invalid: ' + ", ".join(causes)
    return ApiError(422, "Invalid", message, details=details(resource, name))


def from_store_error(
    error: StoreError, resource: str | None = None, name: str | None = None
) -> Obj:
    """Turn any store/API error into its Status body."""
    if isinstance(error, ApiError):
        return status_body(error.code, error.reason, error.message, error.details, error.metadata)
    extra = details(resource, name) if resource and error.code in (404, 409, 422) else None
    return status_body(error.code, error.reason, error.message, extra)
