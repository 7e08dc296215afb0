"""What the sync hook and the async trigger share about talking to the API server.

Both read raw JSON and hand it to :mod:`airflow_sts_provider.readiness`; they
differ only in *how* bytes arrive (urllib3 vs aiohttp). Everything that does not
depend on the transport lives here, so the two paths cannot drift apart: error
mapping (which status is permanent, transient, "not found"), the server's clock
from the ``Date`` header, paging with ``limit``/``continue``, the label selector
of a workload, dispatching to the right ``evaluate_*`` and turning Warning events
into short lines. Stdlib only, no I/O: it is unit-tested with plain dicts.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from airflow_sts_provider import readiness
from airflow_sts_provider.readiness import ReadinessPolicy, State, Verdict

Obj = dict[str, Any]

#: Page size of every LIST: the API server's own recommendation for large lists.
PAGE_LIMIT: Final = 500
#: (connect, read) seconds for one plain request; a hung API server must not hang a worker.
REQUEST_TIMEOUT: Final = (10.0, 30.0)
#: Newest Warning events per failing pod that make it into the error message.
EVENTS_PER_POD: Final = 3
#: Where the README explains the Role the hook needs.
RBAC_DOC: Final = "README.md#rbac"

KINDS: Final = ("StatefulSet", "Deployment", "Pod")


class KubernetesApiCallError(Exception):
    """An API call that did not give an answer the rules can judge.

    Carries the request it was about (verb, resource, namespace, name) so that a
    message can tell a person what to check without a stack trace.
    """

    def __init__(
        self,
        message: str,
        *,
        verb: str,
        resource: str,
        namespace: str | None,
        name: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.verb = verb
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.status = status


class KubernetesPermissionError(KubernetesApiCallError):
    """401/403: retrying cannot help until someone fixes the credentials or the Role."""


class TransientKubernetesError(KubernetesApiCallError):
    """429, 5xx, timeouts, dropped connections: the next poke may well succeed."""


class ContinueExpiredError(KubernetesApiCallError):
    """410 Gone on a ``continue`` token: the list must start again from the first page."""


class NotFoundError(KubernetesApiCallError):
    """404 of the object asked for: not an error for a sensor, just "not there yet"."""


@dataclass(frozen=True)
class Request:
    """One API call described in the words of RBAC, for messages and error mapping."""

    verb: str  # get, list, watch
    resource: str  # statefulsets, pods, ...
    namespace: str | None
    name: str | None = None

    @property
    def target(self) -> str:
        """``statefulsets default/web`` or ``pods in namespace default``."""
        if self.name:
            return f"{self.resource} {self.namespace}/{self.name}"
        return f"{self.resource} in namespace {self.namespace}"


_RESOURCE_GROUP: Final = {
    "statefulsets": "apps",
    "deployments": "apps",
    "replicasets": "apps",
    "pods": '""',
    "events": '""',
}


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
    """Name the verb, the resource and the namespace, and point at the documented Role."""
    group = _RESOURCE_GROUP.get(request.resource, "?")
    what = "not authenticated (401)" if status == 401 else "forbidden (403)"
    message = (
        f"Kubernetes API {what}: cannot {request.verb} {request.target} "
        f"(apiGroup {group}). Grant the connection's identity `{request.verb}` on "
        f"`{request.resource}` in namespace {request.namespace!r}; the least-privilege Role "
        f"is in {RBAC_DOC} and example_dags/k8s/rbac.yaml."
    )
    if server_message:
        message += f" API server said: {server_message}"
    return message


def error_for_status(
    request: Request, status: int, body: bytes | str | None, *, has_continue: bool = False
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
    if status == 410 and has_continue:
        return ContinueExpiredError(
            f"{request.verb} {request.target}: continue token expired (410)", **kwargs
        )
    if status in (408, 410, 429) or status >= 500:
        # 410 outside paging: a watch or list at a compacted resourceVersion; start afresh.
        return TransientKubernetesError(
            f"{request.verb} {request.target}: HTTP {status} {message}".rstrip(), **kwargs
        )
    return KubernetesApiCallError(
        f"{request.verb} {request.target}: HTTP {status} {message}".rstrip(), **kwargs
    )


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


def decode_object(request: Request, data: bytes | str) -> Obj:
    """``json.loads`` a response body; a body cut short by a dropped connection is transient."""
    try:
        obj = json.loads(data)
    except ValueError as exc:
        raise transient(request, exc) from exc
    if not isinstance(obj, dict):
        raise transient(request, ValueError(f"expected a JSON object, got {type(obj).__name__}"))
    return obj


def parse_date_header(value: str | None) -> datetime | None:
    """The API server's ``Date`` header (RFC 7231) as an aware UTC datetime, if readable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class ServerClock:
    """The API server's "now", so clock skew on a worker cannot bend the stability window.

    Every response refreshes the anchor (its ``Date`` header, second resolution);
    between responses the trigger extrapolates with the monotonic clock. The
    ``Date`` header is truncated to the second, so "now" may run up to a second
    behind the server: a window is never shortened, at most stretched by that.
    """

    def __init__(self) -> None:
        self._anchor: datetime | None = None
        self._anchor_mono = 0.0
        self.missing_date = False

    def observe(self, date_header: str | None) -> None:
        """Record the ``Date`` of a response (absent headers only flag :attr:`missing_date`)."""
        parsed = parse_date_header(date_header)
        if parsed is None:
            self.missing_date = True
            return
        if self._anchor is None or parsed >= self._anchor:
            self._anchor = parsed
            self._anchor_mono = time.monotonic()

    def now(self) -> datetime:
        """Server time if any response carried a ``Date``, else this machine's UTC time."""
        if self._anchor is None:
            return datetime.now(UTC)
        return self._anchor + timedelta(seconds=time.monotonic() - self._anchor_mono)

    @property
    def has_server_time(self) -> bool:
        """Whether :meth:`now` is based on the server's clock."""
        return self._anchor is not None


