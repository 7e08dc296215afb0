"""What the hooks tell a worker's supervisor about their credentials (issue 15 §2 item 9).

On a worker the task log is redacted by the supervisor, which learns a secret only from
a ``MaskSecret`` request; at DEBUG, ``dag.test()`` printed each such request, secret
included (``tests/airflow/test_secrets_at_debug.py`` runs that). Here a recording
stand-in for the task process's comms collects every ``MaskSecret`` a hook's connection
causes, Airflow's own (the connection's extra) and the provider's, and a masker fed
with exactly those plays the supervisor. Two things must hold for every credential
style:

* the supervisor can still hide the token and, when the connection carries it, the
  client key: the task log stays redacted;
* the provider sends no value Airflow has already sent: a ``token`` under a
  ``kube_config`` JSON object is masked by Airflow itself (a sensitive key name), so
  the provider does not send it again (it used to, three times: ``Bearer <token>``,
  the token from the client, the token from the kubeconfig).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_sts_provider.hooks.workload import AsyncWorkloadHook, WorkloadHook
from kube_test_cluster.cluster import EmulatedCluster

CONN_ID = "sts_secrets_test"
CONN_ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"


# --------------------------------------------------------------------------- credentials


def client_key_pair() -> tuple[str, str, tuple[str, ...]]:
    """A client certificate and key: base64 cert data, base64 key data, the key's PEM lines.

    The test cluster does not ask for a client certificate, so the client loads the
    pair (as it would for a cluster that does) and authenticates with the token.
    """
    import trustme

    leaf = trustme.CA().issue_cert("sts-debug-client")
    cert = leaf.cert_chain_pems[0].bytes()
    key = leaf.private_key_pem.bytes()
    lines = tuple(line for line in key.decode().splitlines() if len(line) >= 32)
    return base64.b64encode(cert).decode(), base64.b64encode(key).decode(), lines


def exec_user(token_file: Path) -> dict[str, Any]:
    """A kubeconfig user whose token comes from an exec plugin (here: reading a file)."""
    script = (
        "import json, sys; print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1',"
        " 'kind': 'ExecCredential', 'status': {'token': open(sys.argv[1]).read().strip()}}))"
    )
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": ["-c", script, str(token_file)],
        }
    }


def with_user(kubeconfig: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    """``kubeconfig`` (a copy) whose one user is ``user``."""
    config: dict[str, Any] = json.loads(json.dumps(kubeconfig))
    config["users"][0]["user"] = user
    return config


def connection(**extra: Any) -> str:
    return json.dumps({"conn_type": "kubernetes", "extra": extra})


# --------------------------------------------------------------------------- the supervisor


class RecordingComms:
    """A worker task process's comms, as far as masking goes: every request, recorded."""

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, msg: Any) -> None:
        self.sent.append(msg)

    async def asend(self, msg: Any) -> None:
        self.sent.append(msg)

    def masked(self) -> list[tuple[Any, str | None]]:
        return [(m.value, m.name) for m in self.sent if type(m).__name__ == "MaskSecret"]

    def supervisor_masker(self) -> Any:
        """A masker configured as Airflow configures one, fed with what was sent."""
        from airflow.sdk._shared.secrets_masker import DEFAULT_SENSITIVE_FIELDS
        from airflow.sdk._shared.secrets_masker.secrets_masker import SecretsMasker

        masker = SecretsMasker()  # type: ignore[no-untyped-call]
        masker.sensitive_variables_fields = list(DEFAULT_SENSITIVE_FIELDS)
        for value, name in self.masked():
            masker.add_mask(value, name)
        return masker


@pytest.fixture
def comms(monkeypatch: pytest.MonkeyPatch) -> RecordingComms:
    from airflow.sdk.execution_time import task_runner

    recorder = RecordingComms()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", recorder, raising=False)
    return recorder


