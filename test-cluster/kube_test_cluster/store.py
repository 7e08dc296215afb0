"""Old path of :mod:`kube_test_cluster.registry.store` (a short path, documented)."""

from kube_test_cluster.registry.store import (
    RESOURCES,
    Change,
    Gone,
    Obj,
    Store,
    StoreError,
)

__all__ = ["RESOURCES", "Change", "Gone", "Obj", "Store", "StoreError"]
