"""Servers on the loopback address that a Dask client may be pointed at by mistake."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


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
