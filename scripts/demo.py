"""`make demo`: the example DAG against the embedded test cluster, twice.

1. Starts the test cluster (`python -m kube_test_cluster serve`) at 10x
   speed with the `crashloop` scenario preloaded, and migrates a throwaway Airflow
   metadata DB in `.demo/airflow`.
2. Runs `airflow dags test example_statefulset_gate`: the DAG creates the
   StatefulSet `web` from `example_dags/k8s/statefulset.yaml`, and the sensor's poke
   lines move from WAITING to READY (reschedule mode, 60 s stability window).
3. Runs the same DAG against the broken `crashloop` StatefulSet: the sensor fails
   fast with the pod and the reason.

Only the sensor's lines are shown; the full logs stay in `.demo/`. Exits non-zero
if either run does not end the way it should.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".demo"
BIN = Path(sys.executable).parent
SPEED = 10.0
# What an operator wants to see of a run: the sensor's poke lines, the reschedules,
# the downstream report and the failure message. Everything else stays in the log.
SHOW = re.compile(
    r"(StatefulSet \S+: (READY|WAITING|FAILED)|^\s*\[(WAITING|FAILED)\]|"
    r"^airflow\S*AirflowFailException|^  - |^Inspect with|"
    r"Returned value was: (created|patched)|is ready \()"
)
RESCHEDULED = re.compile(r"wait_for_statefulset \S+ \[up_for_reschedule\]")
LOG_PREFIX = re.compile(r"^\S+Z \[(info|warning|error)\s*\]\s*")
LOG_SUFFIX = re.compile(r"\s+\[[\w.]+\]\s+loc=\S+.*$")


def say(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def start_cluster(kubeconfig: Path) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kube_test_cluster",
            "serve",
            "--scenario",
            "crashloop",
            "--speed",
            str(SPEED),
            "--kubeconfig-out",
            str(kubeconfig),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        if line.startswith("Serving"):
            print(f"    {line.strip()}")
            return server
    server.kill()
    raise SystemExit("the test cluster did not start within 30 s")


def airflow_env(kubeconfig: Path) -> dict[str, str]:
    home = WORK / "airflow"
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # The connection users set up in the UI, in its env-var form.
            "AIRFLOW_CONN_KUBERNETES_DEFAULT": json.dumps(
                {
                    "conn_type": "kubernetes",
                    "extra": {"kube_config_path": str(kubeconfig), "namespace": "default"},
                }
            ),
            "STS_EXAMPLE_POKE_INTERVAL": "2",
            "STS_EXAMPLE_TIMEOUT": "180",
        }
    )
    return env


def dags_test(env: dict[str, str], conf: dict[str, object], log: Path) -> int:
    """Run the example DAG once, echo the sensor's lines, return the exit code."""
    command = [
        str(BIN / "airflow"),
        "dags",
        "test",
        "example_statefulset_gate",
        "-c",
        json.dumps(conf),
    ]
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        rescheduled = False
        for line in proc.stdout:
            out.write(line)
            text = LOG_SUFFIX.sub("", LOG_PREFIX.sub("", line.rstrip()))
            if RESCHEDULED.search(line):
                if not rescheduled:
                    print("    ... up_for_reschedule: the worker slot is free until the next poke")
                rescheduled = True
            elif SHOW.search(text):
                print("    " + text.replace("Done. Returned value was: ", ""), flush=True)
                rescheduled = False
        code = proc.wait()
    print(f"    ({time.monotonic() - started:.0f} s, exit code {code}, full log: {log})")
    return code


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    kubeconfig = WORK / "kubeconfig"
    say(f"Starting the test cluster at {SPEED:g}x speed (60 s of cluster time = 6 s here)")
    server = start_cluster(kubeconfig)
    try:
        env = airflow_env(kubeconfig)
        say("Migrating a throwaway Airflow metadata DB in .demo/airflow")
        subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        say("Run 1: deploy StatefulSet 'web' and wait until it is really running")
        good = dags_test(
            env,
            {"statefulset": "web", "min_stable_seconds": 60, "apply_manifest": True},
            WORK / "run-healthy.log",
        )
        say("Run 2: wait for StatefulSet 'crashloop' (ordinal 1 crash-loops)")
        bad = dags_test(
            env,
            {"statefulset": "crashloop", "min_stable_seconds": 60, "apply_manifest": False},
            WORK / "run-crashloop.log",
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

    healthy_text = (WORK / "run-healthy.log").read_text()
    broken_text = (WORK / "run-crashloop.log").read_text()
    healthy_ok = good == 0 and "StatefulSet default/web: READY" in healthy_text
    # Between back-offs the container shows Error (P4) rather than CrashLoopBackOff (P3):
    # either way the failure must name the pod and container.
    broken_ok = (
        bad != 0
        and "AirflowFailException" in broken_text
        and "crashloop-1 container app:" in broken_text
    )
    say(
        f"healthy rollout: {'passed' if healthy_ok else 'DID NOT PASS'}; "
        f"broken rollout: {'failed fast as it should' if broken_ok else 'DID NOT FAIL FAST'}"
    )
    return 0 if healthy_ok and broken_ok else 1


if __name__ == "__main__":
    sys.exit(main())
