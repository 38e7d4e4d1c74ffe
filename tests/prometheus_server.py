"""A real Prometheus for the tests and the pull benchmark: backfill a TSDB, serve it.

Uses Debian's ``prometheus`` package (the server and ``promtool``). Samples are written as
OpenMetrics text, turned into TSDB blocks by ``promtool tsdb create-blocks-from openmetrics``
and served on a free loopback port with no scrape targets.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

__all__ = ["backfill", "binaries", "free_port", "serve"]


def binaries() -> tuple[str, str] | None:
    """Paths of ``prometheus`` and ``promtool``, or None when either is missing."""
    server, promtool = shutil.which("prometheus"), shutil.which("promtool")
    return (server, promtool) if server and promtool else None


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def backfill(openmetrics: Path, tsdb: Path, promtool: str) -> None:
    """Write the samples of an OpenMetrics file into TSDB blocks under ``tsdb``.

    Blocks of up to 30 days: promtool's default of 2 hours makes a block per 2 hours of data
    and takes minutes for months of it.
    """
    subprocess.run(
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=720h",
            str(openmetrics),
            str(tsdb),
        ],
        check=True,
        capture_output=True,
    )


@contextmanager
def serve(tsdb: Path, server: str, *, timeout: float = 60) -> Iterator[str]:
    """Serve ``tsdb`` and yield the server's base URL; stop it on exit.

    Raises
    ------
    RuntimeError
        When the server exits or is not ready within ``timeout`` seconds (with its log).
    """
    folder = tsdb.parent
    config, log_path = folder / "prometheus.yml", folder / "prometheus.log"
    config.write_text("scrape_configs: []\n", encoding="utf-8")
    url = f"http://127.0.0.1:{free_port()}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                server,
                f"--config.file={config}",
                f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address={url.removeprefix('http://')}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{url}/-/ready", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Prometheus did not start:\n" + log_path.read_text())
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
