"""Cost of one poke's pod read: raw JSON (what the hook does) vs kubernetes model objects.

The hook reads the pod list with ``_preload_content=False`` and ``json.loads``
instead of letting the client build ``V1Pod`` objects. This measures why, in one
process, against the test cluster over real HTTPS: the baseline is the client's
usual model path, the ratio is model time / raw time for the same list.

    python benchmarks/bench_poke.py [--pods 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client, config

from airflow_sts_provider.testing.cluster import EmulatedCluster


def _best_and_median(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings), statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with EmulatedCluster(speed=1.0) as cluster:
        cluster.apply_scenario("big", replicas=args.pods)
        cluster.wait_for(
            lambda: len(cluster.store.list("pods", "default")) >= args.pods or None,
            timeout=120,
        )
        api = client.CoreV1Api(config.new_client_from_config(str(cluster.kubeconfig_path)))
        selector = "app=big"

        def raw() -> int:
            response = api.list_namespaced_pod(
                "default", label_selector=selector, _preload_content=False
            )
            return len(json.loads(response.data)["items"])

        def models() -> int:
            return len(api.list_namespaced_pod("default", label_selector=selector).items)

        count = raw()
        models()  # warm both paths (imports, connection pool) before timing
        raw_best, raw_median = _best_and_median(raw, args.repeat)
        model_best, model_median = _best_and_median(models, args.repeat)

    print(f"pods listed: {count} (one LIST, same server, same process)")
    print(f"{'path':<24}{'best s':>10}{'median s':>10}")
    print(f"{'raw JSON (the hook)':<24}{raw_best:>10.3f}{raw_median:>10.3f}")
    print(f"{'model objects':<24}{model_best:>10.3f}{model_median:>10.3f}")
    print(f"model / raw (best): {model_best / raw_best:.1f}x")


if __name__ == "__main__":
    main()
