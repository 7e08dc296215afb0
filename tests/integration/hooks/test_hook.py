"""StatefulSetHook against the test cluster, over real HTTPS: no client mocks.

Every connection form of the ``kubernetes`` connection, namespace resolution,
paging, continue-token expiry, the server's clock, and the error mapping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_sts_provider.exceptions import ContinueExpiredError, UnservedKindError
from airflow_sts_provider.hooks.statefulset import (
    KubernetesApiCallError,
    KubernetesPermissionError,
    StatefulSetHook,
    TransientKubernetesError,
)
from airflow_sts_provider.kinds import ResourceSpec
from airflow_sts_provider.readiness import ReadinessPolicy, State
from kube_test_cluster.cluster import EmulatedCluster

REPO = Path(__file__).resolve().parents[3]
CONN = "AIRFLOW_CONN_KUBERNETES_DEFAULT"


def connect(monkeypatch: pytest.MonkeyPatch, **extra: Any) -> StatefulSetHook:
    """Point the default connection at ``extra`` and build a fresh hook."""
    monkeypatch.setenv(CONN, json.dumps({"conn_type": "kubernetes", "extra": extra}))
    return StatefulSetHook()


def wait_ready(cluster: EmulatedCluster, hook: StatefulSetHook, name: str, **kw: Any) -> Any:
    """Poll the hook until the verdict is READY (bounded by the cluster's wait_for)."""
    policy = ReadinessPolicy(min_stable_seconds=kw.pop("min_stable_seconds", 5))
    last: list[Any] = []

    def ready() -> bool:
        last[:] = [hook.get_readiness(name, policy=policy, **kw)]
        return bool(last[0].state is State.READY)

    cluster.wait_for(ready, timeout=30)
    return last[0]


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmulatedCluster]:
    """One fast cluster for the read-only tests of this module."""
    with EmulatedCluster(speed=20) as running:
        running.apply_scenario("healthy")
        running.apply_scenario("healthy", namespace="shop")
        running.apply_scenario("crashloop")
        yield running


# --------------------------------------------------------------------------- connection forms


def kube_config_forms(cluster: EmulatedCluster, tmp_path: Path) -> dict[str, dict[str, Any]]:
    path = tmp_path / "kubeconfig.yaml"
    path.write_text(yaml.safe_dump(cluster.kubeconfig))
    return {
        "kube_config as a dict": {"kube_config": cluster.kubeconfig},
        "kube_config as JSON text": {"kube_config": json.dumps(cluster.kubeconfig)},
        "kube_config as YAML text": {"kube_config": yaml.safe_dump(cluster.kubeconfig)},
        "kube_config_path": {"kube_config_path": str(path)},
        "prefixed legacy extra": {"extra__kubernetes__kube_config_path": str(path)},
    }


