"""The test cluster's HTTP(S) server: real sockets, real TLS, real kubeconfig.

Built on the standard library's threading HTTP server (HTTP/1.1, keep-alive,
chunked watch bodies) so the emulator has no heavy dependency. TLS uses a
throwaway CA made by ``trustme`` (:mod:`.tls`); the kubeconfig carries that CA, so
clients verify the server's certificate exactly as against a production
cluster (and kubectl, which only sends bearer tokens over TLS, authenticates).

Request pipeline: faults (latency, injected errors) -> bearer token -> route ->
RBAC -> handler -> response (or a dropped connection or a body that is not JSON,
when a fault says so).
Every response, errors and watches included, carries a ``Date`` header taken
from the emulated clock, which is how the provider reads "now".
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hmac
import json
import logging
import select
import socket
import ssl
import sys
import threading
import time
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from kube_test_cluster.apiserver import discovery, openapi
from kube_test_cluster.apiserver.faults import (
    FaultDecision,
    Faults,
    corrupt_body,
    corrupt_line,
)
from kube_test_cluster.apiserver.handlers import Api
from kube_test_cluster.apiserver.rbac import Attributes, Authorizer, verb_for
from kube_test_cluster.apiserver.request import ApiRequest, Reply, WatchReply
from kube_test_cluster.apiserver.router import (
    Discovery,
    ResourceRequest,
    resolve,
    subresources_of,
)
from kube_test_cluster.apiserver.stats import RequestStats
from kube_test_cluster.apiserver.tls import make_tls, require_trustme
from kube_test_cluster.clock import Clock
from kube_test_cluster.registry.status import (
    FAULT_MESSAGES,
    REASONS,
    ApiError,
    from_store_error,
    status_body,
)
from kube_test_cluster.registry.store import Store, StoreError

log = logging.getLogger(__name__)

CONTEXT_NAME = "sts-emulator"
#: namespaces every cluster starts with
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
#: real seconds an idle keep-alive connection is kept open
_IDLE_TIMEOUT = 120.0


class ApiServer:
    """An emulated Kubernetes API server over ``store``, listening on ``host:port``.

    ``port=0`` picks a free port (read it back from :attr:`url`). ``tls=False``
    serves plain HTTP (kubectl then refuses to send a token). ``continue_ttl``
    is how many emulated seconds a continue token lives; ``bookmark_interval``
    how many real seconds apart watch bookmarks are sent. ``ca`` is a ``trustme.CA``
    to sign the server certificate with (default: one throwaway CA per process).
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        token: str | None = None,
        authorizer: Authorizer | None = None,
        faults: Faults | None = None,
        continue_ttl: float = 300.0,
        bookmark_interval: float = 1.0,
        ca: Any = None,
    ) -> None:
        if tls:
            require_trustme()  # fail here, in one line, not at start() deep in a thread
        self.store = store
        self.clock = clock
        self.host = host
        self.port = port
        self.tls = tls
        self.token = token
        self.ca = ca
        self.authorizer = authorizer
        self.faults = faults if faults is not None else Faults()
        self.stopping = threading.Event()
        #: watch connections open now and requests served by verb/resource
        self.stats = RequestStats()
        self.api = Api(
            store,
            clock,
            self.faults,
            self.stopping,
            continue_ttl=continue_ttl,
            bookmark_interval=bookmark_interval,
        )
        self.ca_pem: bytes | None = None
        self._ssl: ssl.SSLContext | None = None
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> ApiServer:
        """Bind, make the TLS material, ensure the initial namespaces; returns when listening."""
        if self._httpd is not None:
            raise RuntimeError("server already started")
        if self.tls:
            self._ssl, self.ca_pem = make_tls(self.ca)
        self._ensure_namespaces()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_class = type("_Server", (_HttpServer,), {"address_family": family})
        self._httpd = server_class((self.host, self.port), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self.stopping.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sts-emulator-api:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, end open watches and close every connection."""
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _ensure_namespaces(self) -> None:
        for name in INITIAL_NAMESPACES:
            if self.store.get("namespaces", "", name) is None:
                with contextlib.suppress(StoreError):
                    self.store.create(
                        "namespaces", {"metadata": {"name": name}, "spec": {}, "status": {}}
                    )

    # -- client configuration ------------------------------------------------------------
    @property
    def url(self) -> str:
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def kubeconfig(self, namespace: str = "default") -> dict[str, Any]:
        """A kubeconfig dict for this server (CA data inline, bearer token if any)."""
        cluster: dict[str, Any] = {"server": self.url}
        if self.ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        elif self.url.startswith("https"):
            cluster["insecure-skip-tls-verify"] = True
        user: dict[str, Any] = {"token": self.token} if self.token else {}
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": CONTEXT_NAME, "cluster": cluster}],
            "users": [{"name": CONTEXT_NAME, "user": user}],
            "contexts": [
                {
                    "name": CONTEXT_NAME,
                    "context": {
                        "cluster": CONTEXT_NAME,
                        "user": CONTEXT_NAME,
                        "namespace": namespace,
                    },
                }
            ],
            "current-context": CONTEXT_NAME,
            "preferences": {},
        }

    def write_kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        """Write :meth:`kubeconfig` as YAML, readable by its owner only (it holds a token)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch(mode=0o600, exist_ok=True)
        target.chmod(0o600)
        target.write_text(yaml.safe_dump(self.kubeconfig(namespace), sort_keys=False))
        return target

    # -- request pipeline ----------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> bool:
        if self.token is None:
            return True
        if not authorization:
            return False
        scheme, _, credential = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credential.strip().encode(), self.token.encode())

    def dispatch(self, req: ApiRequest) -> Reply | WatchReply:
        """Authenticate, route, authorize and handle one request (faults excluded)."""
        if not self.authenticate(req.header("Authorization")):
            raise ApiError(401, "Unauthorized", "Unauthorized")
        route = resolve(req.path, self.store.resources, subresources_of(self.store))
        if isinstance(route, Discovery):
            if req.method != "GET":
                raise ApiError(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method "
                    f"on the requested resource ({req.method})",
                )
            return Reply(200, self._discovery(route))
        if route is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if self.authorizer is not None:
            self._authorize(req, route)
        return self.api.handle(req, route)

    def _authorize(self, req: ApiRequest, route: ResourceRequest) -> None:
        assert self.authorizer is not None
        watch = req.method == "GET" and (route.legacy_watch or req.flag("watch"))
        verb = verb_for(req.method, has_name=route.name is not None, watch=watch)
        name = route.name
        if route.resource == "namespaces" and route.name is not None:
            namespace: str | None = route.name
        else:
            namespace = route.namespace
        self.authorizer.check(
            Attributes(verb, route.group, route.resource, route.subresource, namespace, name)
        )

    def _discovery(self, route: Discovery) -> Any:
        if route.doc == "openapi":
            resources = self.store.resources
            doc = openapi.index(resources) if route.path.rstrip("/") == "/openapi/v3" else None
            doc = doc or openapi.document(route.path, resources)
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return doc
        if route.doc == "version":
            return discovery.version()
        if route.doc == "api":
            return discovery.api_versions(f"{self.host}:{self.port}")
        if route.doc == "apis":
            return discovery.api_group_list(self.store)
        if route.doc == "group":
            return discovery.api_group(route.group, self.store)
        return discovery.api_resource_list(route.group, route.version, self.store)