@dataclass
class Pager:
    """Collects the items of a paged LIST; restarts once when a continue token expires.

    Usage, transport-independent::

        pager = Pager()
        while not pager.done:
            try:
                page = fetch(**pager.params())
            except ContinueExpiredError as exc:
                pager.restart(exc)
                continue
            pager.add(page)
    """

    limit: int = PAGE_LIMIT
    items: list[Obj] = field(default_factory=list)
    resource_version: str | None = None
    pages: int = 0
    restarts: int = 0
    _continue: str | None = None
    _started: bool = False

    @property
    def done(self) -> bool:
        """True once a page came back without a ``continue`` token."""
        return self._started and not self._continue

    @property
    def continue_token(self) -> str | None:
        """The token of the next page, if any (a 410 only means "expired" when one was sent)."""
        return self._continue

    def params(self) -> dict[str, Any]:
        """Query parameters of the next page, named as the kubernetes clients name them."""
        params: dict[str, Any] = {"limit": self.limit}
        if self._continue:
            params["_continue"] = self._continue
        return params

    def add(self, page: Mapping[str, Any]) -> None:
        """Take one page; its ``metadata.continue`` says whether another one follows."""
        self._started = True
        self.pages += 1
        self.items.extend(page.get("items") or ())
        meta = page.get("metadata") or {}
        self._continue = meta.get("continue") or None
        if self.resource_version is None:  # every page of one list shares its snapshot
            self.resource_version = meta.get("resourceVersion") or None

    def restart(self, exc: KubernetesApiCallError) -> None:
        """Start the LIST again from the first page; a second expiry is transient."""
        if self.restarts >= 1:
            raise TransientKubernetesError(
                f"{exc}; it expired again after a restart",
                verb=exc.verb,
                resource=exc.resource,
                namespace=exc.namespace,
                status=exc.status,
            ) from exc
        self.restarts += 1
        self.pages = 0
        self.items = []
        self.resource_version = None
        self._continue = None
        self._started = False


def label_selector(workload: Mapping[str, Any]) -> str:
    """The workload's own ``spec.selector`` as a ``labelSelector`` string."""
    selector = (workload.get("spec") or {}).get("selector") or {}
    return readiness.selector_to_label_selector(selector)


def not_found_verdict(kind: str, name: str, namespace: str) -> Verdict:
    """A workload that does not exist (yet): WAITING, so a sensor after a deploy task waits."""
    return Verdict(
        kind=kind,
        name=name,
        namespace=namespace,
        state=State.WAITING,
        reason=f"{kind.lower()} {namespace}/{name} not found",
        desired=0,
        ready=0,
        revision=None,
        pods=(),
    )


