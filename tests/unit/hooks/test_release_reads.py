"""A release's reads without a transport: which LISTs serve which workloads, and the split.

:func:`group_selectors` picks as few LISTs as the workloads' selectors allow, each by
requirements every selector it serves contains; :func:`workloads_plan` lists each
group once and gives every workload what its own selector matches. The plan runs
here against an in-memory API that pages and matches labels itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from airflow_sts_provider.exceptions import ContinueExpiredError
from airflow_sts_provider.hooks.labels import Selector, SelectorGroup, group_selectors
from airflow_sts_provider.hooks.reads import Picture, Read, list_plan, run_plan, workloads_plan
from airflow_sts_provider.kinds import KINDS, Kind
from airflow_sts_provider.readiness import ReadinessPolicy

INSTANCE = "app.kubernetes.io/instance"
NAME = "app.kubernetes.io/name"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def group(selector: str, *members: int) -> SelectorGroup:
    return SelectorGroup(selector, members)


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        pytest.param(
            [f"{INSTANCE}=shop,{NAME}=a", f"{INSTANCE}=shop,{NAME}=b", f"{INSTANCE}=shop,{NAME}=c"],
            [group(f"{INSTANCE}=shop", 0, 1, 2)],
            id="the workloads of one release share one LIST by the release's label",
        ),
        pytest.param(
            ["team=x,app=a,managed-by=Helm", "team=x,app=b,managed-by=Helm"],
            [group("team=x,managed-by=Helm", 0, 1)],
            id="every label the selectors share narrows their one LIST",
        ),
        pytest.param(
            ["app=web,tier=db"],
            [group("app=web,tier=db", 0)],
            id="a single workload is listed by its whole selector, as before",
        ),
        pytest.param(
            ["app=a", "app=b", "app=c"],
            [group("app=a", 0), group("app=b", 1), group("app=c", 2)],
            id="selectors that share nothing are listed one by one",
        ),
        pytest.param(
            [f"{INSTANCE}=shop,{NAME}=a", f"{INSTANCE}=bank,{NAME}=c", f"{INSTANCE}=shop,{NAME}=b"],
            [group(f"{INSTANCE}=shop", 0, 2), group(f"{INSTANCE}=bank,{NAME}=c", 1)],
            id="two releases in one namespace make two LISTs, the larger first",
        ),
        pytest.param(
            [
                "tier=web,app=a",
                "tier=web,app=b",
                "env=prod,app=d",
                "tier=web,app=c",
                "env=prod,app=e",
            ],
            [group("tier=web", 0, 1, 3), group("env=prod", 2, 4)],
            id="the most common label makes the first group and the rest are grouped again",
        ),
        pytest.param(
            ["a=1,b=1", "a=1,b=2", "c=1,b=1"],
            [group("a=1", 0, 1), group("c=1,b=1", 2)],
            id="of two labels shared as often the first seen wins",
        ),
        pytest.param(
            ["app in (a,b)", "app=c"],
            [group("app=c", 1), group("app in (a,b)", 0)],
            id="a selector without an equality is listed by itself",
        ),
        pytest.param(
            ["tier in (a,b)", "tier in (a,b)", "!legacy"],
            [group("tier in (a,b)", 0, 1), group("!legacy", 2)],
            id="selectors written the same share their LIST even without an equality",
        ),
        pytest.param(
            ["", "app=a"],
            [group("app=a", 1), group("", 0)],
            id="an empty selector is listed by itself, every object as before",
        ),
        pytest.param(
            [f"{INSTANCE}=shop,{NAME}=a,!legacy", f"{INSTANCE}=shop,{NAME}=b,!legacy"],
            [group(f"{INSTANCE}=shop,!legacy", 0, 1)],
            id="a requirement other than an equality that all share narrows the LIST too",
        ),
        pytest.param(
            ["app = web,tier==db", "tier=db,app=api"],
            [group("tier=db", 0, 1)],
            id="equalities written differently are the same requirement",
        ),
        pytest.param(
            ["app = web", "app = web"],
            [group("app = web", 0, 1)],
            id="selectors written the same are listed by their own text",
        ),
        pytest.param([], [], id="no workloads need no LIST"),
    ],
)
def test_group_selectors(selectors: list[str], expected: list[SelectorGroup]) -> None:
    parsed = [Selector(text) for text in selectors]

    groups = group_selectors(parsed)

    assert groups == expected
    served = sorted(member for found in groups for member in found.members)
    assert served == list(range(len(selectors))), "each selector is served exactly once"
    for found in groups:  # what a member's selector picks, the group's LIST returns too
        listed = set(Selector(found.selector).requirements)
        assert all(listed <= set(parsed[m].requirements) for m in found.members)


# --------------------------------------------------------------------------- the plan


def labelled(kind: str, name: str, labels: Mapping[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"name": name, "uid": f"uid-{name}", "labels": dict(labels)},
        "spec": {"selector": {"matchLabels": dict(labels)}, **spec},
    }


def pod(name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": name, "uid": f"uid-{name}", "labels": dict(labels)}}


class MemoryApi:
    """LISTs answered from memory, paged by ``limit``/``continue``, matched by label."""

    def __init__(self, objects: dict[str, list[dict[str, Any]]], limit: int = 2) -> None:
        self.objects, self.limit = objects, limit
        self.lists: list[tuple[str, str]] = []
        self.expire_once: str | None = None

    def answer(self, step: Read) -> Any:
        assert step.paged, f"a release reads by LIST only, not {step.request}"
        self.lists.append((step.request.resource, step.params.get("labelSelector", "")))
        return run_plan(list_plan(step, self.limit, lambda: NOW), self.page)

    def page(self, step: Read) -> dict[str, Any]:
        resource, token = step.request.resource, step.params.get("continue")
        if token is not None and self.expire_once == resource:
            self.expire_once = None
            raise ContinueExpiredError(
                "expired", verb="list", resource=resource, namespace="shop", status=410
            )
        selector = Selector(step.params.get("labelSelector", ""))
        found = [obj for obj in self.objects.get(resource, []) if selector.matches(obj)]
        start = int(token or 0)
        more = start + self.limit < len(found)
        meta = {"resourceVersion": "7", "continue": str(start + self.limit) if more else ""}
        return {"items": found[start : start + self.limit], "metadata": meta}


def release(shared_label: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Three StatefulSets and a Deployment of release shop (three pods each), one pod aside."""

    def labels(name: str) -> dict[str, str]:
        return {INSTANCE: "shop", NAME: name} if shared_label else {"app": name}

    objects: dict[str, list[dict[str, Any]]] = {"statefulsets": [], "deployments": [], "pods": []}
    for name in ("db", "cache", "queue"):
        objects["statefulsets"].append(labelled("StatefulSet", name, labels(name), replicas=3))
    objects["deployments"].append(labelled("Deployment", "api", labels("api"), replicas=3))
    for name in ("db", "cache", "queue", "api"):
        objects["pods"] += [pod(f"{name}-{i}", labels(name)) for i in range(3)]
    objects["pods"].append(pod("debug", {INSTANCE: "shop", NAME: "debug"}))
    for obj in objects["statefulsets"] + objects["deployments"]:
        obj["metadata"]["labels"][INSTANCE] = "shop"  # the release's selector finds them all
    objects["replicasets"] = [
        labelled("ReplicaSet", "api-5d9", {**labels("api"), "pod-template-hash": "5d9"})
    ]
    return objects


