"""Keep the connection's secrets out of logs and out of the metadata DB.

Airflow's secret masker hides connection extras only under sensitive key names;
the kubernetes connection carries its token and client key *inside* ``kube_config``,
a key the masker does not know, and at DEBUG Airflow's own supervisor lines print
request headers. So every hook registers what it actually authenticates with
(the bearer token, a password, the kubeconfig's key material) as soon as the
client is configured. Trigger arguments are stored in clear in the metadata DB,
so nothing here is ever shipped to a trigger: the triggerer resolves the
connection itself, by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

#: kubeconfig ``users[].user`` keys whose values authenticate (kubectl's names).
_USER_SECRET_KEYS = ("token", "password", "client-key-data")
#: The bearer prefix the clients put before a token in ``api_key``.
_BEARER = "bearer "


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
    """What a loaded kubernetes client ``Configuration`` authenticates with."""
    found: list[str] = []
    api_key = getattr(configuration, "api_key", None)
    if isinstance(api_key, Mapping):
        for value in api_key.values():
            found += _strings(value)
            if isinstance(value, str) and value.lower().startswith(_BEARER):
                found += _strings(value[len(_BEARER) :])
    found += _strings(getattr(configuration, "password", None))
    return found


def _strings(*values: Any) -> list[str]:
    return [value for value in values if isinstance(value, str) and value.strip()]


def mask(secrets: Iterable[str]) -> None:
    """Register ``secrets`` with Airflow's masker (task process and supervisor alike)."""
    from airflow.sdk.log import mask_secret

    for secret in secrets:
        mask_secret(secret)


async def amask(secrets: Iterable[str]) -> None:
    """:func:`mask` for async code (the triggerer), which must not block on the supervisor."""
    from airflow.sdk import log

    masker = getattr(log, "amask_secret", None)
    for secret in secrets:
        if masker is None:
            log.mask_secret(secret)
        else:
            await masker(secret)
