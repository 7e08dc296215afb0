"""The kinds table is the one place: every row is served by real classes, and Airflow is
told of exactly the modules the table names (``get_provider_info`` is generated from it)."""

from __future__ import annotations

import inspect
import pkgutil
import subprocess
import sys
from importlib import import_module

import pytest
from airflow.sdk import BaseSensorOperator
from airflow.triggers.base import BaseEventTrigger

import airflow_sts_provider
from airflow_sts_provider import sensors, triggers
from airflow_sts_provider.kinds import (
    HOOKS,
    KINDS,
    RELEASE,
    RESOURCE,
    Served,
    import_class,
    provider_modules,
    served,
)
from airflow_sts_provider.sensors.base import WorkloadRunningSensor
from airflow_sts_provider.triggers.base import WorkloadRunningTrigger
from airflow_sts_provider.triggers.events import ReadyEventTrigger

NAMES: dict[str, Served] = {**KINDS, "custom resource": RESOURCE}
ROWS: dict[str, Served] = {**NAMES, "release": RELEASE}


def _section(section: str) -> list[str]:
    (entry,) = airflow_sts_provider.get_provider_info()[section]
    modules: list[str] = entry["python-modules"]
    return modules


@pytest.mark.parametrize("name", list(ROWS), ids=[f"the {n} sensor" for n in ROWS])
def test_every_row_names_a_sensor_airflow_is_told_of(name: str) -> None:
    row = ROWS[name]
    cls = import_class(row.sensor)
    assert issubclass(cls, WorkloadRunningSensor)
    assert row.sensor.rpartition(".")[0] in _section("sensors")


@pytest.mark.parametrize("name", list(ROWS), ids=[f"the {n} trigger" for n in ROWS])
def test_every_row_names_a_trigger_airflow_is_told_of(name: str) -> None:
    row = ROWS[name]
    cls = import_class(row.trigger)
    assert issubclass(cls, WorkloadRunningTrigger)
    assert row.trigger.rpartition(".")[0] in _section("triggers")


@pytest.mark.parametrize("name", list(NAMES), ids=[f"the {n} event trigger" for n in NAMES])
def test_every_kind_names_an_event_trigger_on_its_own_trigger(name: str) -> None:
    row = NAMES[name]
    cls = import_class(row.event_trigger)
    assert issubclass(cls, BaseEventTrigger)
    assert issubclass(cls, import_class(row.trigger))  # the same watch and judge loop
    assert row.event_trigger.rpartition(".")[0] in _section("triggers")


@pytest.mark.parametrize("name", list(KINDS), ids=[f"the {n} row's classes say {n}" for n in KINDS])
def test_a_rows_sensor_and_trigger_judge_its_kind(name: str) -> None:
    row = KINDS[name]
    assert import_class(row.sensor).kind == name
    assert import_class(row.trigger).kind == name


def _public_classes(package: object, base: type) -> set[str]:
    """``module.Class`` of every public subclass of ``base`` defined in ``package``."""
    found = set()
    for info in pkgutil.iter_modules(package.__path__):  # type: ignore[attr-defined]
        module = import_module(f"{package.__name__}.{info.name}")  # type: ignore[attr-defined]
        for name, cls in vars(module).items():
            public = not name.startswith("_") and inspect.isclass(cls)
            if public and cls.__module__ == module.__name__ and issubclass(cls, base):
                found.add(f"{module.__name__}.{name}")
    return found


@pytest.mark.parametrize(
    ("package", "base", "shared"),
    [
        (sensors, BaseSensorOperator, (WorkloadRunningSensor,)),
        (triggers, WorkloadRunningTrigger, (WorkloadRunningTrigger, ReadyEventTrigger)),
    ],
    ids=["no sensor class lives outside the table", "no trigger class lives outside the table"],
)
def test_every_class_is_served_by_a_row(
    package: object, base: type, shared: tuple[type, ...]
) -> None:
    fields = ("sensor", "trigger", "event_trigger")
    named = {getattr(row, field) for row in served() for field in fields}
    bases = {f"{cls.__module__}.{cls.__qualname__}" for cls in shared}
    assert _public_classes(package, base) - bases - named == set()


def test_provider_info_lists_the_tables_modules_and_nothing_else() -> None:
    info = airflow_sts_provider.get_provider_info()
    for section, modules in provider_modules().items():
        (entry,) = info[section]
        assert entry["python-modules"] == modules, section
    assert {path.rpartition(".")[0] for path in HOOKS} == set(_section("hooks"))
    for path in HOOKS:
        import_class(path)


def test_reading_the_provider_info_loads_neither_the_rules_nor_airflow() -> None:
    code = (
        "import sys, airflow_sts_provider as p; p.get_provider_info(); "
        "print(sorted(m for m in sys.modules if m.startswith(('airflow', 'kubernetes'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "['airflow_sts_provider', 'airflow_sts_provider.kinds']"