def run(api: MemoryApi, kinds: list[Kind], **kw: Any) -> list[Picture]:
    plan = workloads_plan(kinds, f"{INSTANCE}=shop", "shop", **kw)
    return run_plan(plan, api.answer)


ROWS = [KINDS["StatefulSet"], KINDS["Deployment"]]


def pod_names(picture: Picture) -> list[str]:
    if picture.pods is not None:
        return list(picture.pods.uids)
    return list(picture.related["pods"])


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(ReadinessPolicy(), id="a poke judges each workload's pods page by page"),
        pytest.param(None, id="a trigger's pictures keep each workload's pods"),
    ],
)
def test_one_list_of_pods_is_split_among_the_workloads_by_their_own_selectors(
    policy: ReadinessPolicy | None,
) -> None:
    api = MemoryApi(release(), limit=2)  # the pods come in seven pages, split one by one

    pictures = run(api, ROWS, policy=policy)

    assert [(p.kind.name, p.name) for p in pictures] == [
        ("StatefulSet", "db"),
        ("StatefulSet", "cache"),
        ("StatefulSet", "queue"),
        ("Deployment", "api"),
    ]
    assert {p.name: pod_names(p) for p in pictures} == {
        name: [f"{name}-{i}" for i in range(3)] for name in ("db", "cache", "queue", "api")
    }
    assert api.lists == [
        ("statefulsets", f"{INSTANCE}=shop"),
        ("deployments", f"{INSTANCE}=shop"),
        ("replicasets", f"{INSTANCE}=shop,{NAME}=api"),
        ("pods", f"{INSTANCE}=shop"),
    ]


