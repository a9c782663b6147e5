"""Listening for the console: waitress for plain HTTP, cheroot (pure Python, speaks TLS) for HTTPS. Once the
address is bound, the app is told which Host headers it answers (web/hosts.py)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cheroot.server import HTTPConnection
from cheroot.ssl.builtin import BuiltinSSLAdapter
from flask import Flask

from vigie.web.hosts import AllowedHosts
from vigie.web.tls import TlsFiles

PLAIN_HTTP_ANSWER = (b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                     b"This console speaks HTTPS only: open its https:// address.\n")


class HandshakeInWorker(BuiltinSSLAdapter):
    """cheroot shakes hands in its accept loop, so a client that connects and says nothing would stall every
    other client for the socket's timeout. Here the socket is wrapped as it is accepted, and the handshake
    waits for the worker thread that serves the connection (TlsConnection)."""

    def wrap(self, sock: Any) -> tuple[Any, dict[str, str]]:
        tls = self.context.wrap_socket(sock, do_handshake_on_connect=False, server_side=True)
        return tls, {"wsgi.url_scheme": "https", "HTTPS": "on"}


class TlsConnection(HTTPConnection):
    """Shakes hands before its first request, in its worker thread, under the server's socket timeout."""

    shaken = False

    def communicate(self) -> bool:
        if not self.shaken:
            try:
                self.socket.do_handshake()
            except ssl.SSLError as exc:
                if exc.reason == "HTTP_REQUEST":  # plain HTTP typed at the HTTPS port: say so, in plain HTTP
                    with contextlib.suppress(OSError):
                        socket.socket.sendall(self.socket, PLAIN_HTTP_ANSWER)
                return False
            except OSError:  # the client left, or said nothing within the timeout
                return False
            self.shaken = True
        return bool(super().communicate())  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class ConsoleServer:
    url: str
    port: int
    run: Callable[[], None]
    close: Callable[[], None]
    also: tuple[str, ...] = ()  # the URLs of the names added with --allowed-host (without a port)


def start_console(app: Flask, host: str, port: int, threads: int, extra_hosts: Sequence[str] = (),
                  tls: TlsFiles | None = None) -> ConsoleServer:
    """Bind host:port (0: any free port) and return the server, ready to run."""
    server: Any
    if tls is None:
        from waitress.server import create_server

        server = create_server(app, host=host, port=port, threads=threads)
        stopping = threading.Event()

        def run() -> None:
            try:
                server.run()
            except OSError:
                if not stopping.is_set():  # closed from another thread while it waited on the socket
                    raise

        def close() -> None:
            stopping.set()
            server.close()

        bound = int(server.effective_port)
    else:
        from cheroot.wsgi import Server

        server = Server((host, port), app, numthreads=threads)
        server.max_request_header_size = 64 * 1024
        server.max_request_body_size = 2 * app.config["MAX_CONTENT_LENGTH"]
        server.ssl_adapter = HandshakeInWorker(str(tls.cert), str(tls.key))
        server.ConnectionClass = TlsConnection
        server.prepare()
        bound, run, close = server.bind_addr[1], server.serve, server.stop
    allowed = AllowedHosts.for_address(host, bound, extra_hosts, tls=tls is not None)
    app.config["VIGIE_ALLOWED_HOSTS"] = allowed
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    also = tuple(f"{scheme}://{name}:{bound}/" for name in sorted(allowed.any_port))
    return ConsoleServer(f"{scheme}://{shown}:{bound}/", bound, run, close, also)
