"""Resource handlers: list, get, watch, create, replace, patch, delete.

The apiserver's REST handlers (its ``pkg/registry`` REST layer) for the kinds the
emulator serves, on top of :class:`~kube_test_cluster.registry.store.Store`.
It knows the request/response shapes clients depend on (List kinds, paging, Tables,
Scale, Status bodies, DELETE semantics) but nothing about HTTP.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import json
import threading
from collections.abc import Callable
from typing import Any

from kube_test_cluster.apiserver import protobuf, tables
from kube_test_cluster.apiserver.faults import Faults
from kube_test_cluster.apiserver.request import ApiRequest, Reply, WatchReply
from kube_test_cluster.apiserver.router import READ_ONLY, ResourceRequest
from kube_test_cluster.clock import Clock
from kube_test_cluster.registry.deletion import POLICIES, DeleteOptions, Deleter
from kube_test_cluster.registry.paging import (
    EXPIRED_MESSAGE,
    ContinueToken,
    check_fresh,
    decode,
)
from kube_test_cluster.registry.patch import APPLY_PATCH, apply_patch
from kube_test_cluster.registry.selectors import (
    SelectorError,
    format_label_selector,
    parse_field_selector,
    parse_label_selector,
)
from kube_test_cluster.registry.status import (
    ApiError,
    bad_request,
    details,
    invalid,
    not_found,
    qualified,
)
from kube_test_cluster.registry.store import Gone, Obj, Store, StoreError
from kube_test_cluster.registry.validation import (
    DNS_SUBDOMAIN_MESSAGE,
    SCALE_KINDS,
    check_immutable,
    reset_status,
    valid_name,
    validate,
)
from kube_test_cluster.registry.watch import WatchSpec, stream

#: kinds whose status is written only through the /status subresource
STATUS_KINDS = frozenset(
    {
        "pods",
        "statefulsets",
        "deployments",
        "replicasets",
        "daemonsets",
        "namespaces",
        "nodes",
        "customresourcedefinitions",
    }
)

#: how long (real seconds) a watch without timeoutSeconds stays open: the apiserver's
#: --min-request-timeout default
DEFAULT_WATCH_TIMEOUT = 1800.0
_CONFLICT_RETRIES = 5


class Api:
    """The resource endpoints of one emulated apiserver."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        faults: Faults,
        stopping: threading.Event,
        *,
        continue_ttl: float = 300.0,
        bookmark_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.faults = faults
        self.stopping = stopping
        self.continue_ttl = continue_ttl
        self.bookmark_interval = bookmark_interval
        self.deleter = Deleter(store, clock)

    # -- dispatch ------------------------------------------------------------------------
    def handle(self, req: ApiRequest, route: ResourceRequest) -> Reply | WatchReply:
        namespaced = self.store.resources[route.resource][2]
        if namespaced and route.name is not None and route.namespace is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        method = req.method
        if method == "GET":
            if route.legacy_watch or req.flag("watch"):
                return self.watch(req, route)
            if route.name is None:
                return self.list(req, route)
            return Reply(200, self.get(req, route))
        if route.legacy_watch:
            raise _method_not_allowed(method)
        if route.resource in READ_ONLY:
            raise ApiError(
                405,
                "MethodNotAllowed",
                f"the server does not allow this method on the requested resource ({method}): "
                f"the test cluster serves its {route.resource} read-only (they are fixed when "
                "it is made: EmulatedCluster(nodes=[...]))",
            )
        if method == "POST" and route.name is None:
            return self.create(req, route)
        if method == "PUT" and route.name is not None:
            return Reply(200, self.replace(req, route))
        if method == "PATCH" and route.name is not None:
            return self.patch(req, route)
        if method == "DELETE" and route.name is not None and route.subresource is None:
            return self.delete(req, route)
        if method == "DELETE" and route.name is None:
            return self.delete_collection(req, route)
        raise _method_not_allowed(method)

    # -- helpers -------------------------------------------------------------------------
    def _has_status(self, resource: str) -> bool:
        """Status is written only through ``/status`` (built-in kinds, CRDs that enable it)."""
        custom = self.store.custom.get(resource)
        return resource in STATUS_KINDS if custom is None else custom.status

    def _ns(self, route: ResourceRequest) -> str:
        return route.namespace or ""

    def _current(self, route: ResourceRequest) -> Obj:
        assert route.name is not None
        obj = self.store.get(route.resource, self._ns(route), route.name)
        if obj is None:
            raise not_found(route.resource, route.name)
        return obj

    def _selectors(self, req: ApiRequest, resource: str) -> Callable[[Obj], bool]:
        try:
            labels = parse_label_selector(req.query.get("labelSelector"))
            fields = parse_field_selector(req.query.get("fieldSelector"), resource)
        except SelectorError as exc:
            raise bad_request(str(exc)) from None
        return lambda obj: labels.matches_object(obj) and fields.matches(obj)

    def _table(self, req: ApiRequest) -> bool:
        return tables.accepts_table(req.header("Accept"))

    def _include_object(self, req: ApiRequest) -> str:
        value = req.query.get("includeObject") or "Metadata"
        if value not in ("None", "Metadata", "Object"):
            raise bad_request(f'includeObject: Unsupported value: "{value}"')
        return value

    # -- reads ---------------------------------------------------------------------------
    def get(self, req: ApiRequest, route: ResourceRequest) -> Obj:
        obj = self._current(route)
        if route.subresource == "scale":
            return _scale_of(obj)
        if self._table(req) and route.subresource is None:
            return tables.table(
                route.resource,
                [obj],
                self.clock.now(),
                include_object=self._include_object(req),
                metadata={"resourceVersion": obj["metadata"]["resourceVersion"]},
            )
        return obj

    def list(self, req: ApiRequest, route: ResourceRequest) -> Reply:
        if route.subresource is not None:
            raise _method_not_allowed("GET")
        matches = self._selectors(req, route.resource)
        limit = req.integer("limit") or 0
        if limit < 0:
            raise bad_request("limit: Invalid value: must be >= 0")
        token_text = req.query.get("continue")
        now = self.clock.now()
        if token_text:
            if req.query.get("resourceVersion") not in (None, ""):
                raise bad_request("specifying resource version is not allowed when using continue")
            token = decode(token_text)
            check_fresh(token, now, self.continue_ttl, force_expired=self.faults.continue_expired())
            try:
                items, rv = self.store.snapshot(
                    route.resource, route.namespace, at=token.resource_version, copies=False
                )
            except Gone:
                raise ApiError(410, "Expired", EXPIRED_MESSAGE) from None
            start: tuple[str, str] | None = token.start
            issued = token.issued
        else:
            items, rv = self.store.snapshot(route.resource, route.namespace, copies=False)
            start, issued = None, now.timestamp()
        first = 0 if start is None else bisect.bisect_right(items, start, key=_key)
        selected = _page(items, first, matches, limit)
        metadata: Obj = {"resourceVersion": str(rv)}
        if limit and len(selected) > limit:
            page = selected[:limit]
            metadata["continue"] = ContinueToken(rv, _key(page[-1]), issued).encode()
            if not req.query.get("labelSelector") and not req.query.get("fieldSelector"):
                metadata["remainingItemCount"] = len(items) - first - limit
            selected = page
        if self._table(req):
            body = tables.table(
                route.resource,
                selected,
                now,
                include_object=self._include_object(req),
                metadata=metadata,
            )
            return Reply(200, body)
        api_version, kind, _ = self.store.resources[route.resource]
        custom = self.store.custom.get(route.resource)
        list_kind = custom.list_kind if custom is not None else f"{kind}List"
        # as from the real apiserver, list items carry no kind/apiVersion of their own:
        # code that reads ``item["kind"]`` would break in production, so it breaks here.
        # (Shallow copies: the snapshot holds the store's own objects.)
        selected = [
            {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")} for obj in selected
        ]
        return Reply(
            200,
            {
                "kind": list_kind,
                "apiVersion": api_version,
                "metadata": metadata,
                "items": selected,
            },
        )

    def watch(self, req: ApiRequest, route: ResourceRequest) -> WatchReply:
        if route.subresource is not None:
            raise _method_not_allowed("GET")
        matches = self._selectors(req, route.resource)
        rv = req.query.get("resourceVersion")
        if rv not in (None, "") and not rv.isdigit():
            raise bad_request(f'resourceVersion: Invalid value: "{rv}": must be an integer')
        timeout = req.integer("timeoutSeconds")
        seconds = float(timeout) if timeout is not None and timeout > 0 else DEFAULT_WATCH_TIMEOUT
        cut = self.faults.watch_deadline()
        if cut is not None:
            seconds = min(seconds, cut)
        as_table = self._table(req)
        include_object = self._include_object(req)
        clock = self.clock
        initial_events = req.flag("sendInitialEvents")
        if initial_events and not req.flag("allowWatchBookmarks"):
            raise invalid(
                route.resource,
                "",
                "ListOptions",
                [
                    "sendInitialEvents: Forbidden: sendInitialEvents requires setting "
                    "allowWatchBookmarks to true"
                ],
            )

        def render(obj: Obj, first: bool) -> Obj:
            if not as_table:
                return obj
            return tables.table(
                route.resource,
                [obj],
                clock.now(),
                include_object=include_object,
                metadata={"resourceVersion": obj["metadata"].get("resourceVersion", "")},
                headers=first,
            )

        spec = WatchSpec(
            resource=route.resource,
            namespace=route.namespace,
            name=route.name,
            matches=matches,
            resource_version=rv,
            timeout=seconds,
            bookmarks=req.flag("allowWatchBookmarks"),
            bookmark_interval=self.bookmark_interval,
            render=render,
            initial_events=initial_events,
        )
        reply = WatchReply(iter(()))

        def client_gone() -> bool:  # late-bound: the server sets it once it streams
            return reply.client_gone()

        reply.events = stream(self.store, spec, self.stopping, client_gone)
        return reply

    # -- writes --------------------------------------------------------------------------
    def _decode_object(self, req: ApiRequest, route: ResourceRequest, expect_kind: str) -> Obj:
        if (req.header("Content-Type") or "").startswith(protobuf.PROTOBUF) and req.body:
            try:
                body: Any = protobuf.decode(req.body, expect_kind)
            except protobuf.ProtobufError as exc:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    f"the emulator reads only JSON and YAML bodies here ({exc}); send JSON, "
                    "e.g. kubectl create -f / apply -f",
                ) from None
        else:
            body = req.json_body()
        if not isinstance(body, dict):
            raise bad_request(
                f"the object provided is unrecognized (must be of type {expect_kind})"
            )
        api_version = route.api_version if expect_kind != "Scale" else "autoscaling/v1"
        if body.get("apiVersion") not in (None, "", api_version):
            raise bad_request(
                f"the API version in the data ({body['apiVersion']}) does not match the "
                f"expected API version ({api_version})"
            )
        if body.get("kind") not in (None, "", expect_kind):
            raise bad_request(
                f"the kind in the data ({body['kind']}) does not match the expected kind "
                f"({expect_kind})"
            )
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if route.namespace is not None and meta.get("namespace") not in (
            None,
            "",
            route.namespace,
        ):
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        return body

    def _check_namespace(self, route: ResourceRequest) -> None:
        if route.namespace is None or not self.store.resources[route.resource][2]:
            return
        ns = self.store.get("namespaces", "", route.namespace)
        if ns is None:
            raise not_found("namespaces", route.namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise ApiError(
                403,
                "Forbidden",
                f"{qualified(route.resource)} is forbidden: unable to create new content in "
                f"namespace {route.namespace} because it is being terminated",
                details=details(route.resource, None),
            )

    def create(self, req: ApiRequest, route: ResourceRequest) -> Reply:
        if route.subresource is not None or (
            route.namespace is None and self.store.resources[route.resource][2]
        ):
            raise _method_not_allowed("POST")
        kind = self.store.resources[route.resource][1]
        obj = self._decode_object(req, route, kind)
        meta = obj["metadata"]
        if meta.get("resourceVersion"):
            raise bad_request("resourceVersion should not be set on objects to be created")
        if route.namespace is not None:
            meta["namespace"] = route.namespace
        name = meta.get("name") or ""
        if name and not valid_name(name):
            raise invalid(
                route.resource,
                name,
                kind,
                [f'metadata.name: Invalid value: "{name}": {DNS_SUBDOMAIN_MESSAGE}'],
            )
        validate(route.resource, obj, kind)
        self._check_namespace(route)
        for server_field in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
            "deletionGracePeriodSeconds",
            "managedFields",
            "selfLink",
        ):
            meta.pop(server_field, None)
        reset_status(route.resource, obj)
        if self._has_status(route.resource) and route.resource in self.store.custom:
            obj.pop("status", None)  # the status subresource: a create never sets status
        if _dry_run(req):
            obj["apiVersion"], obj["kind"] = self.store.resources[route.resource][:2]
            return Reply(201, obj)
        return Reply(201, self.store.create(route.resource, obj))

    def replace(self, req: ApiRequest, route: ResourceRequest) -> Obj:
        assert route.name is not None
        if route.subresource == "scale":
            scale = self._decode_object(req, route, "Scale")
            self._check_name(scale, route)
            replicas = (scale.get("spec") or {}).get("replicas")
            rv = scale["metadata"].get("resourceVersion")
            return _scale_of(self._set_replicas(route, replicas, rv, dry=_dry_run(req)))
        kind = self.store.resources[route.resource][1]
        body = self._decode_object(req, route, kind)
        self._check_name(body, route)
        wanted_rv = body["metadata"].get("resourceVersion") or None

        def build(old: Obj) -> Obj:
            return self._merge_update(route, old, body, kind)

        return self._write(route, build, wanted_rv, dry=_dry_run(req))

    def _check_name(self, body: Obj, route: ResourceRequest) -> None:
        name = body["metadata"].get("name")
        if name is None or name == "":
            body["metadata"]["name"] = route.name
        elif name != route.name:
            raise bad_request(
                f"the name of the object ({name}) does not match the name on the URL ({route.name})"
            )

    def _merge_update(self, route: ResourceRequest, old: Obj, new: Obj, kind: str) -> Obj:
        """The object a write of ``new`` over ``old`` stores (status/spec split, immutables)."""
        new = copy.deepcopy(new)
        if route.subresource == "status":
            result = copy.deepcopy(old)
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
            return result
        if self._has_status(route.resource):
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        validate(route.resource, new, kind)
        check_immutable(route.resource, old, new, kind)
        return new

    def _write(
        self,
        route: ResourceRequest,
        build: Callable[[Obj], Obj],
        wanted_rv: str | None,
        *,
        dry: bool,
    ) -> Obj:
        """Read, build, write with optimistic concurrency; retried when the client did not pin
        a resourceVersion (as the apiserver's GuaranteedUpdate retries)."""
        assert route.name is not None
        for _ in range(_CONFLICT_RETRIES):
            old = self._current(route)
            current_rv = old["metadata"]["resourceVersion"]
            if wanted_rv is not None and wanted_rv != current_rv:
                raise _conflict(route.resource, route.name)
            new = build(old)
            new["metadata"]["resourceVersion"] = current_rv
            if new == old:
                return old  # a no-op write does not bump resourceVersion
            if dry:
                return new
            try:
                return self.store.replace(route.resource, new, expect_rv=current_rv)
            except StoreError as exc:
                if exc.code != 409 or wanted_rv is not None:
                    raise
        raise _conflict(route.resource, route.name)

    def patch(self, req: ApiRequest, route: ResourceRequest) -> Reply:
        assert route.name is not None
        content_type = req.header("Content-Type") or ""
        patch_body = req.json_body()
        dry = _dry_run(req)
        if route.subresource == "scale":
            scale = apply_patch(_scale_of(self._current(route)), patch_body, content_type)
            replicas = (scale.get("spec") or {}).get("replicas")
            rv = _pinned_rv(patch_body)
            return Reply(200, _scale_of(self._set_replicas(route, replicas, rv, dry=dry)))
        kind = self.store.resources[route.resource][1]
        if content_type.startswith(APPLY_PATCH) and route.subresource is None:
            existing = self.store.get(route.resource, self._ns(route), route.name)
            if existing is None:  # server-side apply creates what is missing
                if not isinstance(patch_body, dict):
                    raise bad_request("apply patch must be an object")
                patch_body.setdefault("metadata", {})["name"] = route.name
                create_req = ApiRequest(
                    "POST", req.path, req.query, req.headers, _json_bytes(patch_body)
                )
                return self.create(create_req, _collection(route))

        def build(old: Obj) -> Obj:
            patched = apply_patch(old, patch_body, content_type)
            if not isinstance(patched.get("metadata"), dict):
                raise bad_request("metadata must be an object")
            for immutable in ("name", "namespace", "uid", "creationTimestamp"):
                if immutable in old["metadata"]:
                    patched["metadata"][immutable] = old["metadata"][immutable]
            patched["apiVersion"], patched["kind"] = old["apiVersion"], old["kind"]
            return self._merge_update(route, old, patched, kind)

        return Reply(200, self._write(route, build, _pinned_rv(patch_body), dry=dry))

    def _set_replicas(
        self, route: ResourceRequest, replicas: Any, rv: str | None, *, dry: bool
    ) -> Obj:
        assert route.name is not None
        if route.resource not in SCALE_KINDS:
            raise not_found(route.resource, route.name)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise ApiError(
                422,
                "Invalid",
                f'Scale.autoscaling "{route.name}" is invalid: spec.replicas: Invalid value: '
                f"{replicas}: must be greater than or equal to 0",
                details={"name": route.name, "group": "autoscaling", "kind": "Scale"},
            )

        def build(old: Obj) -> Obj:
            new = copy.deepcopy(old)
            new.setdefault("spec", {})["replicas"] = replicas
            return new

        return self._write(route, build, rv, dry=dry)

    # -- deletes -------------------------------------------------------------------------
    def delete(self, req: ApiRequest, route: ResourceRequest) -> Reply:
        options = _delete_options(req)
        return Reply(200, self.deleter.delete(route.resource, self._current(route), options))

    def delete_collection(self, req: ApiRequest, route: ResourceRequest) -> Reply:
        if route.subresource is not None or route.resource == "namespaces":
            raise _method_not_allowed("DELETE")
        matches = self._selectors(req, route.resource)
        options = _delete_options(req)
        deleted: list[Obj] = []
        for obj in self.store.list(route.resource, route.namespace):
            if not matches(obj):
                continue
            try:
                answer = self.deleter.delete(route.resource, obj, options)
            except StoreError:
                continue  # gone or changed meanwhile: not part of this collection any more
            item = answer if answer.get("kind") != "Status" else obj
            item.pop("apiVersion", None)
            item.pop("kind", None)
            deleted.append(item)
        api_version, kind, _ = self.store.resources[route.resource]
        return Reply(
            200,
            {
                "kind": f"{kind}List",
                "apiVersion": api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)},
                "items": deleted,
            },
        )


