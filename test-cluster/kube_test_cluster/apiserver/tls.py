"""The server's TLS material, made by ``trustme``.

By default one throwaway CA per process. The ``serve`` CLI keeps its CA (and key)
in a state directory instead (:func:`load_or_create_ca`), so a kubeconfig written
by an earlier run still verifies the server after a restart.

``trustme`` is a dependency of the test cluster's distribution: it is imported here only,
when a TLS server is made (a plain-HTTP cluster runs without it), and its absence is one
clear :class:`MissingDependencyError` rather than a deep traceback.
"""

from __future__ import annotations

import functools
import importlib
import os
import ssl
from pathlib import Path
from types import ModuleType
from typing import Any

MISSING_TRUSTME = "the test cluster needs trustme to serve HTTPS: pip install trustme"

#: file names inside a state directory
CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"


class MissingDependencyError(ImportError):
    """A dependency of the test cluster (``trustme``) is not installed."""


def require_trustme() -> ModuleType:
    """``trustme``, or :class:`MissingDependencyError` saying what to install."""
    try:
        return importlib.import_module("trustme")
    except ImportError:
        raise MissingDependencyError(MISSING_TRUSTME) from None


def default_state_dir() -> Path:
    """``$XDG_CACHE_HOME/airflow-sts-provider``, or ``~/.cache/airflow-sts-provider``."""
    cache = os.environ.get("XDG_CACHE_HOME") or ""
    base = Path(cache) if os.path.isabs(cache) else Path.home() / ".cache"
    return base / "airflow-sts-provider"


def load_or_create_ca(state_dir: Path) -> Any:
    """The ``trustme.CA`` kept in ``state_dir``, made (and saved) on first use.

    The directory is created 0700 (and tightened if it exists); the key file is
    written 0600 and never readable by anyone else, even for a moment.
    """
    trustme = require_trustme()
    state_dir = Path(state_dir)
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(state_dir, 0o700)
    cert_path, key_path = state_dir / CA_CERT_FILE, state_dir / CA_KEY_FILE
    if cert_path.is_file() and key_path.is_file():
        os.chmod(key_path, 0o600)
        return trustme.CA.from_pem(cert_path.read_bytes(), key_path.read_bytes())
    ca = trustme.CA(organization_name="airflow-sts-provider test cluster")
    _write_private(key_path, ca.private_key_pem.bytes())
    _write_private(cert_path, ca.cert_pem.bytes(), mode=0o644)
    return ca


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)  # whatever the umask did
    os.replace(tmp, path)


@functools.lru_cache(maxsize=1)
def _throwaway_ca() -> Any:
    trustme = require_trustme()
    return trustme.CA(organization_name="airflow-sts-provider test cluster")


@functools.lru_cache(maxsize=8)
def make_tls(ca: Any = None) -> tuple[ssl.SSLContext, bytes]:
    """A server context and the CA's PEM: from ``ca`` (a ``trustme.CA``), or one
    throwaway CA per process (making them costs ~0.2 s)."""
    require_trustme()
    authority = ca if ca is not None else _throwaway_ca()
    cert = authority.issue_cert("127.0.0.1", "localhost", "::1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])  # no HTTP/2 here: Go clients must not try it
    return context, authority.cert_pem.bytes()
