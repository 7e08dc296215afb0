"""Old path of :mod:`airflow_sts_provider.testing.registry.store` (documented, kept)."""

from airflow_sts_provider.testing.registry.store import (
    RESOURCES,
    Change,
    Gone,
    Obj,
    Store,
    StoreError,
)

__all__ = ["RESOURCES", "Change", "Gone", "Obj", "Store", "StoreError"]
