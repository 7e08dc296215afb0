"""The errors a DAG author may catch, in the words of the Kubernetes API.

Every error carries the request it was about (verb, resource, namespace, name,
HTTP status) so a message can tell a person what to check without a stack trace.
The sensors map them to Airflow: permanent ones fail the task, transient ones are
"not done this poke", and "not found" is a verdict (WAITING), not an error.
"""

from __future__ import annotations

__all__ = [
    "AssetWatcherError",
    "ConnectionConfigError",
    "ContinueExpiredError",
    "KubernetesApiCallError",
    "KubernetesPermissionError",
    "NotFoundError",
    "TransientKubernetesError",
    "UnservedKindError",
]


class KubernetesApiCallError(Exception):
    """An API call that did not give an answer the rules can judge."""

    def __init__(
        self,
        message: str,
        *,
        verb: str,
        resource: str,
        namespace: str | None,
        name: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.verb = verb
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.status = status
        self.retry_after = retry_after


class KubernetesPermissionError(KubernetesApiCallError):
    """401/403: retrying cannot help until someone fixes the credentials or the Role."""


class TransientKubernetesError(KubernetesApiCallError):
    """429, 5xx, timeouts, dropped connections, a garbled body: the next try may succeed.

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one.
    """


class ContinueExpiredError(KubernetesApiCallError):
    """410 Gone on a ``continue`` token: the list must start again from the first page."""


class NotFoundError(KubernetesApiCallError):
    """404 of the object asked for: not an error for a sensor, just "not there yet"."""


class ConnectionConfigError(ValueError):
    """The ``kubernetes`` connection cannot be used as configured: it names the fix.

    Raised before any request: an unknown connection id, a ``kube_config_path`` that
    does not exist, a ``kube_config`` that is not a kubeconfig. Retrying cannot help.
    """


class UnservedKindError(ValueError):
    """The cluster does not serve this kind (its operator's CRD is not installed?)."""

    def __init__(self, api_version: str, kind: str, detail: str) -> None:
        super().__init__(
            f"kind {kind!r} of API group {api_version!r} is not served by this cluster "
            f"({detail}): is the operator that defines it installed, and are apiVersion and "
            "kind spelled as in its CRD (`kubectl api-resources` lists them)?"
        )
        self.api_version = api_version
        self.kind = kind


class AssetWatcherError(RuntimeError):
    """An event trigger cannot watch its workload (401/403, a kind not served): no DAG run.

    A DAG run scheduled by a watcher means "a revision is running"; a broken watcher
    raises this in the triggerer instead of firing an event that would say otherwise.
    """
