"""``fp datasets build`` / ``show`` against a profile whose object store holds the small OFS
world (archive, audit log, labels): the summary line, create-only output, exit 0 / 1 / 2."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from app.cli.main import main
from app.objectstore.local import LocalObjectStore
from app.ofs.dataset import data_key, manifest_key
from tests.factories import tmp_profile
from tests.unit.labels.test_label_stage import label_event
from tests.unit.ofs.stored import store_world
from tests.unit.ofs.world import RUN

AS_OF = "2024-03-02T12:00:00.000000Z"


@pytest.fixture
def profile(tmp_path: Path) -> str:
    path = tmp_profile(tmp_path)

    async def write() -> None:
        async with LocalObjectStore(tmp_path / "objects") as store:
            await store_world(store, [label_event(3), label_event(5, value="abuse"),
                                      label_event(6, value="legit")])

    asyncio.run(write())
    return str(path)


def fp(profile: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--profile", profile, "datasets", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_build_then_show(profile: str, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = fp(profile, capsys, "build", "--run-id", RUN, "--label-as-of", AS_OF)
    assert code == 0
    words = out.split()
    dataset_id = words[1]
    assert words[2:10] == ["rows", "144", "positives", "2", "negatives", "142", "excluded", "0"]
    assert words[-1] == data_key(dataset_id)

    async def read() -> tuple[bytes, bool]:
        async with LocalObjectStore(tmp_path / "objects") as store:
            return (await store.get(data_key(dataset_id)),
                    await store.exists(manifest_key(dataset_id)))

    data, has_manifest = asyncio.run(read())
    assert pq.read_table(io.BytesIO(data)).num_rows == 144 and has_manifest
    code, out, _ = fp(profile, capsys, "build", "--run-id", RUN, "--label-as-of", AS_OF)
    assert code == 0 and out.split()[1] == dataset_id and "(already built)" in out
    code, out, _ = fp(profile, capsys, "show", dataset_id, "--json")
    manifest = orjson.loads(out)
    assert code == 0 and manifest["dataset_id"] == dataset_id
    assert manifest["counts"]["rows"] == 144 and manifest["label_as_of_utc"] == AS_OF
    code, out, _ = fp(profile, capsys, "show", dataset_id)
    assert code == 0 and f"run {RUN}" in out and "positives 2" in out


def test_label_options_change_the_dataset(profile: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = fp(profile, capsys, "build", "--run-id", RUN, "--label-as-of", AS_OF,
                      "--label-types", "post_auth_detection", "--positive", "fraud")
    assert code == 0 and out.split()[4:6] == ["positives", "1"]
    code, out, _ = fp(profile, capsys, "build", "--run-id", RUN, "--label-as-of",
                      "2024-03-02T12:01:00.000000Z", "--maturity-days", "1")
    # authorised after T0 + 60 s: 107 of the 144 decided flows (61..239)
    assert code == 0 and out.split()[8:10] == ["excluded", "107"]


def test_exit_codes(profile: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = fp(profile, capsys, "build", "--run-id", "0" * 32, "--label-as-of", AS_OF)
    assert code == 1 and err.startswith("nothing to build: no audited decision")
    code, _, err = fp(profile, capsys, "build", "--run-id", RUN, "--label-as-of",
                      "2024-03-01T12:00:00.000000Z")
    assert code == 1 and "no label" in err
    code, _, err = fp(profile, capsys, "build", "--run-id", "RUN", "--label-as-of", AS_OF)
    assert code == 2 and err.count("\n") == 1 and "DATASET_INPUT_INVALID" in err
    code, _, err = fp(profile, capsys, "build", "--run-id", RUN, "--label-as-of", "soon")
    assert code == 2 and "DATASET_INPUT_INVALID" in err
    assert fp(profile, capsys, "show", "f" * 64)[0] == 1
    code, _, err = fp(profile, capsys, "show", "nope")
    assert code == 2 and "DATASET_INPUT_INVALID" in err
