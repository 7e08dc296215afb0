"""The test cluster's bring-up cost per pod: does it stay linear in the pods?

Creates the ``big`` scenario with 1,000 and 4,000 replicas on a held clock and runs
every pod to Ready, timing wall and CPU seconds in this process; linear is a ratio
near 4. It used to be a test; under two busy loops its ratio moved from ~4.4 to
6.4-6.8 (wall and CPU alike: the control plane's threads do more passes when the
wall clock stretches), so it is measured here instead. The work that did grow with
the pods before (deep copies, sorting) is counted in
``test-cluster/tests/kube_test_cluster_tests/test_scale.py``.

    python benchmarks/bench_bringup.py [--small 1000] [--large 4000]
"""

from __future__ import annotations

import argparse
import time

from kube_test_cluster.cluster import EmulatedCluster


def bring_up(replicas: int) -> tuple[float, float]:
    """(wall, CPU) seconds to create ``big`` with ``replicas`` pods and run them to Ready."""
    with EmulatedCluster(manual_clock=True, tls=False) as cluster:
        wall, cpu = time.perf_counter(), time.process_time()
        cluster.apply_scenario("big", replicas=replicas)
        cluster.advance(5)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sts = cluster.get("statefulsets", "big")
        assert sts is not None and sts["status"].get("readyReplicas") == replicas
        return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=4000)
    args = parser.parse_args()
    bring_up(100)  # imports and caches
    small = min(bring_up(args.small) for _ in range(2))
    large = bring_up(args.large)
    for label, index in (("wall", 0), ("CPU", 1)):
        ratio = large[index] / small[index]
        print(
            f"{label:4}: {args.small:,} pods {small[index]:.2f} s, {args.large:,} pods "
            f"{large[index]:.2f} s: x{ratio:.2f} (linear: x{args.large / args.small:g})"
        )


if __name__ == "__main__":
    main()
