"""Contract-suite fixtures: a real moto S3 server process, started once per test session.

The S3 back end is tested over HTTP against ``moto_server`` on 127.0.0.1, never against AWS.
If the server cannot start, the tests that need it fail with the server's log; they never skip.
"""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aioboto3
import pytest

__all__ = ["MotoServer"]

_START_TIMEOUT_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 10.0
_REGION = "us-east-1"
# Fake credentials: moto accepts any; they are planted under test-only variable names so the
# store's "credentials by environment variable name" path is exercised.
ACCESS_KEY_ID_ENV = "FP_TEST_S3_ACCESS_KEY_ID"
SECRET_ACCESS_KEY_ENV = "FP_TEST_S3_SECRET_ACCESS_KEY"
_FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing-access-key-id",
    "aws_secret_access_key": "testing-secret-access-key",
}


@dataclass
class MotoServer:
    """A running moto server: its endpoint, one shared bucket, and a raw client for tampering.

    Tests share one bucket and isolate themselves with a unique key prefix each
    (:meth:`unique_prefix`), which also checks that a store's prefix confines what it sees.
    """

    endpoint_url: str
    bucket: str = "fp-contract"
    _bucket_created: bool = False
    _prefix_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @asynccontextmanager
    async def raw_client(self) -> AsyncIterator[Any]:
        """A plain aioboto3 S3 client that bypasses the store (setup and tampering)."""
        session = aioboto3.Session(region_name=_REGION, **_FAKE_CREDENTIALS)
        async with session.client("s3", endpoint_url=self.endpoint_url) as client:
            yield client

    async def ensure_bucket(self) -> str:
        """Create the shared bucket on first use; returns its name."""
        if not self._bucket_created:
            async with self.raw_client() as client:
                await client.create_bucket(Bucket=self.bucket)
            self._bucket_created = True
        return self.bucket

    def unique_prefix(self) -> str:
        """A bucket folder no other test uses."""
        return f"contract/t{next(self._prefix_numbers)}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _moto_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("moto_server")
    if script.exists():
        return [str(script), "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


def _answers_http(endpoint_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint_url}/moto-api/", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """Start ``moto_server`` on a free local port; fail (never skip) if it does not answer."""
    port = _free_port()
    endpoint_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    command = _moto_command(port)
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + _START_TIMEOUT_SECONDS
            while not _answers_http(endpoint_url):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        f"moto server did not start ({' '.join(command)}; exit code "
                        f"{process.poll()}); its log:\n{log_path.read_text(errors='replace')}",
                        pytrace=False,
                    )
                time.sleep(0.1)
            yield MotoServer(endpoint_url=endpoint_url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Plant fake credentials in the environment; returns the two variable *names*."""
    monkeypatch.setenv(ACCESS_KEY_ID_ENV, _FAKE_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv(SECRET_ACCESS_KEY_ENV, _FAKE_CREDENTIALS["aws_secret_access_key"])
    return ACCESS_KEY_ID_ENV, SECRET_ACCESS_KEY_ENV
