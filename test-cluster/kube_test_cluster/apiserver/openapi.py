"""A minimal OpenAPI v3 index, just enough for ``kubectl apply -f`` / ``create -f``.

kubectl validates manifests by default (``--validate=strict``). It first asks
``/openapi/v3`` whether the server does field validation itself, by looking
for a ``fieldValidation`` query parameter on each kind's PATCH operation; if
the answer is yes it leaves validation to the server. Without this index it
falls back to client-side validation, which needs the full ``/openapi/v2``
schema, and fails with "failed to download openapi". The documents below carry
paths and parameters only, no schemas; PATCH operations deliberately declare no
request body, so ``kubectl apply`` computes its strategic merge patch from its
built-in types rather than from (missing) OpenAPI schemas.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kube_test_cluster.apiserver.discovery import GIT_VERSION
from kube_test_cluster.apiserver.router import Resources, served_group_versions
from kube_test_cluster.registry.store import RESOURCES

Obj = dict[str, Any]

_QUERY = [
    {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
    for name in ("dryRun", "fieldManager", "fieldValidation")
]


def _prefix(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def group_version_doc(group: str, version: str, resources: Resources = RESOURCES) -> Obj:
    """The OpenAPI v3 document of one group/version: paths with operations, no schemas."""
    api_version = f"{group}/{version}" if group else version
    paths: Obj = {}
    for plural, (resource_api_version, kind, namespaced) in sorted(resources.items()):
        if resource_api_version != api_version:
            continue
        gvk = {"group": group, "version": version, "kind": kind}
        base = f"/{_prefix(group, version)}"
        collection = (
            f"{base}/namespaces/{{namespace}}/{plural}" if namespaced else f"{base}/{plural}"
        )

        def operation(action: str, plural: str = plural, gvk: Obj = gvk) -> Obj:
            return {
                "operationId": f"{action}{plural}",
                "parameters": list(_QUERY),
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
            }

        paths[collection] = {"get": operation("list"), "post": operation("post")}
        paths[f"{collection}/{{name}}"] = {
            "get": operation("get"),
            "put": operation("put"),
            "patch": operation("patch"),
            "delete": operation("delete"),
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": paths,
        "components": {"schemas": {}},
    }


def _hash(doc: Obj) -> str:
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()


def index(resources: Resources = RESOURCES) -> Obj:
    """``/openapi/v3``: where each group/version's document lives."""
    paths: Obj = {}
    for group, version in served_group_versions(resources):
        prefix = _prefix(group, version)
        digest = _hash(group_version_doc(group, version, resources))
        paths[prefix] = {"serverRelativeURL": f"/openapi/v3/{prefix}?hash={digest}"}
    return {"paths": paths}


def document(path: str, resources: Resources = RESOURCES) -> Obj | None:
    """The document served at ``/openapi/v3/<prefix>``, or None when there is none."""
    prefix = path.removeprefix("/openapi/v3/").strip("/")
    for group, version in served_group_versions(resources):
        if prefix == _prefix(group, version):
            return group_version_doc(group, version, resources)
    return None
