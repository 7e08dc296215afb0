"""A name or namespace can never change which URL a hook reads (issue 15 §2 item 10).

``healthy?x=1`` once became a query string and ``default/../other`` a read of another
namespace. Two lines of defence, each tested on its own: every path segment is
percent-encoded, and the public hook methods refuse what cannot be a Kubernetes name
before any request is made.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_sts_provider.hooks.reads import Read
from airflow_sts_provider.hooks.wire import Request
from airflow_sts_provider.hooks.workload import AsyncWorkloadHook, WorkloadHook
from airflow_sts_provider.kinds import ResourceSpec, kind_of
from airflow_sts_provider.sensors import arguments

REPO = Path(__file__).resolve().parents[3]

# --------------------------------------------------------------------------- the URL path


@pytest.mark.parametrize(
    ("request_", "path"),
    [
        (
            Request("get", "statefulsets", "default", "healthy"),
            "/apis/apps/v1/namespaces/default/statefulsets/healthy",
        ),
        (
            Request("get", "kafkas", "shop", "events", "kafka.strimzi.io", "v1beta2"),
            "/apis/kafka.strimzi.io/v1beta2/namespaces/shop/kafkas/events",
        ),
        (Request("get", "namespaces", None, "shop", "", "v1"), "/api/v1/namespaces/shop"),
        (Request("list", "pods", "shop"), "/api/v1/namespaces/shop/pods"),
        (
            Request("get", "statefulsets", "default", "healthy?x=1"),
            "/apis/apps/v1/namespaces/default/statefulsets/healthy%3Fx%3D1",
        ),
        (
            Request("get", "statefulsets", "default/../other", "web"),
            "/apis/apps/v1/namespaces/default%2F..%2Fother/statefulsets/web",
        ),
        (
            Request("get", "pods", "default", "../../api/v1/secrets"),
            "/api/v1/namespaces/default/pods/..%2F..%2Fapi%2Fv1%2Fsecrets",
        ),
        (Request("list", "pods", ".."), "/api/v1/namespaces/%2E%2E/pods"),
        (Request("get", "pods", "default", "."), "/api/v1/namespaces/default/pods/%2E"),
        (
            Request("get", "pods", "default", "web#frag"),
            "/api/v1/namespaces/default/pods/web%23frag",
        ),
        (
            Request("get", "pods", "default", "web%2F.."),
            "/api/v1/namespaces/default/pods/web%252F..",
        ),
        (
            Request("get", "things", "shop", "x", "evil.io/../../api", "v1"),
            "/apis/evil.io%2F..%2F..%2Fapi/v1/namespaces/shop/things/x",
        ),
        (
            Request("get", "things?watch=1", "shop", "x", "evil.io", "v1"),
            "/apis/evil.io/v1/namespaces/shop/things%3Fwatch%3D1/x",
        ),
    ],
    ids=[
        "a valid name and namespace are left as they are",
        "a custom resource's group, version and plural are left as they are",
        "a cluster-scoped namespace read is left as it is",
        "a list without a name ends at the plural",
        "a question mark in a name cannot start a query",
        "a slash in a namespace cannot climb into another namespace",
        "dot segments in a name cannot climb out of the resource",
        "a namespace that is only a dot-segment cannot climb",
        "a name that is only a dot cannot stay in place",
        "a hash in a name cannot start a fragment",
        "a percent sign in a name is itself encoded, not passed through",
        "a slash in a group stays inside its segment",
        "a question mark in a plural stays inside its segment",
    ],
)
def test_every_path_segment_is_percent_encoded(request_: Request, path: str) -> None:
    assert request_.path == path


# --------------------------------------------------------------------------- the public methods


class _Recorder:
    """Stands in for the transport: remembers each read, answers none."""

    def __init__(self) -> None:
        self.reads: list[Read] = []

    def sync(self, step: Read, clock: Any = None) -> Any:
        self.reads.append(step)
        raise AssertionError(f"a request was made: {step.request.path}")

    async def async_(self, step: Read) -> Any:
        return self.sync(step)


def _sync_hook(recorder: _Recorder) -> WorkloadHook:
    hook = WorkloadHook()
    hook.__dict__["api_client"] = object()  # the cached_property, filled: no connection read
    hook._answer = recorder.sync  # type: ignore[method-assign]
    return hook


def _async_hook(recorder: _Recorder) -> AsyncWorkloadHook:
    hook = AsyncWorkloadHook()
    hook._answer = recorder.async_  # type: ignore[method-assign]
    return hook


KAFKA = "kafka.strimzi.io/v1beta2"

SYNC_CALLS = [
    (lambda h: h.get_workload_readiness("StatefulSet", "healthy?x=1", "default"), "name"),
    (lambda h: h.get_workload_readiness("StatefulSet", "healthy", "default/../other"), "namespace"),
    (lambda h: h.get_workload_readiness("Pod", "../../secrets", "default"), "name"),
    (lambda h: h.get_workload_readiness("Deployment", "Web", "default"), "name"),
    (lambda h: h.get_workload_readiness("Deployment", "web\n", "default"), "name"),
    (lambda h: h.get_workload_readiness("StatefulSet", "w" * 64, "default"), "name"),
    (lambda h: h.get_workload_readiness("Deployment", "web", "default\n"), "namespace"),
    (lambda h: h.get_workload_readiness("Deployment", "", "default"), "name"),
    (lambda h: h.explain_absence("StatefulSet", "web", "a.b"), "namespace"),
    (lambda h: h.explain_absence("StatefulSet", "web/../x", "default"), "name"),
    (lambda h: h.get_workloads_readiness("app=web", namespace="default/../other"), "namespace"),
    (
        lambda h: h.resolve_kind(ResourceSpec("kafka.strimzi.io/../../api/v1", "Kafka")),
        "api_version",
    ),
    (lambda h: h.resolve_kind(ResourceSpec(KAFKA, "Kafka?x=1")), "kind"),
]
SYNC_IDS = [
    "a question mark in a StatefulSet name is refused",
    "a namespace that climbs into another is refused",
    "a pod name with dot segments is refused",
    "an upper-case Deployment name is refused",
    "a name with a trailing newline is refused",
    "a StatefulSet name longer than a label is refused",
    "a namespace with a trailing newline is refused",
    "an empty name is refused",
    "explain_absence refuses a namespace with a dot",
    "explain_absence refuses a name with a slash",
    "a release gate refuses a namespace that climbs",
    "discovery refuses an apiVersion that climbs out of its group",
    "discovery refuses a kind with a query in it",
]


@pytest.mark.parametrize(("call", "field"), SYNC_CALLS, ids=SYNC_IDS)
def test_the_sync_hook_refuses_what_cannot_be_a_kubernetes_name_before_any_request(
    call: Any, field: str
) -> None:
    recorder = _Recorder()
    with pytest.raises(ValueError) as info:
        call(_sync_hook(recorder))
    message = str(info.value)
    assert message.startswith(field), message
    assert "\n" not in message.rstrip()
    assert "e.g." in message or "use at most" in message, message
    assert recorder.reads == []


ASYNC_CALLS = [
    (lambda h: h.read_picture("StatefulSet", "healthy?x=1", "default"), "name"),
    (lambda h: h.read_picture(kind_of("Pod"), "web", "default/../other"), "namespace"),
    (lambda h: h.explain_absence("Deployment", "web", "Prod"), "namespace"),
    (lambda h: h.read_workloads("app=web", ("Deployment",), "default/../x"), "namespace"),
    (lambda h: h.resolve_kind(ResourceSpec("Kafka.Strimzi.io/v1beta2", "Kafka")), "api_version"),
    (lambda h: h.resolve_kind(ResourceSpec(KAFKA, "kafka")), "kind"),
]
ASYNC_IDS = [
    "read_picture refuses a question mark in a name",
    "read_picture refuses a namespace that climbs",
    "explain_absence refuses an upper-case namespace",
    "read_workloads refuses a namespace that climbs",
    "discovery refuses an upper-case group",
    "discovery refuses a kind that is not CamelCase",
]


@pytest.mark.parametrize(("call", "field"), ASYNC_CALLS, ids=ASYNC_IDS)
def test_the_async_hook_refuses_what_cannot_be_a_kubernetes_name_before_any_request(
    call: Any, field: str
) -> None:
    recorder = _Recorder()
    with pytest.raises(ValueError) as info:
        asyncio.run(call(_async_hook(recorder)))
    assert str(info.value).startswith(field), str(info.value)
    assert recorder.reads == []


def test_a_valid_target_still_reaches_the_transport() -> None:
    """The control: the recorder does see a read when the name is fine."""
    recorder = _Recorder()
    with pytest.raises(AssertionError, match="a request was made"):
        _sync_hook(recorder).get_workload_readiness("StatefulSet", "healthy", "default")
    assert [read.request.path for read in recorder.reads] == [
        "/apis/apps/v1/namespaces/default/statefulsets/healthy"
    ]


# --------------------------------------------------------------------------- one source of truth


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "healthy?x=1"),
        ("name", "Web"),
        ("name", "web\n"),
        ("namespace", "default/../other"),
        ("namespace", "a.b"),
        ("namespace", ".."),
    ],
    ids=[
        "a query in a name reads the same from the sensor and the hook",
        "an upper-case name reads the same from the sensor and the hook",
        "a name with a trailing newline reads the same from both",
        "a climbing namespace reads the same from the sensor and the hook",
        "a dotted namespace reads the same from the sensor and the hook",
        "a dot-segment namespace reads the same from the sensor and the hook",
    ],
)
def test_the_sensors_and_the_hooks_refuse_with_the_same_words(field: str, value: str) -> None:
    def refusal(check: Any) -> str:
        with pytest.raises(ValueError) as info:
            check()
        return str(info.value)

    row = kind_of("StatefulSet")
    hook = _sync_hook(_Recorder())
    if field == "name":
        sensor = refusal(
            lambda: arguments.check_name(row.name, value, rendered=True, max_length=63)
        )
        by_hook = refusal(lambda: hook.get_workload_readiness(row, value, "default"))
    else:
        sensor = refusal(lambda: arguments.check_namespace(value, rendered=True))
        by_hook = refusal(lambda: hook.get_workload_readiness(row, "web", value))
    assert sensor == by_hook


def test_the_names_module_imports_with_only_the_standard_library() -> None:
    """Hooks and sensors both import it: it must pull in neither them nor Airflow."""
    probe = (
        f"import sys; sys.path[:0] = [{str(REPO)!r}]; import airflow_sts_provider.names; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] not in sys.stdlib_module_names))"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "['__main__',",
        "'airflow_sts_provider',",
        "'airflow_sts_provider.names']",
    ]