@dataclass(frozen=True)
class World:
    """One test's cluster credentials and, per style, the connection that holds them."""

    token: str
    key_data: str
    connections: dict[str, str]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A cluster and a client key of the test's own: this process's masker outlives a test."""
    cert_data, key_data, _ = client_key_pair()
    with EmulatedCluster(speed=20) as cluster:
        cluster.apply_scenario("healthy")
        token = str(cluster.token)
        full = with_user(
            cluster.kubeconfig,
            {"token": token, "client-certificate-data": cert_data, "client-key-data": key_data},
        )
        config_file = tmp_path / "kubeconfig"
        config_file.write_text(yaml.safe_dump(full))
        token_file = tmp_path / "token"
        token_file.write_text(token)
        by_exec = with_user(
            cluster.kubeconfig,
            {"client-certificate-data": cert_data, "client-key-data": key_data}
            | exec_user(token_file),
        )
        yield World(
            token,
            key_data,
            {
                "inline-object": connection(kube_config=full),
                "inline-string": connection(kube_config=json.dumps(full)),
                "kube_config_path": connection(kube_config_path=str(config_file)),
                "exec-plugin": connection(kube_config=by_exec),
            },
        )


STYLES = ["inline-object", "inline-string", "kube_config_path", "exec-plugin"]
#: Where the connection itself holds the client key (a kubeconfig *file*'s key is not read).
KEY_IN_CONNECTION = {"inline-object", "inline-string", "exec-plugin"}


def sent_by_the_provider(comms: RecordingComms, token: str) -> list[Any]:
    """The ``MaskSecret`` values that are the token alone or its header (never Airflow's)."""
    return [value for value, _ in comms.masked() if value in (token, f"Bearer {token}")]


# --------------------------------------------------------------------------- the sync hook


@pytest.mark.parametrize("style", STYLES)
def test_the_supervisor_learns_every_credential_and_nothing_twice(
    style: str, world: World, comms: RecordingComms, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = world.token
    monkeypatch.setenv(CONN_ENV, world.connections[style])
    hook = WorkloadHook(kubernetes_conn_id=CONN_ID)
    assert hook.get_workload_readiness("StatefulSet", "healthy").kind == "StatefulSet"

    supervisor = comms.supervisor_masker()
    assert supervisor.redact(token) == "***"
    assert token not in supervisor.redact(f"Authorization: Bearer {token}")
    if style in KEY_IN_CONNECTION:
        assert supervisor.redact(world.key_data) == "***"
    # Airflow already sent the token of a kube_config object (key "token"); elsewhere the
    # provider sends it once, never its "Bearer" header too.
    expected = [] if style == "inline-object" else [token]
    assert sent_by_the_provider(comms, token) == expected


def test_a_second_hook_on_the_same_connection_sends_nothing_new(
    world: World, comms: RecordingComms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sensor pokes with a new hook each time: what one poke registered stays registered."""
    token = world.token
    monkeypatch.setenv(CONN_ENV, world.connections["kube_config_path"])
    WorkloadHook(kubernetes_conn_id=CONN_ID).api_client  # noqa: B018
    first = len(sent_by_the_provider(comms, token))
    WorkloadHook(kubernetes_conn_id=CONN_ID).api_client  # noqa: B018
    assert (first, len(sent_by_the_provider(comms, token))) == (1, 1)


# --------------------------------------------------------------------------- the async hook


@pytest.mark.parametrize("style", STYLES)
def test_the_async_hook_registers_what_it_loaded_once(
    style: str, world: World, comms: RecordingComms, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = world.token
    monkeypatch.setenv(CONN_ENV, world.connections[style])

    async def read() -> None:
        hook = AsyncWorkloadHook(kubernetes_conn_id=CONN_ID)
        async with hook.session() as api:
            picture, _ = await api.read_picture("StatefulSet", "healthy", "default")
            assert picture.workload is not None

    asyncio.run(read())
    supervisor = comms.supervisor_masker()
    assert supervisor.redact(token) == "***"
    if style in KEY_IN_CONNECTION:  # the triggerer masks the inline client key too
        assert supervisor.redact(world.key_data) == "***"
    expected = [] if style == "inline-object" else [token]
    assert sent_by_the_provider(comms, token) == expected
