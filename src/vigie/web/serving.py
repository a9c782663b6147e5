"""Listening for the console: waitress for plain HTTP, cheroot (pure Python, speaks TLS) for HTTPS. Once the
address is bound, the app is told which Host headers it answers (web/hosts.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask

from vigie.web.hosts import AllowedHosts
from vigie.web.tls import TlsFiles


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
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        from cheroot.wsgi import Server

        server = Server((host, port), app, numthreads=threads)
        server.max_request_header_size = 64 * 1024
        server.max_request_body_size = 2 * app.config["MAX_CONTENT_LENGTH"]
        server.ssl_adapter = BuiltinSSLAdapter(str(tls.cert), str(tls.key))
        server.prepare()
        bound, run, close = server.bind_addr[1], server.serve, server.stop
    allowed = AllowedHosts.for_address(host, bound, extra_hosts, tls=tls is not None)
    app.config["VIGIE_ALLOWED_HOSTS"] = allowed
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    also = tuple(f"{scheme}://{name}:{bound}/" for name in sorted(allowed.any_port))
    return ConsoleServer(f"{scheme}://{shown}:{bound}/", bound, run, close, also)