def evaluate(
    kind: str,
    workload: Mapping[str, Any],
    *,
    pods: Sequence[Mapping[str, Any]] = (),
    replicasets: Sequence[Mapping[str, Any]] = (),
    now: datetime,
    policy: ReadinessPolicy,
) -> Verdict:
    """Dispatch to the rules for ``kind``: the one place both paths call them."""
    if kind == "StatefulSet":
        return readiness.evaluate_statefulset(workload, pods, now=now, policy=policy)
    if kind == "Deployment":
        return readiness.evaluate_deployment(workload, replicasets, pods, now=now, policy=policy)
    if kind == "Pod":
        return readiness.evaluate_pod(workload, now=now, policy=policy)
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def pods_needing_events(verdict: Verdict) -> tuple[str, ...]:
    """The pods whose Warning events go into the message: the failing ones only."""
    return tuple(pod.name for pod in verdict.pods if pod.state is State.FAILED)


def event_field_selector(pod_name: str) -> str:
    """Warning events about one pod (the kubelet's and the scheduler's own words)."""
    return f"involvedObject.kind=Pod,involvedObject.name={pod_name},type=Warning"


def _event_time(event: Mapping[str, Any]) -> str:
    series = event.get("series") or {}
    meta = event.get("metadata") or {}
    return str(
        series.get("lastObservedTime")
        or event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or meta.get("creationTimestamp")
        or ""
    )


def _event_count(event: Mapping[str, Any]) -> int:
    series = event.get("series") or {}
    count = series.get("count") or event.get("count") or 1
    return count if isinstance(count, int) and not isinstance(count, bool) else 1


def warning_event_lines(
    events: Sequence[Mapping[str, Any]], *, pod_uid: str | None = None, limit: int = EVENTS_PER_POD
) -> list[str]:
    """The newest ``limit`` Warning events as ``"BackOff: Back-off restarting ... (x5)"``.

    Events of an earlier pod with the same name (StatefulSet pods are recreated
    under their name) are dropped when ``pod_uid`` is known.
    """
    chosen = []
    for event in events:
        if event.get("type", "Warning") != "Warning":
            continue
        involved = event.get("involvedObject") or {}
        if pod_uid and involved.get("uid") and involved.get("uid") != pod_uid:
            continue
        chosen.append(event)
    chosen.sort(key=_event_time, reverse=True)
    lines = []
    for event in chosen[:limit]:
        reason = event.get("reason") or "Warning"
        message = " ".join(str(event.get("message") or "").split())
        count = _event_count(event)
        suffix = f" (x{count})" if count > 1 else ""
        lines.append(f"{reason}: {message}{suffix}" if message else f"{reason}{suffix}")
    return lines


def seconds_until_change(verdict: Verdict, policy: ReadinessPolicy, now: datetime) -> float | None:
    """Server seconds until the first stabilizing pod's window ends, if one is stabilizing.

    A Ready pod turns stable with no API event at all, so a watcher must wake up by
    itself then. Graces (image pull, config error, unschedulable) also end silently;
    the trigger covers them with its periodic re-check rather than modelling each here.
    """
    if verdict.state is not State.WAITING:
        return None
    earliest: float | None = None
    for pod in verdict.pods:
        if pod.state is not State.WAITING or pod.ready_since is None:
            continue
        left = policy.min_stable_seconds - (now - pod.ready_since).total_seconds()
        if math.isfinite(left) and left > 0:  # an elapsed window is not why it waits
            earliest = left if earliest is None else min(earliest, left)
    return earliest


def where(verdict: Verdict) -> str:
    """``namespace/name`` of the judged object."""
    return f"{verdict.namespace}/{verdict.name}" if verdict.namespace else verdict.name


def failure_message(verdict: Verdict) -> str:
    """What the failed task says: the workload, then every failing pod with its reason."""
    head = (
        f"{verdict.kind} {where(verdict)} is not coming up "
        f"({verdict.ready} of {verdict.desired} ready"
        + (f", revision {verdict.revision}" if verdict.revision else "")
        + ")"
    )
    lines = [head + ":"]
    for level, text in verdict.findings:
        if level is State.FAILED:
            lines.append(f"  - {text}")
    failing = [pod for pod in verdict.pods if pod.state is State.FAILED]
    for pod in failing:
        lines.append(f"  - {pod.reason}")
    if len(lines) == 1:
        lines.append(f"  - {verdict.reason}")
    if failing:
        ns = f" -n {verdict.namespace}" if verdict.namespace else ""
        lines.append(
            f"Inspect with `kubectl describe pod {failing[0].name}{ns}` and "
            f"`kubectl logs {failing[0].name}{ns} --previous`. Failing fast (fail_fast=True): "
            "retrying this sensor cannot fix the rollout."
        )
    return "\n".join(lines)
