"""At DEBUG, ``dag.test()`` prints no credential the provider handles (issue 15 §2 item 9).

Under ``dag.test()`` (and ``airflow dags test``) the task's supervisor runs in the same
process, and its comms log every request at DEBUG with its body
(``InProcessSupervisorComms.send``): each ``MaskSecret`` the provider sent printed the
secret it was meant to hide, 2-12 lines a run. Here a sensor DAG runs against the
test cluster at DEBUG, once per way of giving the connection its credentials, with a
client certificate and key next to the token, and no line may print the token or the
key.

One exception, which the provider cannot change: when the credentials are *in* the
connection (an inline ``kube_config``), Airflow itself masks the connection's extra
through the same comms, so its own ``MaskSecret(value=<the extra>)`` lines print the
whole extra. Those lines are recognised by their value (the extra, starting with
``kube_config``) and allowed; every other line is not.

DEBUG must be set before Airflow configures its logging, so the runs happen in one
child process over the session's metadata DB, each style in turn. ``KUBECONFIG`` is
set for the whole child (the kubernetes client reads it once, at import), as on a
worker that has one: only the connection without a cluster configuration uses it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from kube_test_cluster.cluster import EmulatedCluster
from tests.integration.hooks.test_secrets_at_debug import (
    client_key_pair,
    connection,
    exec_user,
    with_user,
)

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.usefixtures("airflow_db"), pytest.mark.timeout(600)]

#: Airflow's own echo of the connection's extra: ``MaskSecret(value={'kube_config': ...``
#: (``extra_dejson``) or ``MaskSecret(value='{"kube_config": ...`` (the extra string).
AIRFLOW_OWN_ECHO = re.compile(r"MaskSecret\(value=(\{'kube_config'|'\{\"kube_config\")")

#: The child: DEBUG first, then Airflow; one fresh DagBag and ``dag.test()`` per style.
CHILD = """
import json, os, sys
import tests.airflow_env  # the session's AIRFLOW_HOME and DB (STS_TEST_AIRFLOW_HOME)
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "DEBUG"
from tests.airflow.runs import load_dag
for style, conn in json.loads(os.environ.pop("STS_DEBUG_STYLES")).items():
    os.environ["AIRFLOW_CONN_KUBERNETES_DEFAULT"] = conn
    print(f"@@@ begin {style}", flush=True)
    run = load_dag("sts_gate").test(run_conf={"name": "healthy", "min_stable_seconds": 1})
    print(f"@@@ end {style} {run.state}", flush=True)
"""


@dataclass(frozen=True)
class Credentials:
    """What must never be printed: the token and the client key (as data and as PEM lines)."""

    token: str
    key_data: str
    key_lines: tuple[str, ...]

    def found_in(self, line: str) -> list[str]:
        names = [("token", self.token), ("client-key-data", self.key_data)]
        names += [("client key PEM line", part) for part in self.key_lines]
        return [name for name, secret in names if secret in line]


@dataclass(frozen=True)
class Setup:
    credentials: Credentials
    #: style -> the ``kubernetes_default`` connection (JSON)
    styles: dict[str, str]
    kubeconfig_file: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmulatedCluster, Setup]]:
    """The cluster, the credentials, each style's connection, and the KUBECONFIG file."""
    home = tmp_path_factory.mktemp("secrets-at-debug")
    cert_data, key_data, key_lines = client_key_pair()
    with EmulatedCluster(speed=20) as cluster:
        cluster.apply_scenario("healthy")
        token = cluster.token
        assert token
        full = with_user(
            cluster.kubeconfig,
            {"token": token, "client-certificate-data": cert_data, "client-key-data": key_data},
        )
        config_file = home / "kubeconfig"
        config_file.write_text(yaml.safe_dump(full))
        token_file = home / "token"
        token_file.write_text(token)
        by_exec = with_user(
            cluster.kubeconfig,
            {"client-certificate-data": cert_data, "client-key-data": key_data}
            | exec_user(token_file),
        )
        styles = {
            "inline kube_config (JSON object)": connection(kube_config=full, namespace="default"),
            "inline kube_config (string, as the connection form stores it)": connection(
                kube_config=json.dumps(full)
            ),
            "kube_config_path": connection(kube_config_path=str(config_file)),
            "KUBECONFIG (no cluster configuration in the connection)": connection(
                namespace="default"
            ),
            "exec plugin": connection(kube_config=by_exec),
        }
        yield cluster, Setup(Credentials(token, key_data, key_lines), styles, config_file)


@pytest.fixture(scope="module")
def outputs(setup: tuple[EmulatedCluster, Setup]) -> dict[str, tuple[str, str]]:
    """Each style's (run state, DEBUG output), from one child process."""
    _, prepared = setup
    env = {
        **os.environ,
        "STS_DEBUG_STYLES": json.dumps(prepared.styles),
        "KUBECONFIG": str(prepared.kubeconfig_file),
        "PYTHONUNBUFFERED": "1",
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=540,
        check=False,
    )
    found: dict[str, tuple[str, str]] = {}
    sections = re.split(r"^@@@ begin (.+)$", child.stdout, flags=re.MULTILINE)
    for style, body in zip(sections[1::2], sections[2::2], strict=True):
        ended = re.search(rf"^@@@ end {re.escape(style)} (\S+)$", body, flags=re.MULTILINE)
        found[style] = (ended.group(1) if ended else "crashed", body)
    assert child.returncode == 0 and set(found) == set(prepared.styles), child.stdout[-6000:]
    return found


STYLES = [
    "inline kube_config (JSON object)",
    "inline kube_config (string, as the connection form stores it)",
    "kube_config_path",
    "KUBECONFIG (no cluster configuration in the connection)",
    "exec plugin",
]


@pytest.mark.parametrize("style", STYLES)
def test_no_debug_line_prints_the_token_or_the_client_key(
    style: str,
    setup: tuple[EmulatedCluster, Setup],
    outputs: dict[str, tuple[str, str]],
) -> None:
    _, prepared = setup
    state, output = outputs[style]
    assert state == "success", output[-6000:]  # authenticated: the run used the credentials
    assert "[debug" in output  # the run really logged at DEBUG
    leaks = [
        f"{', '.join(names)}: {line[:160]}"
        for line in output.splitlines()
        if (names := prepared.credentials.found_in(line)) and not AIRFLOW_OWN_ECHO.search(line)
    ]
    assert leaks == [], "\n".join(leaks)


@pytest.mark.parametrize(
    "style",
    [
        "kube_config_path",
        "KUBECONFIG (no cluster configuration in the connection)",
        "exec plugin",
    ],
)
def test_credentials_outside_the_connection_appear_nowhere_at_all(
    style: str,
    setup: tuple[EmulatedCluster, Setup],
    outputs: dict[str, tuple[str, str]],
) -> None:
    """No exception needed: Airflow's own echo holds the extra, which holds no secret here."""
    _, prepared = setup
    _, output = outputs[style]
    token = prepared.credentials.token
    assert [line[:160] for line in output.splitlines() if token in line] == []
