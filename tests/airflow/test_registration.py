"""The provider as Airflow sees it: provider info, the CLI listings, DAG parsing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import airflow_sts_provider
from tests.airflow_env import EXAMPLE_DAGS

REPO = Path(__file__).resolve().parents[2]
SCHEMA = Path(str(__import__("airflow").__file__)).parent / "provider_info.schema.json"


def airflow_cli(*args: str, **env: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "airflow", *args, "--output", "json"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()  # log lines (timestamps first) come before the JSON
    start = next(i for i, line in enumerate(lines) if line.startswith(("[", "{")))
    return json.loads("\n".join(lines[start:]))


def test_provider_info_matches_airflows_schema() -> None:
    import jsonschema  # type: ignore[import-untyped]

    info = airflow_sts_provider.get_provider_info()
    jsonschema.validate(info, json.loads(SCHEMA.read_text()))
    assert "connection-types" not in info  # the cncf `kubernetes` type is reused, never redefined
    assert "hook-class-names" not in info


def test_every_listed_module_imports_and_holds_its_classes() -> None:
    import importlib

    info = airflow_sts_provider.get_provider_info()
    expected = {
        "hooks": {"StatefulSetHook"},
        "sensors": {"StatefulSetRunningSensor", "DeploymentRunningSensor", "PodRunningSensor"},
        "triggers": {"StatefulSetRunningTrigger", "DeploymentRunningTrigger", "PodRunningTrigger"},
    }
    for section, names in expected.items():
        (entry,) = info[section]
        modules = [importlib.import_module(name) for name in entry["python-modules"]]
        assert names <= set(vars(modules[0])), section  # 0.1's module still holds them all
        defined = {
            name
            for module in modules
            for name, value in vars(module).items()
            if getattr(value, "__module__", None) == module.__name__
        }
        assert names <= defined, section  # and each lives in a module of its own


def test_the_hook_reuses_the_kubernetes_connection_type() -> None:
    from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook

    from airflow_sts_provider.hooks.statefulset import StatefulSetHook

    assert issubclass(StatefulSetHook, KubernetesHook)
    assert StatefulSetHook.conn_type == "kubernetes"
    assert StatefulSetHook.hook_name != KubernetesHook.hook_name


@pytest.mark.usefixtures("airflow_db")
def test_airflow_providers_get_shows_hook_sensors_and_triggers() -> None:
    (provider,) = airflow_cli("providers", "get", "airflow-sts-provider", "--full")
    assert provider["package-name"] == "airflow-sts-provider"
    assert provider["hooks"][0]["python-modules"][0] == "airflow_sts_provider.hooks.statefulset"
    assert provider["sensors"][0]["python-modules"][0] == (
        "airflow_sts_provider.sensors.statefulset"
    )
    assert provider["triggers"][0]["python-modules"][0] == (
        "airflow_sts_provider.triggers.statefulset"
    )


def test_the_kubernetes_connection_type_still_belongs_to_the_cncf_hook() -> None:
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook = ProvidersManagerTaskRuntime().hooks["kubernetes"]  # type: ignore[no-untyped-call]
    assert hook is not None
    assert hook.hook_class_name == (
        "airflow.providers.cncf.kubernetes.hooks.kubernetes.KubernetesHook"
    )
    assert hook.package_name == "apache-airflow-providers-cncf-kubernetes"


@pytest.mark.usefixtures("airflow_db")
def test_the_example_dags_parse_under_airflow_dags_list() -> None:
    folder = {"AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS)}
    dags = airflow_cli("dags", "list", "--local", **folder)
    assert {dag["dag_id"] for dag in dags} >= {
        "example_statefulset_gate",
        "example_multi_service_gate",
    }
    from airflow.dag_processing.dagbag import DagBag

    assert DagBag(dag_folder=str(EXAMPLE_DAGS)).import_errors == {}


def test_the_providers_page_links_to_the_projects_documentation() -> None:
    """The UI's link is the API's ``documentation_url``, from ``Project-URL: Documentation``.

    Without one the UI falls back to airflow.apache.org/docs/<package>/<version>/,
    a page that does not exist for this provider.
    """
    from airflow.api_fastapi.core_api.services.public.providers import _provider_mapper
    from airflow.providers_manager import ProvidersManager

    provider = ProvidersManager().providers["airflow-sts-provider"]  # type: ignore[no-untyped-call]
    shown = _provider_mapper(provider)
    assert shown.documentation_url == airflow_sts_provider.DOCUMENTATION_URL
    assert airflow_sts_provider.get_provider_info()["documentation-url"] == shown.documentation_url


def test_the_project_urls_and_the_package_name_the_same_home() -> None:
    import tomllib

    urls = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]
    home = airflow_sts_provider.HOMEPAGE
    assert urls["Documentation"] == airflow_sts_provider.DOCUMENTATION_URL
    assert all(url.startswith(home) for url in urls.values()), urls
    assert {"Homepage", "Documentation", "Source", "Issues", "Changelog"} <= set(urls)
