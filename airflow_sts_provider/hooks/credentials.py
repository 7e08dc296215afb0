"""Register the secrets a hook authenticates with in Airflow's masker, and no more.

On a worker the task log is written, and redacted, by the *supervisor* process:
the task process sends its log lines unredacted (``sending_to_supervisor=True``),
so a value reaches the masker that matters only through ``mask_secret``'s
``MaskSecret`` request. Airflow already makes that request for what it knows: the
connection's password and, through ``extra_dejson``, every extra value under a
sensitive key name (``token``, ``password``, ``*secret*``... at any depth, so the
``token`` of a ``kube_config`` given as a JSON object). It cannot know what the
client *derived* (a token read from a kubeconfig file, the default kubeconfig, the
in-cluster service account or an exec plugin), nor what sits under a name it does
not find sensitive: the ``client-key-data`` of an inline ``kube_config``, anything
of a ``kube_config`` given as a string. Those, and only those, are registered here.

Under ``dag.test()`` / ``airflow tasks test`` the "supervisor" runs in the task's
own process, shares its masker, and logs every request it is handed at DEBUG,
``MaskSecret`` bodies included (``InProcessSupervisorComms.send``): there the
secret goes to the shared masker directly, never into a request. On a worker, the
real supervisor logs a ``MaskSecret`` without its body. docs/security.md has the
whole picture, with what is left.

Trigger arguments are stored in clear in the metadata DB, so nothing here is ever
shipped to a trigger: the triggerer resolves the connection itself, by id.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

#: kubeconfig ``users[].user`` keys whose values authenticate (kubectl's names).
_USER_SECRET_KEYS = ("token", "password", "client-key-data")
#: The bearer prefix the clients put before a token in ``api_key``.
_BEARER = "bearer "
#: What Airflow's masker puts in place of a secret.
_REDACTED = "***"


def kubeconfig_secrets(kubeconfig: Any) -> list[str]:
    """The secret strings of a kubeconfig dict: tokens, passwords, keys, auth-provider tokens."""
    if not isinstance(kubeconfig, Mapping):
        return []
    return list(_user_secrets(kubeconfig.get("users")))


def _user_secrets(users: Any) -> Iterator[str]:
    if not isinstance(users, list):
        return
    for entry in users:
        user = entry.get("user") if isinstance(entry, Mapping) else None
        if not isinstance(user, Mapping):
            continue
        for key in _USER_SECRET_KEYS:
            yield from _strings(user.get(key))
        provider = user.get("auth-provider")
        if isinstance(provider, Mapping) and isinstance(provider.get("config"), Mapping):
            yield from _strings(*provider["config"].values())


def configuration_secrets(configuration: Any) -> list[str]:
    """What a loaded kubernetes client ``Configuration`` authenticates with.

    A ``Bearer <token>`` header value gives the token alone: masking the token
    already turns the header into ``Bearer ***``.
    """
    found: list[str] = []
    api_key = getattr(configuration, "api_key", None)
    if isinstance(api_key, Mapping):
        for value in api_key.values():
            bearer = isinstance(value, str) and value.lower().startswith(_BEARER)
            found += _strings(value[len(_BEARER) :] if bearer else value)
    found += _strings(getattr(configuration, "password", None))
    return found


def _strings(*values: Any) -> list[str]:
    return [value for value in values if isinstance(value, str) and value.strip()]


def mask(secrets: Iterable[str]) -> None:
    """Register those of ``secrets`` that Airflow's masker does not hide yet."""
    fresh = unmasked(secrets)
    if not fresh or _masked_in_process(fresh):
        return
    from airflow.sdk.log import mask_secret

    for secret in fresh:
        mask_secret(secret)


async def amask(secrets: Iterable[str]) -> None:
    """:func:`mask` for async code (the triggerer), which must not block on the supervisor."""
    fresh = unmasked(secrets)
    if not fresh or _masked_in_process(fresh):
        return
    from airflow.sdk import log

    send = getattr(log, "amask_secret", None)
    for secret in fresh:
        if send is None:
            log.mask_secret(secret)
        else:
            await send(secret)


def _masked_in_process(secrets: list[str]) -> bool:
    """Under ``dag.test()``: straight into the shared masker, never into a logged request."""
    masker = _in_process_masker()
    if masker is None:
        return False
    for secret in secrets:
        masker.add_mask(secret)
    return True


def unmasked(secrets: Iterable[str]) -> list[str]:
    """``secrets`` without repeats, blanks and what this process's masker already hides.

    What the task process's masker hides, its supervisor's does too: Airflow's own
    masking (the connection's password and sensitive extras) goes through
    ``mask_secret``, which tells both. A masker that cannot be asked hides nothing.
    """
    masker = _masker()
    fresh: list[str] = []
    for secret in secrets:
        if not isinstance(secret, str) or not secret.strip() or secret in fresh:
            continue
        try:
            hidden = masker is not None and masker.redact(secret) == _REDACTED
        except Exception:
            hidden = False
        if not hidden:
            fresh.append(secret)
    return fresh


def _masker() -> Any:
    """This process's task-SDK secrets masker (the one ``mask_secret`` fills), if any."""
    # Older task SDKs kept it in execution_time (3.3 still re-exports it there, deprecated).
    for module in (
        "airflow.sdk._shared.secrets_masker",
        "airflow.sdk.execution_time.secrets_masker",
    ):
        try:
            factory = importlib.import_module(module)._secrets_masker
        except (ImportError, AttributeError):
            continue
        return factory()
    return None


def _in_process_masker() -> Any:
    """The masker to fill directly, when the supervisor runs in this very process.

    ``dag.test()`` (and ``airflow tasks test``) run the task under
    ``InProcessTestSupervisor``: its comms log each request at DEBUG, a
    ``MaskSecret``'s value included, and hand it to the same process, whose masker
    ``mask_secret`` has already filled. Anywhere else (a worker, the triggerer, no
    task at all) this is ``None``, and the secret goes through ``mask_secret``; so
    too on an Airflow without ``InProcessSupervisorComms``.
    """
    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    supervisor = sys.modules.get("airflow.sdk.execution_time.supervisor")
    comms = getattr(runner, "SUPERVISOR_COMMS", None)
    in_process = getattr(supervisor, "InProcessSupervisorComms", None)
    if comms is None or not isinstance(in_process, type) or not isinstance(comms, in_process):
        return None
    return _masker()
