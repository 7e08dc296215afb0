"""Importing a trigger class loads no client library: the triggerer does it on its loop.

``TriggerRunner.get_trigger_by_classpath`` imports the class on the triggerer's event
loop; the hooks (the cncf hook, ``kubernetes``, ``kubernetes_asyncio``, ``aiohttp``)
cost ~0.8 s there, seconds under load, while every other trigger waits. They are
loaded by the trigger's first step, in a thread (``triggers/loading.py``).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest

from airflow_sts_provider.kinds import KINDS

HEAVY = (
    "kubernetes",
    "kubernetes_asyncio",
    "aiohttp",
    "airflow.providers.cncf.kubernetes.hooks.kubernetes",
    "airflow_sts_provider.hooks.workload",
    # and our own reads and shared informer (~45 ms): loaded with the hooks
    "airflow_sts_provider.hooks.reads",
    "airflow_sts_provider.hooks.shared",
)
TRIGGER_MODULES = sorted(
    {row.trigger.rpartition(".")[0] for row in KINDS.values()}
    | {"airflow_sts_provider.triggers.events", "airflow_sts_provider.triggers.workloads"}
)


@pytest.mark.parametrize("module", TRIGGER_MODULES)
def test_a_trigger_module_imports_no_client_library(module: str) -> None:
    code = (
        "import sys, airflow.triggers.base\n"
        f"import {module}\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_the_hooks_are_loaded_in_a_thread_not_on_the_loop() -> None:
    from airflow_sts_provider.triggers import loading

    seen: list[int] = []
    real = loading._import

    def spy() -> None:
        seen.append(threading.get_ident())
        real()

    loading._loaded.clear()
    loading._import = spy
    try:
        asyncio.run(loading.load_hooks())
    finally:
        loading._import = real
    assert seen and seen[0] != threading.get_ident()
    assert "airflow_sts_provider.hooks.workload" in sys.modules