def test_selectors_that_share_nothing_fall_back_to_a_list_each() -> None:
    api = MemoryApi(release(shared_label=False))

    pictures = run(api, ROWS, policy=ReadinessPolicy())

    assert {p.name: pod_names(p) for p in pictures} == {
        name: [f"{name}-{i}" for i in range(3)] for name in ("db", "cache", "queue", "api")
    }
    assert [s for r, s in api.lists if r == "pods"] == [
        "app=db",
        "app=cache",
        "app=queue",
        "app=api",
    ]


def test_unshared_reads_are_the_reads_before_one_list_per_workload() -> None:
    api = MemoryApi(release())

    pictures = run(api, ROWS, policy=ReadinessPolicy(), shared=False)

    assert {p.name: pod_names(p) for p in pictures}["queue"] == ["queue-0", "queue-1", "queue-2"]
    assert [s for r, s in api.lists if r == "pods"] == [
        f"{INSTANCE}=shop,{NAME}={name}" for name in ("db", "cache", "queue", "api")
    ]


def test_a_shared_list_started_again_makes_every_workload_forget_what_it_was_given() -> None:
    api = MemoryApi(release(), limit=2)
    api.expire_once = "pods"  # the second page's continue token has expired: relist

    pictures = run(api, ROWS, policy=ReadinessPolicy())

    assert api.expire_once is None, "the LIST never met its expired token"
    assert {p.name: pod_names(p) for p in pictures}["db"] == ["db-0", "db-1", "db-2"]
    assert all(len(pod_names(p)) == 3 for p in pictures)
    assert api.lists.count(("pods", f"{INSTANCE}=shop")) == 1


def test_what_is_not_an_object_goes_to_every_workload_as_each_own_list_would_have() -> None:
    objects = release()
    objects["pods"].insert(0, "not a pod")  # type: ignore[arg-type]
    api = MemoryApi(objects, limit=500)
    api.page = lambda step: {  # type: ignore[method-assign]
        "items": objects["pods"]
        if step.request.resource == "pods"
        else [
            obj
            for obj in objects[step.request.resource]
            if Selector(step.params.get("labelSelector", "")).matches(obj)
        ],
        "metadata": {},
    }

    pictures = run(api, [KINDS["StatefulSet"]], policy=ReadinessPolicy())

    for picture in pictures:
        assert picture.pods is not None
        verdict = picture.judge(NOW, ReadinessPolicy())
        assert "pods[0] is not an object" in str(verdict.to_dict()), picture.name
