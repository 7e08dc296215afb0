"""Airflow provider: wait until a Kubernetes service is really running.

Kept import-light on purpose: Airflow imports every provider's
``get_provider_info`` at start-up, so nothing here may pull in Airflow or the
kubernetes client.
"""

from __future__ import annotations

from typing import Any, Final

__version__ = "0.1.0"

#: The project's home; ``[project.urls]`` in pyproject.toml says the same (a test checks).
HOMEPAGE: Final = "https://github.com/airflow-sts-provider/airflow-sts-provider"
#: What the Providers page of the Airflow UI links to: the docs index. Airflow >= 3.2 reads
#: it from the distribution's ``Project-URL: Documentation``, older ones from here.
DOCUMENTATION_URL: Final = f"{HOMEPAGE}/tree/main/docs"


#: The integration every hook, sensor and trigger belongs to.
INTEGRATION: Final = "Kubernetes StatefulSet readiness"


def get_provider_info() -> dict[str, Any]:
    """Describe this provider to Airflow's ProvidersManager (``airflow providers list``)."""
    from airflow_sts_provider.kinds import provider_modules

    return {
        "package-name": "airflow-sts-provider",
        "name": INTEGRATION,
        "description": (
            "Sensors that wait until a StatefulSet, Deployment, DaemonSet, Pod, an operator's "
            "custom resource or a whole release is really running "
            "(every pod current, Ready, not crashed, stable for a window) and fail fast "
            "when a rollout is broken."
        ),
        "versions": [__version__],
        "documentation-url": DOCUMENTATION_URL,
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/",
                "tags": ["software"],
            }
        ],
        # Generated from the one table of kinds (a row's classes are announced with it).
        # Under "hooks" only: StatefulSetHook reuses the cncf `kubernetes` connection type,
        # so there is deliberately no "connection-types" entry (Airflow keeps the first one).
        **{
            section: [{"integration-name": INTEGRATION, "python-modules": modules}]
            for section, modules in provider_modules().items()
        },
    }
