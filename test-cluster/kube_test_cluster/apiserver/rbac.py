"""Simple RBAC: authorize requests against real ``Role`` / ``ClusterRole`` manifests.

A provider's documentation promises "these permissions are enough"; loading the
very manifest it ships and denying everything else proves it. Rules match as in
the RBAC authorizer: ``apiGroups``, ``resources`` (``statefulsets/scale`` style
subresources, ``*`` and ``*/scale`` wildcards), ``verbs`` and ``resourceNames``.

Scope: every Role and ClusterRole in the manifest is granted to the one user
the emulator authenticates (the bearer token names no one). A namespaced
``Role`` only grants inside its ``metadata.namespace`` (in every namespace when it
has none), never at the cluster scope: not cluster-scoped resources such as
``nodes``, nor a list across all namespaces. A ``ClusterRole`` grants in every
namespace and at the cluster scope (``nodes`` need one).
Bindings are used only to name that user: the first ServiceAccount or User
subject of a RoleBinding/ClusterRoleBinding, unless ``user`` is given.
Discovery paths are always allowed (``system:discovery`` in a real cluster).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kube_test_cluster.registry.status import ApiError, details, qualified

Obj = dict[str, Any]

DEFAULT_USER = "system:serviceaccount:airflow:airflow-worker"


@dataclass(frozen=True)
class Attributes:
    """What is asked, in the apiserver authorizer's terms (``authorizer.Attributes``)."""

    verb: str
    group: str
    resource: str
    subresource: str | None = None
    namespace: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Rule:
    api_groups: frozenset[str]
    resources: frozenset[str]
    verbs: frozenset[str]
    resource_names: frozenset[str]
    namespace: str | None  # None: any namespace
    cluster: bool = False  # a ClusterRole's rule: also at the cluster scope

    def allows(self, asked: Attributes) -> bool:
        if asked.namespace is None and not self.cluster:
            return False  # a Role's rules apply inside a namespace only
        if self.namespace is not None and asked.namespace != self.namespace:
            return False
        if "*" not in self.verbs and asked.verb not in self.verbs:
            return False
        if "*" not in self.api_groups and asked.group not in self.api_groups:
            return False
        sub = asked.subresource
        full = f"{asked.resource}/{sub}" if sub else asked.resource
        if not (
            "*" in self.resources
            or full in self.resources
            or (sub is not None and f"*/{sub}" in self.resources)
        ):
            return False
        # resourceNames never match a request without a name (list, watch, create)
        return not self.resource_names or (
            asked.name is not None and asked.name in self.resource_names
        )


@dataclass(frozen=True)
class Authorizer:
    """Allow-list of rules for one user; :meth:`check` raises the apiserver's 403."""

    rules: tuple[Rule, ...]
    user: str = DEFAULT_USER

    @classmethod
    def from_manifest(
        cls,
        manifest: str | Path | Mapping[str, Any] | Iterable[Mapping[str, Any]],
        *,
        user: str | None = None,
    ) -> Authorizer:
        """Load Roles/ClusterRoles from a YAML file path, a YAML string, or parsed documents."""
        docs = _documents(manifest)
        rules: list[Rule] = []
        subject_user: str | None = None
        for doc in docs:
            kind = doc.get("kind")
            if kind in ("Role", "ClusterRole"):
                namespace = doc.get("metadata", {}).get("namespace") if kind == "Role" else None
                for rule in doc.get("rules") or []:
                    if rule.get("nonResourceURLs"):
                        continue
                    rules.append(
                        Rule(
                            api_groups=frozenset(rule.get("apiGroups") or []),
                            resources=frozenset(rule.get("resources") or []),
                            verbs=frozenset(rule.get("verbs") or []),
                            resource_names=frozenset(rule.get("resourceNames") or []),
                            namespace=namespace,
                            cluster=kind == "ClusterRole",
                        )
                    )
            elif kind in ("RoleBinding", "ClusterRoleBinding") and subject_user is None:
                subject_user = _subject_user(doc)
        if not any(d.get("kind") in ("Role", "ClusterRole") for d in docs):
            raise ValueError("the manifest holds no Role or ClusterRole")
        return cls(tuple(rules), user or subject_user or DEFAULT_USER)

    def allows(self, asked: Attributes) -> bool:
        return any(rule.allows(asked) for rule in self.rules)

    def check(self, asked: Attributes) -> None:
        """Raise a 403 ``Forbidden`` worded exactly like the apiserver's."""
        if self.allows(asked):
            return
        full = f"{asked.resource}/{asked.subresource}" if asked.subresource else asked.resource
        where = (
            f' in the namespace "{asked.namespace}"' if asked.namespace else " at the cluster scope"
        )
        reason = (
            f'User "{self.user}" cannot {asked.verb} resource "{full}" in API group '
            f'"{asked.group}"{where}'
        )
        subject = qualified(asked.resource) + (f' "{asked.name}"' if asked.name else "")
        raise ApiError(
            403,
            "Forbidden",
            f"{subject} is forbidden: {reason}",
            details=details(asked.resource, asked.name),
        )


def verb_for(method: str, *, has_name: bool, watch: bool) -> str:
    """The RBAC verb of an HTTP request, as the apiserver's RequestInfoFactory derives it."""
    if method == "GET":
        if watch:
            return "watch"
        return "get" if has_name else "list"
    return {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if has_name else "deletecollection",
    }.get(method, method.lower())


def _documents(manifest: Any) -> list[Obj]:
    if isinstance(manifest, Mapping):
        raw: list[Any] = [manifest]
    elif isinstance(manifest, Path) or (
        isinstance(manifest, str) and "\n" not in manifest and Path(manifest).exists()
    ):
        raw = list(yaml.safe_load_all(Path(manifest).read_text()))
    elif isinstance(manifest, str):
        raw = list(yaml.safe_load_all(manifest))
    else:
        raw = list(manifest)
    docs: list[Obj] = []
    for doc in raw:
        if not doc:
            continue
        if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            docs.extend(dict(item) for item in doc["items"])
        else:
            docs.append(dict(doc))
    return docs


def _subject_user(binding: Obj) -> str | None:
    for subject in binding.get("subjects") or []:
        if subject.get("kind") == "ServiceAccount":
            namespace = subject.get("namespace") or binding.get("metadata", {}).get(
                "namespace", "default"
            )
            return f"system:serviceaccount:{namespace}:{subject['name']}"
        if subject.get("kind") == "User":
            return str(subject["name"])
    return None
