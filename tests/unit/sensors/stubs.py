"""Stand-ins for the hook in sensor tests that build a trigger without a cluster."""

from __future__ import annotations

from typing import Any


class ConnectionStub:
    """The two hook calls a deferral makes before handing over the trigger."""

    def resolve_namespace(self, namespace: str | None) -> str:
        return namespace or "default"

    def trigger_connection_kwargs(self) -> dict[str, Any]:
        return {}
