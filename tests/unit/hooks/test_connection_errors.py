"""Connection mistakes: one line naming the connection, the field and the fix."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_sts_provider.exceptions import ConnectionConfigError
from airflow_sts_provider.hooks.statefulset import StatefulSetHook


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            {"kube_config_path": "/nope/kubeconfig"},
            ("connection 'k8s_bad'", "kube_config_path '/nope/kubeconfig' is not a file"),
        ),
        (
            {"kube_config": "this: is: not: yaml: ["},
            ("connection 'k8s_bad'", "kube_config extra is not a usable kubeconfig"),
        ),
        (
            {"kube_config": "apiVersion: v1\nkind: Config\n"},
            ("connection 'k8s_bad'", "kube_config extra is not a usable kubeconfig"),
        ),
    ],
    ids=[
        "a kubeconfig path that does not exist names the path",
        "an inline kubeconfig that does not parse names the field",
        "an inline kubeconfig without a context names the field, not a temp file",
    ],
)
def test_a_misconfigured_connection_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any], words: tuple[str, ...]
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_K8S_BAD", json.dumps({"conn_type": "kubernetes", "extra": extra})
    )
    with pytest.raises(ConnectionConfigError) as info:
        StatefulSetHook(kubernetes_conn_id="k8s_bad").get_readiness("web")
    text = str(info.value)
    for word in words:
        assert word in text
    assert "/tmp/" not in text
    assert "\n" not in text


def test_an_unknown_connection_id_says_how_to_create_it() -> None:
    with pytest.raises(ConnectionConfigError) as info:
        StatefulSetHook(kubernetes_conn_id="k8s_missing").get_readiness("web")
    assert "connection 'k8s_missing' does not exist" in str(info.value)
    assert "AIRFLOW_CONN_K8S_MISSING" in str(info.value)
