"""Secrets come from the environment at run time only; no artifact or log ever holds a value.

Plants secret values, runs the substrate (profile load, CLI, worker start, object writes on the
local and S3 back ends), then scans every file produced for the planted values.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from app.cli.main import main
from app.objectstore.config import LocalObjectStoreConfig, S3ObjectStoreConfig, open_object_store
from app.profiles.loader import load_profile
from app.runtime.supervisor import WorkerProcess
from tests.fixtures.s3_server import MotoServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _files_containing(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and any(n in path.read_bytes() for n in needles):
            hits.append(str(path))
    return hits


async def _write_objects(moto: MotoServer, root: Path, key_env: str, secret_env: str) -> None:
    bucket = await moto.ensure_bucket()
    stores = [
        open_object_store(LocalObjectStoreConfig(root=str(root / "objects"))),
        open_object_store(S3ObjectStoreConfig(
            bucket=bucket, prefix=moto.unique_prefix(), endpoint_url=moto.endpoint_url,
            access_key_id_env=key_env, secret_access_key_env=secret_env)),
    ]
    for store in stores:
        async with store:
            ref = await store.put("governance/probe.json", b'{"probe": true}')
            assert await store.get("governance/probe.json", expected=ref.digest)


def test_planted_secrets_appear_in_no_produced_file_or_log(
    spawn_worker: Callable[..., WorkerProcess], moto_server: MotoServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    planted = {
        "FP_INGEST_API_KEY": "ingest-" + secrets.token_hex(16),
        "FP_TEST_SECRET_KEY": "s3secret-" + secrets.token_hex(16),
        "FP_TEST_ACCESS_KEY": "s3access-" + secrets.token_hex(8),
    }
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    needles = [v.encode() for v in planted.values()]

    worker = spawn_worker("secrets")  # inherits the planted environment
    worker.wait_ready()
    profile = load_profile(worker.profile)
    assert main(["--profile", worker.profile, "profile", "show"]) == 0
    asyncio.run(_write_objects(moto_server, tmp_path, "FP_TEST_ACCESS_KEY", "FP_TEST_SECRET_KEY"))
    worker.stop()

    out = capsys.readouterr()
    assert not any(n.decode() in out.out + out.err for n in needles)
    produced = _files_containing(tmp_path, needles)
    produced += _files_containing(profile.resolve(profile.wiring.worker.datadir), needles)
    assert produced == [], f"secret values written to: {produced}"
    # The scan itself can find a value (guards against a scan that sees nothing).
    canary = tmp_path.parent / f"{tmp_path.name}-canary"
    canary.mkdir()
    (canary / "leak.log").write_bytes(b"x" + needles[0] + b"y")
    assert _files_containing(canary, needles) == [str(canary / "leak.log")]
    # The profile names the variable; the value stays in the environment.
    assert profile.wiring.ingest_api_key_env == "FP_INGEST_API_KEY"
