"""Servers on the loopback address: one that a Dask client may be pointed at by mistake, and
a stand-in for answers of Prometheus's HTTP API that a real server is hard to make give."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def banner_server() -> Iterator[str]:
    """A server that greets every connection as SSH does, not a Dask scheduler; yields its
    ``tcp://`` address."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def greet() -> None:
            with contextlib.suppress(OSError):
                while True:
                    peer, _ = listener.accept()
                    peer.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

        threading.Thread(target=greet, daemon=True).start()
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"


class Answers(http.server.BaseHTTPRequestHandler):
    """A stand-in HTTP server for answers a real Prometheus is hard to make give."""

    answer: Callable[[dict[str, str]], tuple[int, dict]]

    def do_GET(self) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        status, payload = self.answer(query)
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def api_server(answer: Callable[[dict[str, str]], tuple[int, dict]]) -> Iterator[str]:
    """An HTTP server answering each GET with ``answer(query parameters)``: a status and a
    JSON payload; yields its ``http://`` base URL."""
    handler = type("Handler", (Answers,), {"answer": staticmethod(answer)})
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
