"""Window stamps handed to the rules: the latest moment a truncated stamp can stand for."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest

from airflow_sts_provider.hooks.stamps import carry_stamps, sharpen_body, sharpen_stamps

AT_5 = "2026-12-07T10:00:05"


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def pod(ready_at: str, started_at: str = "2026-12-07T10:00:00Z") -> dict[str, Any]:
    return {
        "metadata": {"name": "web-0", "creationTimestamp": "2026-12-07T09:59:58Z"},
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ready_at}],
            "initContainerStatuses": [
                {"name": "init", "state": {"terminated": {"finishedAt": "2026-12-07T09:59:59Z"}}}
            ],
            "containerStatuses": [
                {
                    "name": "app",
                    "state": {"running": {"startedAt": started_at}},
                    "lastState": {"terminated": {"finishedAt": "2026-12-07T09:00:00Z"}},
                }
            ],
        },
    }


def ready_at(obj: dict[str, Any]) -> str:
    return str(obj["status"]["conditions"][0]["lastTransitionTime"])


@pytest.mark.parametrize(
    ("bound", "expected"),
    [
        (None, "2026-12-07T10:00:05.999999Z"),
        (epoch("2026-12-07T10:00:05.300000+00:00"), "2026-12-07T10:00:05.300000Z"),
        (epoch("2026-12-07T10:00:09+00:00"), "2026-12-07T10:00:05.999999Z"),
        (epoch("2026-12-07T10:00:04+00:00"), "2026-12-07T10:00:05.000000Z"),
    ],
    ids=[
        "unbounded delivery: the end of the stamp's second",
        "delivered within its second: by then",
        "delivered seconds later: the end of its second",
        "a delivery bound before the stamp (a clock stepped): the stamp itself",
    ],
)
def test_a_whole_second_stamp_becomes_the_latest_moment_it_can_stand_for(
    bound: float | None, expected: str
) -> None:
    obj = pod("2026-12-07T10:00:05Z")
    sharpen_stamps(obj, bound)
    assert ready_at(obj) == expected


def test_only_window_stamps_are_touched() -> None:
    obj = pod("2026-12-07T10:00:05Z", started_at="2026-12-07T10:00:01Z")
    before = copy.deepcopy(obj)
    sharpen_stamps(obj, None)
    app = obj["status"]["containerStatuses"][0]
    assert app["state"]["running"]["startedAt"] == "2026-12-07T10:00:01.999999Z"
    assert app["lastState"] == before["status"]["containerStatuses"][0]["lastState"]
    assert obj["metadata"] == before["metadata"]
    assert obj["status"]["initContainerStatuses"] == before["status"]["initContainerStatuses"]


@pytest.mark.parametrize(
    "stamp",
    ["2026-12-07T10:00:05.123456Z", "2026-12-07T10:00:05+02:00", "yesterday", "", None, 7],
    ids=["already sub-second", "with an offset", "not a time", "empty", "null", "a number"],
)
def test_a_stamp_that_is_not_a_whole_second_in_utc_is_left_as_sent(stamp: Any) -> None:
    obj = pod("x")
    obj["status"]["conditions"][0]["lastTransitionTime"] = stamp
    sharpen_stamps(obj, epoch("2026-12-07T10:00:05.3+00:00"))
    assert obj["status"]["conditions"][0]["lastTransitionTime"] == stamp


@pytest.mark.parametrize(
    "body",
    [[], "text", {"status": "Failure"}, {"status": {"conditions": "True"}}, {"items": None}],
    ids=["a list", "a string", "a Status", "conditions not a list", "null items"],
)
def test_bodies_of_any_shape_never_raise(body: Any) -> None:
    sharpen_body(body, None)


def test_a_list_has_each_item_sharpened() -> None:
    body = {"metadata": {}, "items": [pod("2026-12-07T10:00:05Z"), pod("2026-12-07T10:00:06Z")]}
    sharpen_body(body, None)
    assert [ready_at(item) for item in body["items"]] == [
        "2026-12-07T10:00:05.999999Z",
        "2026-12-07T10:00:06.999999Z",
    ]


@pytest.mark.parametrize(
    ("old", "new", "kept"),
    [
        (f"{AT_5}.300000Z", f"{AT_5}.999999Z", f"{AT_5}.300000Z"),
        (f"{AT_5}.999999Z", f"{AT_5}.300000Z", f"{AT_5}.300000Z"),
        (f"{AT_5}.300000Z", "2026-12-07T10:00:09.999999Z", "2026-12-07T10:00:09.999999Z"),
    ],
    ids=[
        "the same transition seen again later keeps its first delivery",
        "a tighter bound is never loosened",
        "a new transition takes its own bound",
    ],
)
def test_a_newer_version_keeps_the_earliest_bound_of_the_same_stamp(
    old: str, new: str, kept: str
) -> None:
    before, after = pod(old), pod(new)
    carry_stamps(before, after)
    assert ready_at(after) == kept


def test_a_condition_that_flips_within_one_second_takes_its_own_bound() -> None:
    before = pod(f"{AT_5}.200000Z")
    before["status"]["conditions"][0]["status"] = "False"  # created unready at :05.2
    after = pod(f"{AT_5}.900000Z")  # Ready at :05.x, delivered by :05.9
    carry_stamps(before, after)
    assert ready_at(after) == f"{AT_5}.900000Z"


def test_a_container_restarted_within_one_second_takes_its_own_bound() -> None:
    before = pod(AT_5 + "Z", started_at=f"{AT_5}.100000Z")
    after = pod(AT_5 + "Z", started_at=f"{AT_5}.800000Z")
    after["status"]["containerStatuses"][0]["restartCount"] = 1
    carry_stamps(before, after)
    assert after["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] == (
        f"{AT_5}.800000Z"
    )


def test_carrying_from_nothing_or_to_a_deleted_object_is_nothing() -> None:
    obj = pod("2026-12-07T10:00:05.300000Z")
    carry_stamps(None, obj)
    carry_stamps(obj, None)
    assert ready_at(obj) == "2026-12-07T10:00:05.300000Z"
