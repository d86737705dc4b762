"""The exporter's HTTP listener: prometheus_client's WSGI app on a threading server, with optional
TLS and basic auth, and the bind errors a user can cause turned into one-line messages."""

from __future__ import annotations

import errno
import ipaddress
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from prometheus_client import CollectorRegistry, make_wsgi_app

DEFAULT_LISTEN = "127.0.0.1:9464"
_LANDING = (
    b"<html><head><title>perftui exporter</title></head><body><h1>perftui exporter</h1>"
    b'<p><a href="/metrics">Metrics</a></p></body></html>'
)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ListenError(Exception):
    """--listen cannot be used; the message is one line for the user."""


def parse_listen(text: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or `:port` (all interfaces) → (host, port)."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ListenError(f"--listen must be HOST:PORT (e.g. {DEFAULT_LISTEN}), not {text!r}")
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ListenError(f"--listen port must be 0-65535, not {port}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ListenError(f"--listen: write an IPv6 address in brackets, e.g. [::1]:{port}")
    return host or "0.0.0.0", port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None  # a scrape every 15 s is not news


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        # WSGIServer.server_bind asks DNS for our FQDN: not needed, and it can hang
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()


def with_auth(app: WsgiApp, check: Callable[[str | None], bool]) -> WsgiApp:
    def guarded(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if check(environ.get("HTTP_AUTHORIZATION")):
            return app(environ, start_response)
        start_response(
            "401 Unauthorized",
            [("WWW-Authenticate", 'Basic realm="perftui"'), ("Content-Type", "text/plain")],
        )
        return [b"Unauthorized\n"]

    return guarded


def routed(metrics: WsgiApp) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/":
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [_LANDING]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not found: try /metrics\n"]

    return app


def _bind_error(host: str, port: int, exc: OSError) -> ListenError:
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    if exc.errno == errno.EADDRINUSE:
        return ListenError(f"cannot listen on {where}: the address is already in use")
    if exc.errno == errno.EACCES:
        return ListenError(
            f"cannot listen on {where}: permission denied (ports below 1024 need root or "
            "CAP_NET_BIND_SERVICE; use a port like 9464)"
        )
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return ListenError(f"cannot listen on {where}: no such address on this machine")
    if isinstance(exc, socket.gaierror):
        return ListenError(f"cannot listen on {where}: unknown host name")
    return ListenError(f"cannot listen on {where}: {exc.strerror or exc}")


class ExporterServer:
    """Binds at construction (so bind errors come before anything starts); serves in a thread."""

    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry,
        *,
        ssl_context: ssl.SSLContext | None = None,
        auth: Callable[[str | None], bool] | None = None,
    ) -> None:
        app: WsgiApp = routed(make_wsgi_app(registry))
        if auth is not None:
            app = with_auth(app, auth)  # every path, as exporter-toolkit does
        self.tls = ssl_context is not None
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        except socket.gaierror as exc:
            raise _bind_error(host, port, exc) from exc
        server_cls = type("_ExporterServer", (_Server,), {"address_family": family})
        try:
            self.httpd: _Server = server_cls((host, port), _Handler)
        except OSError as exc:
            raise _bind_error(host, port, exc) from exc
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.set_app(app)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        shown = f"[{host}]" if ":" in host else host
        return f"{'https' if self.tls else 'http'}://{shown}:{port}/metrics"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.5},
            name="perftui-exporter",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(2.0)
        self.httpd.server_close()