# -- module helpers ----------------------------------------------------------------------


def _key(obj: Obj) -> tuple[str, str]:
    return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def _page(items: list[Obj], first: int, matches: Callable[[Obj], bool], limit: int) -> list[Obj]:
    """The matching items from ``first`` on: ``limit`` + 1 at most (one says "there is more").

    Stopping there keeps one page's cost to the page, not to the whole list.
    """
    selected: list[Obj] = []
    for obj in itertools.islice(items, first, None):
        if matches(obj):
            selected.append(obj)
            if limit and len(selected) > limit:
                break
    return selected


def _method_not_allowed(method: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({method})",
    )


def _conflict(resource: str, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(resource)} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        details=details(resource, name),
    )


def _dry_run(req: ApiRequest) -> bool:
    value = req.query.get("dryRun")
    if value not in (None, "", "All"):
        raise bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return value == "All"


def _pinned_rv(patch_body: Any) -> str | None:
    if isinstance(patch_body, dict):
        rv = (patch_body.get("metadata") or {}).get("resourceVersion")
        return str(rv) if rv else None
    return None


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def _collection(route: ResourceRequest) -> ResourceRequest:
    return ResourceRequest(
        route.group, route.version, route.resource, route.namespace, None, None, False
    )


def _scale_of(obj: Obj) -> Obj:
    """The ``autoscaling/v1`` Scale view of a workload."""
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            key: meta[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if key in meta
        },
        "spec": {"replicas": obj.get("spec", {}).get("replicas", 1)},
        "status": {
            "replicas": obj.get("status", {}).get("replicas", 0),
            "selector": format_label_selector(obj.get("spec", {}).get("selector")),
        },
    }


def _delete_options(req: ApiRequest) -> DeleteOptions:
    """``DeleteOptions`` from the body when there is one, else from the query string."""
    body = req.json_body(allow_empty=True)
    if body is not None:
        if not isinstance(body, dict):
            raise bad_request("DeleteOptions must be an object")
        source: dict[str, Any] = body
        dry_run = bool(body.get("dryRun"))
    else:
        source = dict(req.query)
        dry_run = req.query.get("dryRun") == "All"
        if req.query.get("gracePeriodSeconds") not in (None, ""):
            source["gracePeriodSeconds"] = req.integer("gracePeriodSeconds")
    policy = source.get("propagationPolicy")
    orphan = source.get("orphanDependents")
    if policy is None and orphan in (True, "true", "True", "1"):
        policy = "Orphan"
    if policy is not None and policy not in POLICIES:
        raise bad_request(
            f'propagationPolicy: Unsupported value: "{policy}": supported values: '
            '"Foreground", "Background", "Orphan"'
        )
    grace = source.get("gracePeriodSeconds")
    return DeleteOptions(
        grace_period=None if grace is None else int(grace),
        propagation=policy,
        preconditions=source.get("preconditions") or None,
        dry_run=dry_run or req.query.get("dryRun") == "All",
    )
