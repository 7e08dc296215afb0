"""Discovery documents: what kubectl reads before it can map ``sts`` to a URL.

Only the legacy (non-aggregated) documents are served: kubectl asks for the
aggregated ``apidiscovery.k8s.io/v2`` form first, sees a plain
``application/json`` answer and falls back, exactly as against an older server.
``/openapi/*`` is a 404, which makes kubectl skip client-side validation.
"""

from __future__ import annotations

from typing import Any

from kube_test_cluster.apiserver.router import (
    READ_ONLY,
    served_group_versions,
    subresources_of,
)
from kube_test_cluster.registry.store import RESOURCES, Store

Obj = dict[str, Any]

GIT_VERSION = "v1.32.4"

SHORT_NAMES: dict[str, list[str]] = {
    "pods": ["po"],
    "statefulsets": ["sts"],
    "deployments": ["deploy"],
    "replicasets": ["rs"],
    "daemonsets": ["ds"],
    "events": ["ev"],
    "namespaces": ["ns"],
    "nodes": ["no"],
    "customresourcedefinitions": ["crd", "crds"],
}

CATEGORIES: dict[str, list[str]] = {
    "pods": ["all"],
    "statefulsets": ["all"],
    "deployments": ["all"],
    "replicasets": ["all"],
    "daemonsets": ["all"],
}

_VERBS_NAMESPACED = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
]
_VERBS_SUBRESOURCE = ["get", "patch", "update"]
#: resources the emulator serves read-only (its nodes are fixed when the cluster is made)
_VERBS_READ_ONLY = ["get", "list", "watch"]


def version() -> Obj:
    return {
        "major": "1",
        "minor": GIT_VERSION.split(".")[1],
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-04-22T00:00:00Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> Obj:
    """``/api``: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(group: str, store: Store | None = None) -> Obj:
    resources = store.resources if store is not None else RESOURCES
    versions = [v for g, v in served_group_versions(resources) if g == group]
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(store: Store | None = None) -> Obj:
    """``/apis``: every named group (a store's custom groups included)."""
    resources = store.resources if store is not None else RESOURCES
    groups = sorted({g for g, _ in served_group_versions(resources) if g})
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(g, store) for g in groups],
    }


def api_group(group: str, store: Store | None = None) -> Obj:
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, store)}


def _singular(kind: str) -> str:
    return kind.lower()


def api_resource_list(group: str, version: str, store: Store | None = None) -> Obj:
    """``/api/v1``, ``/apis/apps/v1``: resources with verbs, short names and subresources."""
    group_version = f"{group}/{version}" if group else version
    resources: list[Obj] = []
    resources_map = store.resources if store is not None else RESOURCES
    custom = store.custom if store is not None else {}
    subresources = subresources_of(store)
    for plural, (api_version, kind, namespaced) in sorted(resources_map.items()):
        if api_version != group_version:
            continue
        served = custom.get(plural)
        if plural in READ_ONLY:
            verbs = list(_VERBS_READ_ONLY)
        elif plural == "namespaces":
            verbs = [v for v in _VERBS_NAMESPACED if v != "deletecollection"]
        else:
            verbs = list(_VERBS_NAMESPACED)
        entry: Obj = {
            "name": plural,
            "singularName": served.singular if served else _singular(kind),
            "namespaced": namespaced,
            "kind": kind,
            "verbs": verbs,
        }
        if served is not None:
            if served.short_names:
                entry["shortNames"] = list(served.short_names)
            if served.categories:
                entry["categories"] = list(served.categories)
        if plural in SHORT_NAMES and served is None:
            entry["shortNames"] = SHORT_NAMES[plural]
        if plural in CATEGORIES and served is None:
            entry["categories"] = CATEGORIES[plural]
        resources.append(entry)
        for sub in subresources.get(plural, ()):
            sub_entry: Obj = {
                "name": f"{plural}/{sub}",
                "singularName": "",
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["get"] if plural in READ_ONLY else list(_VERBS_SUBRESOURCE),
            }
            if sub == "scale":
                sub_entry.update(group="autoscaling", version="v1", kind="Scale")
            resources.append(sub_entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