class _HttpServer(ThreadingHTTPServer):
    """Threaded server doing the TLS handshake in the connection's own thread."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128
    owner: ApiServer

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def finish_request(self, request: Any, client_address: Any) -> None:
        connection: socket.socket = request
        context = self.owner._ssl
        if context is not None:
            try:
                connection.settimeout(10)
                connection = context.wrap_socket(connection, server_side=True)
            except (OSError, ssl.SSLError) as exc:
                log.debug("TLS handshake with %s failed: %s", client_address, exc)
                with contextlib.suppress(OSError):
                    request.close()
                return
        with self._connections_lock:
            self._connections.add(connection)
        try:
            _Handler(connection, client_address, self)
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            with contextlib.suppress(OSError):
                connection.close()

    def close_connections(self) -> None:
        with self._connections_lock:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                connection.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (OSError, ssl.SSLError)):  # the client went away: routine
            log.debug("connection from %s ended: %s", client_address, error)
        else:  # a bug in the emulator, e.g. inside a watch stream: make it visible
            log.exception("error while serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 framing only; the API logic lives in :class:`ApiServer` and ``handlers.py``."""

    protocol_version = "HTTP/1.1"
    server_version = "sts-emulator"
    sys_version = ""
    timeout = _IDLE_TIMEOUT
    # Headers and body leave in one segment: with Nagle's algorithm and delayed ACKs a
    # separate body write costs 40 ms per request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: _HttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header: RFC 7231 time from the emulated clock, never the host's."""
        return format_datetime(self.server.owner.clock.now(), usegmt=True)

    # -- pipeline ------------------------------------------------------------------------
    def _serve(self) -> None:
        owner = self.server.owner
        body = self._read_body()
        if body is None:
            return
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        req = ApiRequest(self.command, parts.path, query, self.headers, body)
        owner.stats.request(req)
        decision = owner.faults.decide(self.path)
        if decision.latency_s:
            time.sleep(decision.latency_s)
        try:
            if decision.fail_code is not None:
                raise _fault_error(decision, owner.faults.retry_after)
            reply = owner.dispatch(req)
        except StoreError as error:
            body_obj = from_store_error(error)
            headers = error.headers if isinstance(error, ApiError) else {}
            self._send_json(error.code, body_obj, headers, decision)
            return
        except Exception:  # a bug in the emulator must still look like an apiserver's 500
            log.exception("unhandled error serving %s %s", self.command, parts.path)
            message = "Internal error occurred: the emulator failed to serve this request"
            self._send_json(500, status_body(500, "InternalError", message), {}, decision)
            return
        if isinstance(reply, WatchReply):
            self._send_watch(reply, decision)
        else:
            self._send_json(reply.code, reply.body, reply.headers, decision)

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(65537)
                if not size_line:
                    return None
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(
        self, code: int, body: Any, headers: dict[str, str], decision: FaultDecision
    ) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode() + b"\n"
        content_type = "application/json"
        if decision.corrupt is not None:  # a 200 whatever the answer was, as a proxy serves it
            code, (content_type, payload) = 200, corrupt_body(decision.corrupt, payload)
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if decision.drop:
            self.wfile.write(payload[: max(1, len(payload) // 2)])
            self.wfile.flush()
            self._abort()
            return
        self.wfile.write(payload)
        self.wfile.flush()

    def _send_watch(self, reply: WatchReply, decision: FaultDecision) -> None:
        stats = self.server.owner.stats
        stats.watch_opened()
        try:
            self._stream_watch(reply, decision)
        finally:
            stats.watch_closed()

    def _stream_watch(self, reply: WatchReply, decision: FaultDecision) -> None:
        reply.client_gone = functools.partial(_peer_closed, self.connection)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        sent = 0
        try:
            for event in reply.events:
                line = json.dumps(event, separators=(",", ":")).encode() + b"\n"
                if decision.corrupt is not None and sent == 0:
                    line = corrupt_line(decision.corrupt, line)  # the event itself is lost
                if decision.drop and sent >= 1:
                    # the connection dies in the middle of an event
                    self.wfile.write(f"{len(line):x}\r\n".encode() + line[: len(line) // 2])
                    self.wfile.flush()
                    self._abort()
                    return
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()
                sent += 1
            if decision.drop:
                self._abort()
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
        finally:
            close = getattr(reply.events, "close", None)
            if close is not None:
                close()

    def _abort(self) -> None:
        """Drop the connection without a proper end (a fault: 'connection reset mid-body')."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _peer_closed(connection: socket.socket) -> bool:
    """Whether the client has hung up a connection it should only be reading from.

    A watch client sends nothing after its request, so readable means the end: EOF,
    a reset, or a TLS alert (``close_notify``, record type 21). Peeks at the raw bytes,
    below any TLS layer, and consumes nothing.
    """
    try:
        # poll, not select: select refuses descriptors >= 1024 (ValueError), which
        # would end every watch beyond the first thousand open sockets at once
        poller = select.poll()
        poller.register(connection, select.POLLIN)
        if not poller.poll(0):
            return False
        head = socket.socket.recv(connection, 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    except (OSError, ValueError):
        return True
    return head in (b"", b"\x15")


def _fault_error(decision: FaultDecision, retry_after: int) -> ApiError:
    code = decision.fail_code
    assert code is not None
    headers = {"Retry-After": str(retry_after)} if code in (429, 503) else {}
    details = {"retryAfterSeconds": retry_after} if code == 429 else None
    return ApiError(
        code,
        REASONS.get(code, "InternalError"),
        FAULT_MESSAGES.get(code, f"injected fault {code}"),
        details=details,
        headers=headers,
    )
