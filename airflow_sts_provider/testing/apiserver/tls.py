"""The server's TLS material: one throwaway CA per process, made by ``trustme``.

``trustme`` is the test cluster's own dependency (the ``airflow-sts-provider[testing]``
extra), not the provider's: it is imported here only, when a TLS server is made, and
its absence is one clear :class:`MissingExtraError` rather than a deep traceback.
"""

from __future__ import annotations

import functools
import importlib
import ssl
from types import ModuleType

MISSING_EXTRA = "the test cluster needs its extra: pip install 'airflow-sts-provider[testing]'"


class MissingExtraError(ImportError):
    """A dependency of the test cluster (its ``testing`` extra) is not installed."""


def require_trustme() -> ModuleType:
    """``trustme``, or :class:`MissingExtraError` saying what to install."""
    try:
        return importlib.import_module("trustme")
    except ImportError:
        raise MissingExtraError(MISSING_EXTRA) from None


@functools.lru_cache(maxsize=1)
def make_tls() -> tuple[ssl.SSLContext, bytes]:
    """One throwaway CA and server certificate per process (making them costs ~0.2 s)."""
    trustme = require_trustme()
    ca = trustme.CA(organization_name="airflow-sts-provider test cluster")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    context.set_alpn_protocols(["http/1.1"])  # no HTTP/2 here: Go clients must not try it
    return context, ca.cert_pem.bytes()
