"""A real Prometheus for the tests and the pull benchmark: backfill a TSDB, serve it.

Uses Debian's ``prometheus`` package (the server and ``promtool``). Samples are written as
OpenMetrics text, turned into TSDB blocks by ``promtool tsdb create-blocks-from openmetrics``
and served on a free loopback port with no scrape targets.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

__all__ = [
    "backfill",
    "binaries",
    "free_port",
    "running",
    "self_signed",
    "serve",
    "serving_samples",
]

#: The server's configuration by default: nothing to scrape, the TSDB's samples alone.
NO_TARGETS = "scrape_configs: []\n"


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


def self_signed(folder: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 and its key, made by ``openssl``; None without it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def serve(
    tsdb: Path,
    server: str,
    *,
    timeout: float = 60,
    tls: tuple[Path, Path] | None = None,
    flags: Sequence[str] = (),
    config: str = NO_TARGETS,
) -> Iterator[str]:
    """Serve ``tsdb`` and yield the server's base URL; stop it on exit.

    With ``tls`` (a certificate and its key, e.g. from :func:`self_signed`), the server
    answers https only. ``flags`` are more command-line flags for the server, such as
    ``--query.timeout=1ms``; ``config`` its configuration file's text (YAML).
    """
    with running(tsdb, server, timeout=timeout, tls=tls, flags=flags, config=config) as (url, _):
        yield url


@contextmanager
def running(
    tsdb: Path,
    server: str,
    *,
    timeout: float = 60,
    tls: tuple[Path, Path] | None = None,
    flags: Sequence[str] = (),
    config: str = NO_TARGETS,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """As :func:`serve`, yielding the server's process too (to kill it part-way).

    Raises
    ------
    RuntimeError
        When the server exits or is not ready within ``timeout`` seconds (with its log).
    """
    folder = tsdb.parent
    config_path, log_path = folder / "prometheus.yml", folder / "prometheus.log"
    config_path.write_text(config, encoding="utf-8")
    address = f"127.0.0.1:{free_port()}"
    flags = list(flags)
    if tls is not None:
        web = folder / "web.yml"
        web.write_text(
            f"tls_server_config:\n  cert_file: {tls[0]}\n  key_file: {tls[1]}\n", encoding="utf-8"
        )
        flags.append(f"--web.config.file={web}")
    url = f"{'https' if tls else 'http'}://{address}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                server,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address={address}",
                *flags,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                verify = str(tls[0]) if tls else True
                if requests.get(f"{url}/-/ready", timeout=1, verify=verify).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Prometheus did not start:\n" + log_path.read_text())
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def serving_samples(folder: Path, openmetrics: str, *, config: str = NO_TARGETS) -> Iterator[str]:
    """Backfill ``openmetrics`` (OpenMetrics text) into a TSDB under ``folder`` and serve it
    (``config``: the server's configuration file's text), yielding the URL. Skips the test
    without the binaries, or fails it when ``CAPACITY_REQUIRE_PROMETHEUS=1`` (CI, where their
    absence is a setup error)."""
    found = binaries()
    if found is None:
        if os.environ.get("CAPACITY_REQUIRE_PROMETHEUS") == "1":
            pytest.fail("CAPACITY_REQUIRE_PROMETHEUS=1, but prometheus or promtool is missing")
        pytest.skip("prometheus and promtool are not installed (Debian: apt install prometheus)")
    server, promtool = found
    (folder / "samples.om").write_text(openmetrics, encoding="utf-8")
    backfill(folder / "samples.om", folder / "tsdb", promtool)
    with serve(folder / "tsdb", server, config=config) as url:
        yield url
