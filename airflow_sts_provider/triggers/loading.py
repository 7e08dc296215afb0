"""The client libraries, imported off the triggerer's event loop.

The triggerer imports a trigger's class on its event loop when the trigger first
arrives (``TriggerRunner.get_trigger_by_classpath``). The hooks pull in the cncf
provider's hook, ``kubernetes``, ``kubernetes_asyncio`` and ``aiohttp`` (~0.8 s on a
quiet machine, seconds on a loaded one): done there, every other trigger of the
triggerer waits that long. So the trigger modules import no hook at module level (nor
the reads and the shared informer, ~45 ms of our own),
and a trigger's first step loads them in a thread: module code gives up the GIL every
switch interval, so the loop runs meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading

__all__ = ["load_hooks"]

#: What the triggers need before they make a hook.
_MODULES = (
    "airflow_sts_provider.hooks.workload",
    "airflow_sts_provider.hooks.informer",
    "airflow_sts_provider.hooks.shared",
)
#: What Airflow imports on first use of a connection in async code (its task SDK's
#: supervisor, ~40 ms): loaded here too where this Airflow has it.
_AIRFLOW_FIRST_USE = ("airflow.sdk.execution_time.supervisor",)
_loaded = threading.Event()


def _import() -> None:
    for module in _MODULES:
        importlib.import_module(module)  # concurrent callers wait on the import lock, here
    for module in _AIRFLOW_FIRST_USE:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    _loaded.set()


async def load_hooks() -> None:
    """Import the hooks in a thread once per process; at once when they are loaded.

    A module in ``sys.modules`` may still be running its code in another thread, and
    importing it on the loop would wait on its lock: only a finished import counts.
    """
    if not _loaded.is_set():
        await asyncio.to_thread(_import)
