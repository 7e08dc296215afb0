"""Paged LISTs (``limit``/``continue``), the same for the sync and the async hook.

Pages are taken one at a time: each is decoded (slim, :mod:`~airflow_sts_provider.hooks.decode`)
before the next one's bytes are, so a poke holds one page of bytes (two while the
next is on its way), never the whole list's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from airflow_sts_provider.exceptions import KubernetesApiCallError, TransientKubernetesError
from airflow_sts_provider.hooks.wire import JsonObject

#: Page size of every LIST: the API server's own recommendation for large lists.
PAGE_LIMIT: Final = 500


@dataclass
class Pager:
    """Collects the items of a paged LIST; restarts once when a continue token expires.

    Usage, transport-independent::

        pager = Pager()
        while not pager.done:
            try:
                page = fetch(**pager.params())
            except ContinueExpiredError as exc:
                pager.restart(exc)
                continue
            pager.add(page)
    """

    limit: int = PAGE_LIMIT
    #: Keep the items (False: they went elsewhere page by page; only counted).
    keep: bool = True
    items: list[JsonObject] = field(default_factory=list)
    count: int = 0
    resource_version: str | None = None
    pages: int = 0
    restarts: int = 0
    _continue: str | None = None
    _started: bool = False

    @property
    def done(self) -> bool:
        """True once a page came back without a ``continue`` token."""
        return self._started and not self._continue

    @property
    def continue_token(self) -> str | None:
        """The token of the next page, if any (a 410 only means "expired" when one was sent)."""
        return self._continue

    def params(self) -> dict[str, Any]:
        """Query parameters of the next page, named as the API names them."""
        params: dict[str, Any] = {"limit": self.limit}
        if self._continue:
            params["continue"] = self._continue
        return params

    def add(self, page: Mapping[str, Any]) -> None:
        """Take one page; its ``metadata.continue`` says whether another one follows."""
        self._started = True
        self.pages += 1
        items = page.get("items") or ()
        self.count += len(items) if isinstance(items, list) else 0
        if self.keep:
            self.items.extend(items)
        meta = page.get("metadata") or {}
        self._continue = meta.get("continue") or None
        if self.resource_version is None:  # every page of one list shares its snapshot
            self.resource_version = meta.get("resourceVersion") or None

    def restart(self, exc: KubernetesApiCallError) -> None:
        """Start the LIST again from the first page; a second expiry is transient."""
        if self.restarts >= 1:
            raise TransientKubernetesError(
                f"{exc}; it expired again after a restart",
                verb=exc.verb,
                resource=exc.resource,
                namespace=exc.namespace,
                status=exc.status,
            ) from exc
        self.restarts += 1
        self.pages = 0
        self.count = 0
        self.items = []
        self.resource_version = None
        self._continue = None
        self._started = False


def next_page_params(params: Mapping[str, Any], token: str) -> dict[str, Any]:
    """The query of the page after one asked with ``params``, given that page's token.

    What :func:`~airflow_sts_provider.hooks.reads.list_plan` will ask next, guessed
    so the hooks can start the request while this page is decoded; they compare the
    guess with the plan's actual next read, so the plan stays the one authority.
    """
    return {**params, "continue": token}
