"""Connection mistakes in one line: which connection, which field, what to do.

The cncf hook surfaces raw client errors: a kubeconfig path that does not exist says
"No configuration found" without the path, an unparsable inline kubeconfig names a
temporary file, an unknown connection id gets no hint. A DAG author needs the
connection, the field and the fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from airflow_sts_provider.exceptions import ConnectionConfigError

#: "... in /tmp/tmpab12cd": the cncf hook's temporary copy, not a place the user knows.
_TEMP_FILE = re.compile(r" in /\S+")


def explain_connection_error(
    conn_id: str | None, fields: Mapping[str, Any], exc: BaseException
) -> Exception:
    """The error to raise instead of ``exc``; ``exc`` itself when it is not a config mistake."""
    conn = f"connection {conn_id!r}"
    if type(exc).__name__ == "AirflowNotFoundException":
        env = f"AIRFLOW_CONN_{str(conn_id).upper()}"
        return ConnectionConfigError(
            f"{conn} does not exist: create it with conn_type 'kubernetes' (Admin > "
            f"Connections, a secrets backend, or the environment variable {env}), or pass "
            "kubernetes_conn_id= the id of an existing one"
        )
    if "mutually exclusive" in str(exc):
        return ConnectionConfigError(
            f"{conn}: in_cluster, kube_config_path and kube_config are mutually exclusive; "
            "keep only the one this cluster is reached by"
        )
    path = fields.get("kube_config_path")
    if path and not os.path.isfile(str(path)):
        return ConnectionConfigError(
            f"{conn}: its kube_config_path {path!r} is not a file on this machine; point it "
            "at the kubeconfig file, or put the kubeconfig itself in kube_config"
        )
    if fields.get("kube_config") and _is_config_error(exc):
        first_line = str(exc).split("\n", 1)[0]
        detail = _TEMP_FILE.sub("", " ".join(first_line.split()))[:160]
        return ConnectionConfigError(
            f"{conn}: its kube_config extra is not a usable kubeconfig ({type(exc).__name__}: "
            f"{detail}); paste the whole kubeconfig as YAML or JSON text, or as a dict"
        )
    if path and _is_config_error(exc):
        return ConnectionConfigError(
            f"{conn}: the file in its kube_config_path {path!r} is not a usable kubeconfig "
            f"({type(exc).__name__}: {str(exc)[:160]})"
        )
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))


def _is_config_error(exc: BaseException) -> bool:
    """The kubernetes client's ConfigException, or YAML/JSON that does not parse."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"ConfigException", "YAMLError", "JSONDecodeError", "AirflowException"})