@pytest.mark.parametrize(
    "form",
    [
        "kube_config as a dict",
        "kube_config as JSON text",
        "kube_config as YAML text",
        "kube_config_path",
        "prefixed legacy extra",
    ],
)
def test_every_connection_form_reaches_the_cluster(
    cluster: EmulatedCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    hook = connect(monkeypatch, **kube_config_forms(cluster, tmp_path)[form])
    verdict = hook.get_readiness("healthy")
    assert (verdict.kind, verdict.name, verdict.namespace) == ("StatefulSet", "healthy", "default")
    assert verdict.desired == 3
    assert hook.last_stats.server_time


def test_kubeconfig_env_var_with_no_extras(cluster: EmulatedCluster, tmp_path: Path) -> None:
    """No extras: the hook falls back to $KUBECONFIG, read when the client is imported."""
    path = tmp_path / "kubeconfig.yaml"
    path.write_text(yaml.safe_dump(cluster.kubeconfig))
    script = textwrap.dedent(
        """
        from airflow_sts_provider.hooks.statefulset import StatefulSetHook
        verdict = StatefulSetHook().get_readiness("healthy")
        print("VERDICT", verdict.kind, verdict.name, verdict.desired)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_SERVICE")}
    env.update({"KUBECONFIG": str(path), CONN: json.dumps({"conn_type": "kubernetes"})})
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert "VERDICT StatefulSet healthy 3" in result.stdout, result.stderr[-2000:]


def test_a_missing_default_connection_uses_kubeconfig_too(
    cluster: EmulatedCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``kubernetes_default`` need not exist at all, as with the cncf provider's own hook."""
    from kubernetes.config import kube_config

    path = tmp_path / "kubeconfig.yaml"
    path.write_text(yaml.safe_dump(cluster.kubeconfig))
    monkeypatch.delenv(CONN, raising=False)
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
    assert StatefulSetHook().get_readiness("healthy").desired == 3


def test_cluster_context_selects_the_context(
    cluster: EmulatedCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = json.loads(json.dumps(cluster.kubeconfig))
    context = dict(config["contexts"][0])
    context["name"] = "emulated-shop"
    context["context"] = {**context["context"], "namespace": "shop"}
    config["contexts"].append(context)
    config["contexts"][0] = {**config["contexts"][0], "name": "broken"}
    config["contexts"][0]["context"] = {**config["contexts"][0]["context"], "cluster": "nowhere"}
    config["current-context"] = "broken"
    hook = connect(monkeypatch, kube_config=config, cluster_context="emulated-shop")
    assert hook.get_readiness("healthy").desired == 3


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_an_untrusted_certificate_is_a_configuration_error_unless_verification_is_off(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    import trustme

    config = json.loads(json.dumps(cluster.kubeconfig))
    someone_else = trustme.CA().cert_pem.bytes()
    config["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(
        someone_else
    ).decode()
    hook = connect(monkeypatch, kube_config=config)
    with pytest.raises(KubernetesApiCallError, match="TLS certificate was not accepted") as info:
        hook.get_readiness("healthy")
    assert not isinstance(info.value, TransientKubernetesError)
    insecure = connect(monkeypatch, kube_config=config, disable_verify_ssl=True)
    assert insecure.get_readiness("healthy").desired == 3


def test_mutually_exclusive_options_are_refused(
    cluster: EmulatedCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig, kube_config_path="/x")
    with pytest.raises(Exception, match="mutually exclusive"):
        hook.get_readiness("healthy")


# --------------------------------------------------------------------------- namespaces


@pytest.mark.parametrize(
    ("extra_namespace", "argument", "expected"),
    [
        (None, None, "default"),
        ("shop", None, "shop"),
        ("shop", "default", "default"),
        (None, "shop", "shop"),
    ],
    ids=[
        "no argument and no extra: default",
        "the connection's namespace extra",
        "the argument wins over the extra",
        "the argument alone",
    ],
)
def test_namespace_resolution(
    cluster: EmulatedCluster,
    monkeypatch: pytest.MonkeyPatch,
    extra_namespace: str | None,
    argument: str | None,
    expected: str,
) -> None:
    extra: dict[str, Any] = {"kube_config": cluster.kubeconfig}
    if extra_namespace:
        extra["namespace"] = extra_namespace
    hook = connect(monkeypatch, **extra)
    verdict = hook.get_readiness("healthy", namespace=argument)
    assert verdict.namespace == expected
    assert verdict.desired == 3


# --------------------------------------------------------------------------- verdicts


def test_ready_after_the_stability_window_with_pod_details(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    verdict = wait_ready(cluster, hook, "healthy")
    assert (verdict.ready, verdict.desired) == (3, 3)
    assert [pod.name for pod in verdict.pods] == ["healthy-0", "healthy-1", "healthy-2"]
    assert all(pod.pod_ip and pod.node for pod in verdict.pods)
    assert hook.last_stats.requests == 2  # one GET, one LIST page


def test_not_found_is_waiting_with_the_object_named(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    verdict = hook.get_readiness("web")
    assert verdict.state is State.WAITING
    assert verdict.reason == "statefulset default/web not found"


def test_a_failing_pod_carries_its_warning_events(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    found: list[Any] = []

    def failed() -> bool:
        found[:] = [hook.get_readiness("crashloop")]
        return bool(found[0].state is State.FAILED)

    cluster.wait_for(failed, timeout=30)
    failing = [pod for pod in found[0].pods if pod.state is State.FAILED]
    assert [pod.name for pod in failing] == ["crashloop-1"]
    # A crash loop is caught in either phase: waiting in CrashLoopBackOff, or just
    # terminated (exit 1) between two back-offs; both fail fast, naming the pod.
    assert "CrashLoopBackOff" in failing[0].reason or "exit 1" in failing[0].reason
    assert "[recent events: " in failing[0].reason
    assert "crashloop-1" in found[0].reason


def test_stability_is_measured_on_the_servers_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the cluster's clock stopped, real time passing changes nothing; advancing it does."""
    with EmulatedCluster(manual_clock=True) as frozen:
        frozen.apply_scenario("healthy")
        frozen.advance(30)  # every pod created, started and Ready
        hook = connect(monkeypatch, kube_config=frozen.kubeconfig)
        policy = ReadinessPolicy(min_stable_seconds=60)
        waiting = hook.get_readiness("healthy", policy=policy)
        assert waiting.state is State.WAITING
        assert "stabilizing" in waiting.reason
        frozen.advance(120)
        assert hook.get_readiness("healthy", policy=policy).state is State.READY


# --------------------------------------------------------------------------- paging


@pytest.fixture(scope="module")
def big_cluster() -> Iterator[EmulatedCluster]:
    with EmulatedCluster(speed=20) as running:
        running.apply_scenario("big", replicas=1200)
        yield running


def test_paging_over_more_pods_than_one_page(
    big_cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect(monkeypatch, kube_config=big_cluster.kubeconfig)

    def all_listed() -> bool:
        return hook.get_readiness("big").desired == 1200 and hook.last_stats.items["pods"] == 1200

    big_cluster.wait_for(all_listed, timeout=60)
    assert hook.last_stats.pages["pods"] == 3  # 500 + 500 + 200
    assert len(hook.get_readiness("big").pods) == 1200


class ExpiresOnce(StatefulSetHook):
    """Turns continue-token expiry off after the first 410, as a compaction would."""

    cluster: EmulatedCluster

    def _get_once(self, request: Any, params: Any, clock: Any) -> Any:
        try:
            return super()._get_once(request, params, clock)
        except ContinueExpiredError:
            self.cluster.faults.set(expire_continue=False)
            raise


def test_an_expired_continue_token_restarts_the_list_once(
    big_cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        CONN,
        json.dumps({"conn_type": "kubernetes", "extra": {"kube_config": big_cluster.kubeconfig}}),
    )
    hook = ExpiresOnce()
    hook.cluster = big_cluster
    big_cluster.faults.set(expire_continue=True)
    try:
        verdict = hook.get_readiness("big")
    finally:
        big_cluster.faults.clear()
    assert len(verdict.pods) == 1200
    assert hook.last_stats.pages["pods"] == 3  # the restarted list, complete


def test_a_continue_token_that_keeps_expiring_is_transient(
    big_cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect(monkeypatch, kube_config=big_cluster.kubeconfig)
    big_cluster.faults.set(expire_continue=True)
    try:
        with pytest.raises(TransientKubernetesError, match="expired again"):
            hook.get_readiness("big")
    finally:
        big_cluster.faults.clear()


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("code", [429, 500, 503], ids=["429", "500", "503"])
def test_a_few_transient_errors_are_retried_within_the_poke(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    cluster.faults.set(fail_next=2, fail_codes=[code], retry_after=0)
    try:
        verdict = hook.get_readiness("healthy")
    finally:
        cluster.faults.clear()
    assert verdict.desired == 3


def test_an_api_server_that_keeps_failing_is_transient(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    cluster.faults.set(fail_rate=1.0, fail_codes=[503], retry_after=0)
    try:
        with pytest.raises(TransientKubernetesError, match="statefulsets default/healthy"):
            hook.get_readiness("healthy")
    finally:
        cluster.faults.clear()


def test_dropped_connections_are_transient(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    hook.transient_retries = 0
    cluster.faults.set(drop_rate=1.0)
    try:
        with pytest.raises(TransientKubernetesError):
            hook.get_readiness("healthy")
    finally:
        cluster.faults.clear()


NO_LIST_PODS = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: half-right, namespace: default}
rules:
  - apiGroups: ["apps"]
    resources: ["statefulsets"]
    verbs: ["get"]
"""


def test_a_missing_right_is_a_permission_error_pointing_to_the_rbac_docs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with EmulatedCluster(speed=20, role=NO_LIST_PODS) as locked:
        locked.apply_scenario("healthy")
        hook = connect(monkeypatch, kube_config=locked.kubeconfig)
        with pytest.raises(KubernetesPermissionError) as info:
            hook.get_readiness("healthy")
    text = str(info.value)
    assert "cannot list pods in namespace default" in text
    assert "python -m airflow_sts_provider.docs rbac" in text
    assert info.value.status == 403


def test_a_wrong_token_is_a_permission_error(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = json.loads(json.dumps(cluster.kubeconfig))
    for user in config["users"]:
        user["user"] = {"token": "not-the-token"}
    hook = connect(monkeypatch, kube_config=config)
    with pytest.raises(KubernetesPermissionError, match="not authenticated \\(401\\)"):
        hook.get_readiness("healthy")


def test_the_documented_role_is_enough_for_every_read(monkeypatch: pytest.MonkeyPatch) -> None:
    role = (REPO / "example_dags" / "k8s" / "rbac.yaml").read_text()
    with EmulatedCluster(speed=20, role=role) as locked:
        for scenario in ("healthy", "crashloop", "healthy-deployment"):
            locked.apply_scenario(scenario)
        hook = connect(monkeypatch, kube_config=locked.kubeconfig)
        wait_ready(locked, hook, "healthy")
        assert hook.get_pod_readiness("healthy-0").kind == "Pod"
        deployment = hook.get_deployment_readiness("healthy-deployment")
        assert deployment.kind == "Deployment"
        found: list[Any] = []

        def failed_with_events() -> bool:
            # FAILED comes at the first exit; the BackOff Warning a moment later
            found[:] = [hook.get_readiness("crashloop")]
            return found[0].state is State.FAILED and "[recent events: " in found[0].reason

        assert locked.wait_for(failed_with_events, timeout=30), found[0].reason


def test_credentials_never_reach_the_log(
    cluster: EmulatedCluster,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    hook.get_readiness("healthy")
    hook.get_readiness("crashloop")
    out = "".join(capfd.readouterr())
    token = cluster.kubeconfig["users"][0]["user"].get("token")
    assert token and token not in out
    assert "certificate-authority-data" not in out


def test_an_unreachable_api_server_costs_no_log_line_below_the_sensors_own(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """urllib3's own retries logged a warning each (~13 lines a poke); the policy is ours."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {"token": "a-token-long-enough-to-mask"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    hook = connect(monkeypatch, kube_config=kubeconfig)
    capfd.readouterr()
    with pytest.raises(TransientKubernetesError, match="Connection refused"):
        hook.get_readiness("web")
    out, err = capfd.readouterr()
    lines = [line for line in (out + err).splitlines() if "warning" in line.lower()]
    assert lines == []
    assert hook.last_stats.requests == 1 + hook.transient_retries  # still retried, quietly


@pytest.mark.parametrize(
    ("name", "namespace", "expected"),
    [
        (
            "slow-strat",
            "default",
            "statefulset default/slow-strat not found: did you mean `slow-start`?",
        ),
        ("web", "nowhere", "statefulset nowhere/web not found: namespace 'nowhere' does not exist"),
    ],
    ids=["a typo gets the closest names", "a namespace that does not exist is named"],
)
def test_explain_absence(
    cluster: EmulatedCluster,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    namespace: str,
    expected: str,
) -> None:
    cluster.apply_scenario("slow-start")
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    assert hook.explain_absence("StatefulSet", name, namespace) == expected


@pytest.mark.parametrize(
    ("selector", "namespace", "expected"),
    [
        (
            "app.kubernetes.io/instance=relaese",
            "default",
            "no StatefulSet/Deployment/DaemonSet matches app.kubernetes.io/instance=relaese in "
            "namespace default: did you mean `app.kubernetes.io/instance=release`?",
        ),
        (
            "app.kubernetes.io/instance=release",
            "nowhere",
            "no StatefulSet/Deployment/DaemonSet matches app.kubernetes.io/instance=release in "
            "namespace nowhere: namespace 'nowhere' does not exist",
        ),
        (
            "team=payments",
            "default",
            "no StatefulSet/Deployment/DaemonSet matches team=payments in namespace default; "
            "none of its workloads carries team",
        ),
    ],
    ids=[
        "a release selector with a typo gets the closest label",
        "a namespace that does not exist is named",
        "a label no workload carries is said so",
    ],
)
def test_explain_no_match(
    cluster: EmulatedCluster,
    monkeypatch: pytest.MonkeyPatch,
    selector: str,
    namespace: str,
    expected: str,
) -> None:
    cluster.apply_scenario("release")
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    kinds = ("StatefulSet", "Deployment", "DaemonSet")
    assert hook.explain_no_match(selector, kinds, namespace) == expected


def test_a_not_found_poke_reads_the_servers_clock_from_the_404(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    verdict = hook.get_readiness("absent")
    assert verdict.state is State.WAITING
    assert hook.last_stats.server_time is True
    out, err = capfd.readouterr()
    assert "sent no Date header" not in out + err


def test_explain_absence_says_less_when_the_identity_may_not_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    role = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: get-only, namespace: default}
rules:
  - {apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get", "watch"]}
  - {apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"]}
"""
    with EmulatedCluster(speed=20, role=role) as locked:
        hook = connect(monkeypatch, kube_config=locked.kubeconfig)
        text = hook.explain_absence("StatefulSet", "slow-strat", "default")
    assert text.startswith("statefulset default/slow-strat not found (this identity may not list")


# --------------------------------------------------------------------------- discovery


@pytest.mark.parametrize(
    ("api_version", "kind", "words"),
    [
        (
            "kafka.strimzi.io/v1beta2",
            "Kafka",
            "the API group kafka.strimzi.io/v1beta2 is not served",
        ),
        ("apps/v1", "Kafka", "apps/v1 serves no kind Kafka"),
    ],
    ids=["an operator whose CRD is not installed", "a kind its group does not have"],
)
def test_a_kind_the_cluster_does_not_serve_is_one_clear_error(
    cluster: EmulatedCluster,
    monkeypatch: pytest.MonkeyPatch,
    api_version: str,
    kind: str,
    words: str,
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    with pytest.raises(UnservedKindError) as info:
        hook.resolve_kind(ResourceSpec(api_version, kind))
    assert words in str(info.value)
    assert f"kind {kind!r} of API group {api_version!r} is not served" in str(info.value)


def test_the_plural_comes_from_discovery_once_per_hook(
    cluster: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect(monkeypatch, kube_config=cluster.kubeconfig)
    row = hook.resolve_kind(ResourceSpec("apps/v1", "DaemonSet"))
    assert row.resource.plural == "daemonsets"
    before = hook.last_stats.requests
    hook.resolve_kind(ResourceSpec("apps/v1", "DaemonSet"))
    assert hook.last_stats.requests == before  # cached: no second discovery request
