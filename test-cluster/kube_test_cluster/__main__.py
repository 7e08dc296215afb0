"""``python -m kube_test_cluster``: run the test cluster from a shell.

::

    python -m kube_test_cluster serve --scenario healthy --kubeconfig-out kc
    kubectl --kubeconfig kc rollout status statefulset/healthy --timeout=30s
    python -m kube_test_cluster scenarios

``serve`` prints one line starting with ``Serving`` once the API accepts
requests, then a line whenever a scenario's workload changes its ready count,
and stops cleanly (exit 0) on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from kube_test_cluster.scenarios import EXAMPLES_DESCRIPTION, SCENARIOS, examples

if TYPE_CHECKING:
    from kube_test_cluster.cluster import EmulatedCluster

log = logging.getLogger("kube_test_cluster")

#: real seconds between two looks at the scenarios' workloads
_PROGRESS_INTERVAL = 0.5


def _parser() -> argparse.ArgumentParser:
    width = max(len(name) for name in SCENARIOS)
    listing = "\n".join(f"  {s.name:<{width}}  {s.description}" for s in SCENARIOS.values())
    listing += f"\n\n--examples: {EXAMPLES_DESCRIPTION}"
    parser = argparse.ArgumentParser(
        prog="python -m kube_test_cluster",
        description="A small, faithful Kubernetes API emulator (the test cluster).",
        epilog=f"scenarios:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the API until interrupted",
        epilog=f"scenarios:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument(
        "--scenario",
        action="append",
        default=[],
        metavar="NAME",
        help="apply a scenario at start (repeatable)",
    )
    serve.add_argument(
        "--examples",
        action="store_true",
        help="apply the example DAGs' set at start: the workloads example_dags/ wait for "
        "with their default params (kafka, postgres, model-server)",
    )
    serve.add_argument("--replicas", type=int, default=None, help="replica count for scenarios")
    serve.add_argument("--speed", type=float, default=1.0, help="emulated seconds per real second")
    serve.add_argument("--kubeconfig-out", type=Path, metavar="FILE", help="write a kubeconfig")
    serve.add_argument(
        "--airflow-env",
        type=Path,
        metavar="FILE",
        help="write `export AIRFLOW_CONN_KUBERNETES_DEFAULT=...` for this cluster (its "
        "throwaway token and CA included) to FILE, for `source FILE` before `airflow ...`",
    )
    auth = serve.add_mutually_exclusive_group()
    auth.add_argument("--token", default=None, help="bearer token (default: random)")
    auth.add_argument(
        "--no-auth",
        action="store_true",
        help="accept every request without a token (prints a warning)",
    )
    serve.add_argument("--role", type=Path, metavar="FILE", help="limit the token to this Role")
    serve.add_argument("--insecure-http", action="store_true", help="plain HTTP instead of TLS")
    serve.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the CA and its key are kept across restarts"
        " (default: $XDG_CACHE_HOME/airflow-sts-provider or ~/.cache/airflow-sts-provider)",
    )
    serve.add_argument("--latency-ms", type=float, default=0.0, metavar="MS")
    serve.add_argument("--fail-rate", type=float, default=0.0, metavar="P")
    serve.add_argument(
        "--fail-codes", default="500,503,429", metavar="CODES", help="e.g. 500,503,429"
    )
    serve.add_argument(
        "--corrupt-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="share of answers served as a 200 whose body is not a JSON object"
        " (truncated JSON, null, an HTML page, an array; a watch line likewise)",
    )
    commands.add_parser("scenarios", help="list the scenarios")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "scenarios":
        for scenario in SCENARIOS.values():
            print(f"{scenario.name}\t{scenario.description}")
        return 0
    unknown = [name for name in args.scenario if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; valid scenarios: {', '.join(SCENARIOS)}")
    try:
        codes = [int(code) for code in args.fail_codes.split(",") if code.strip()]
    except ValueError:
        parser.error(f"--fail-codes must be comma-separated HTTP codes, got {args.fail_codes!r}")
    if args.token is not None and not args.token.strip():
        print(
            "error: --token must not be empty (to turn authentication off, say --no-auth)",
            file=sys.stderr,
        )
        return 2
    if args.role is not None and not args.role.is_file():
        parser.error(f"--role: no such file: {args.role}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for noisy in (
        "kube_test_cluster.apiserver.server",
        "kube_test_cluster.controlplane",
        "kube_test_cluster.manager",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return _serve(args, codes)


def _serve(args: argparse.Namespace, codes: list[int]) -> int:
    from kube_test_cluster.apiserver.faults import Faults
    from kube_test_cluster.apiserver.tls import (
        MissingDependencyError,
        default_state_dir,
        load_or_create_ca,
    )
    from kube_test_cluster.cluster import EmulatedCluster

    try:
        faults = Faults(
            latency_ms=args.latency_ms,
            fail_rate=args.fail_rate,
            fail_codes=codes,
            corrupt_rate=args.corrupt_rate,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        ca = None
        if not args.insecure_http:
            state_dir = args.state_dir if args.state_dir is not None else default_state_dir()
            try:
                ca = load_or_create_ca(state_dir)
            except (OSError, ValueError) as error:
                print(f"error: --state-dir {state_dir}: {error}", file=sys.stderr)
                return 2
        cluster = EmulatedCluster(
            speed=args.speed,
            tls=not args.insecure_http,
            token="" if args.no_auth else args.token,
            role=args.role,
            faults=faults,
            host=args.host,
            port=args.port,
            ca=ca,
        )
    except MissingDependencyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with cluster:
        kubeconfig = cluster.kubeconfig_path
        if args.kubeconfig_out is not None:
            kubeconfig = cluster.server.write_kubeconfig(args.kubeconfig_out)
        if args.airflow_env is not None:
            _write_airflow_env(args.airflow_env, cluster.airflow_connection_json())
        watched = list(args.scenario)
        for name in args.scenario:
            cluster.apply_scenario(name, replicas=args.replicas)
        if args.examples:
            cluster.apply_examples()
            watched += [obj["metadata"]["name"] for _, obj in examples().objects]
        names = ",".join(args.scenario + (["examples"] if args.examples else [])) or "none"
        print(f"Serving {cluster.url} kubeconfig={kubeconfig} scenarios={names}", flush=True)
        _report_progress(cluster, watched, stop)
    log.info("stopped")
    return 0


def _write_airflow_env(path: Path, connection: str) -> None:
    """The connection as a shell line, readable by its owner only (it holds the token)."""
    path.write_text(f"export AIRFLOW_CONN_KUBERNETES_DEFAULT={shlex.quote(connection)}\n")
    path.chmod(0o600)


def _report_progress(cluster: EmulatedCluster, names: list[str], stop: threading.Event) -> None:
    """Log a scenario's workload whenever its ready count or revision changes."""
    last: dict[str, tuple[object, ...]] = {}
    while not stop.wait(_PROGRESS_INTERVAL):
        for name in names:
            for resource in ("statefulsets", "deployments"):
                obj = cluster.get(resource, name)
                if obj is None:
                    continue
                status = obj.get("status") or {}
                state = (
                    status.get("readyReplicas", 0),
                    obj["spec"].get("replicas", 1),
                    status.get("updateRevision"),
                    bool(obj["metadata"].get("deletionTimestamp")),
                )
                if last.get(name) != state:
                    last[name] = state
                    deleting = ", being deleted" if state[3] else ""
                    log.info("%s: %s/%s ready%s", name, state[0], state[1], deleting)


if __name__ == "__main__":
    sys.exit(main())
