"""``spec.selector`` to a ``labelSelector`` query: every operator, a stable order, loud errors."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_sts_provider.readiness import selector_to_label_selector


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        pytest.param({"matchLabels": {"app": "web"}}, "app=web", id="one label"),
        pytest.param(
            {"matchLabels": {"tier": "db", "app": "web"}},
            "app=web,tier=db",
            id="labels come out sorted by key whatever their order",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "canary"]}]},
            "env in (canary,prod)",
            id="In sorts its values",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]},
            "env notin (dev)",
            id="NotIn",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]},
            "gpu",
            id="Exists is the bare key",
        ),
        pytest.param(
            {"matchExpressions": [{"key": "legacy", "operator": "DoesNotExist", "values": []}]},
            "!legacy",
            id="DoesNotExist is the negated key",
        ),
        pytest.param(
            {
                "matchLabels": {"app": "web", "release": "v2"},
                "matchExpressions": [
                    {"key": "zone", "operator": "NotIn", "values": ["b", "a"]},
                    {"key": "app.kubernetes.io/part-of", "operator": "Exists"},
                    {"key": "env", "operator": "In", "values": ["prod"]},
                ],
            },
            "app=web,app.kubernetes.io/part-of,env in (prod),release=v2,zone notin (a,b)",
            id="labels and expressions mix in one key order",
        ),
        pytest.param({"matchLabels": None, "matchExpressions": None}, "", id="nulls mean empty"),
        pytest.param({}, "", id="an empty selector is empty"),
    ],
)
def test_selector_to_label_selector(selector: dict[str, Any], expected: str) -> None:
    assert selector_to_label_selector(selector) == expected


def test_the_same_selector_in_another_order_gives_the_same_string() -> None:
    one = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [
            {"key": "y", "operator": "In", "values": ["2", "1"]},
            {"key": "x", "operator": "Exists"},
        ],
    }
    other = {
        "matchExpressions": [
            {"key": "x", "operator": "Exists"},
            {"key": "y", "operator": "In", "values": ["1", "2"]},
        ],
        "matchLabels": {"a": "1", "b": "2"},
    }
    assert selector_to_label_selector(one) == selector_to_label_selector(other)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        pytest.param(
            {"key": "cpu", "operator": "Gt", "values": ["2"]},
            ("unknown label selector operator 'Gt'", "'cpu'", "In, NotIn, Exists, DoesNotExist"),
            id="an unknown operator raises naming it",
        ),
        pytest.param(
            {"key": "env", "operator": "in", "values": ["prod"]},
            ("'in'",),
            id="operators are case-sensitive as in the API",
        ),
        pytest.param(
            {"key": "env", "operator": "In", "values": []},
            ("'In'", "'env'", "needs at least one value"),
            id="In without values raises",
        ),
        pytest.param(
            {"key": "gpu", "operator": "Exists", "values": ["yes"]},
            ("'Exists'", "takes no values"),
            id="Exists with values raises",
        ),
        pytest.param(
            {"operator": "Exists"},
            ("without a key",),
            id="an expression without a key raises",
        ),
    ],
)
def test_invalid_selectors_raise(expression: dict[str, Any], words: tuple[str, ...]) -> None:
    with pytest.raises(ValueError) as raised:
        selector_to_label_selector({"matchExpressions": [expression]})
    for word in words:
        assert word in str(raised.value)
