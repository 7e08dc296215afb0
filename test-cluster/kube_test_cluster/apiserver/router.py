"""URL -> what is being asked for: the apiserver's request-info resolver, small.

Paths follow the real layout: ``/api/v1/...`` for the core group,
``/apis/<group>/<version>/...`` for the others, ``namespaces/<ns>/`` before
namespaced resources, an optional legacy ``watch/`` segment after the version,
and ``/<name>/<subresource>`` at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kube_test_cluster.registry.store import RESOURCES, Store

#: subresources served per resource (anything else is a 404, as on a real cluster)
SUBRESOURCES: dict[str, tuple[str, ...]] = {
    "pods": ("status",),
    "statefulsets": ("status", "scale"),
    "deployments": ("status", "scale"),
    "replicasets": ("status", "scale"),
    "daemonsets": ("status",),
    "customresourcedefinitions": ("status",),
    "namespaces": ("status",),
    "nodes": ("status",),
}


#: resources served read-only: GET (get, list, watch) only, every write a 405. The
#: emulator's nodes are fixed when the cluster is made (``EmulatedCluster(nodes=...)``):
#: the scheduler, the DaemonSet controller and the kubelets would not see a change.
READ_ONLY = frozenset({"nodes"})


def subresources_of(store: Store | None) -> dict[str, tuple[str, ...]]:
    """The subresources a store serves: the built-in ones plus ``status`` of custom kinds."""
    served = dict(SUBRESOURCES)
    if store is not None:
        for plural, custom in store.custom.items():
            served[plural] = ("status",) if custom.status else ()
    return served


@dataclass(frozen=True)
class Discovery:
    """A discovery document: version, api, apis, group, resources or openapi."""

    doc: str
    group: str = ""
    version: str = ""
    path: str = ""


@dataclass(frozen=True)
class ResourceRequest:
    """A request about objects of one resource."""

    group: str
    version: str
    resource: str
    namespace: str | None  # None: all namespaces (or a cluster-scoped resource)
    name: str | None
    subresource: str | None
    legacy_watch: bool  # the deprecated /watch/ path form

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


Route = Discovery | ResourceRequest | None


Resources = Mapping[str, tuple[str, str, bool]]


def _served(group: str, version: str, resources: Resources = RESOURCES) -> dict[str, bool]:
    """Resources (plural -> namespaced) served under one group/version."""
    api_version = f"{group}/{version}" if group else version
    return {res: ns for res, (av, _, ns) in resources.items() if av == api_version}


def served_group_versions(resources: Resources = RESOURCES) -> list[tuple[str, str]]:
    """Every (group, version) with at least one resource, core first."""
    seen: list[tuple[str, str]] = []
    for api_version, _, _ in resources.values():
        group, _, version = api_version.rpartition("/")
        if (group, version) not in seen:
            seen.append((group, version))
    return sorted(seen, key=lambda gv: (gv[0] != "", gv))


def resolve(
    path: str,
    resources: Resources = RESOURCES,
    subresources: Mapping[str, tuple[str, ...]] = SUBRESOURCES,
) -> Route:
    """Map a URL path (no query string) to a route; None when nothing is served there.

    ``resources``/``subresources`` default to the built-in kinds; a store that serves
    custom resources passes its own (``Store.resources``).
    """
    parts = [p for p in path.split("/") if p]
    if parts == ["version"]:
        return Discovery("version")
    if parts == ["api"]:
        return Discovery("api")
    if parts == ["apis"]:
        return Discovery("apis")
    if parts[:2] == ["openapi", "v3"]:
        return Discovery("openapi", path=path)
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 2 and parts[0] == "apis":
        if len(parts) == 2:
            if any(g == parts[1] for g, _ in served_group_versions(resources)):
                return Discovery("group", parts[1])
            return None
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    served = _served(group, version, resources)
    if not served:
        return None
    if not rest:
        return Discovery("resources", group, version)
    legacy_watch = rest[0] == "watch"
    if legacy_watch:
        rest = rest[1:]
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces" and served.get(rest[2], False):
        namespace, rest = rest[1], rest[2:]
    if not rest or rest[0] not in served or len(rest) > 3:
        return None
    resource = rest[0]
    if served[resource] is False and namespace is not None:
        return None
    name = rest[1] if len(rest) >= 2 else None
    subresource = rest[2] if len(rest) == 3 else None
    if subresource is not None and subresource not in subresources.get(resource, ()):
        return None
    return ResourceRequest(group, version, resource, namespace, name, subresource, legacy_watch)
