"""Fixtures for the world engine tests: small sealed packs built once per session.

``tiny_pack`` (about 5 000 authorisations) serves the layout and determinism tests;
``small_pack`` (about 50 000, the demo's scale) serves the statistics and campaign-signal tests,
which need enough fraud to measure. Both are read through the manifest, as the platform would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.rails.canonical_json import canonical_loads
from world_engine import WorldLocator, WorldParams, generate_world

TINY_SEED = 7
SMALL_SEED = 42


class Pack:
    """A sealed pack on disk with cached readers."""

    def __init__(self, locator: WorldLocator, params: WorldParams) -> None:
        self.locator = locator
        self.params = params
        self.path = Path(locator.path)
        self._tables: dict[str, pa.Table] = {}

    def json(self, rel: str) -> Any:
        return canonical_loads((self.path / rel).read_bytes())

    @property
    def manifest(self) -> dict[str, Any]:
        return self.json("manifest.json")

    def table(self, output_id: str) -> pa.Table:
        if output_id not in self._tables:
            entry = next(o for o in self.manifest["outputs"] if o["output_id"] == output_id)
            self._tables[output_id] = pa.concat_tables(
                [pq.read_table(self.path / f) for f in entry["files"]]
            )
        return self._tables[output_id]


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` by relative POSIX path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def make_pack(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Pack]:
    """Generate a pack into a fresh oracle root: ``make_pack(seed=…, **param_overrides)``."""

    def make(seed: int = TINY_SEED, scenario_id: str = "baseline", **overrides: Any) -> Pack:
        params = WorldParams(**{"scale": "tiny", **overrides})
        root = tmp_path_factory.mktemp("oracle")
        return Pack(generate_world(params, seed, root, scenario_id), params)

    return make


@pytest.fixture(scope="session")
def tiny_pack(make_pack: Callable[..., Pack]) -> Pack:
    return make_pack()


@pytest.fixture(scope="session")
def small_pack(make_pack: Callable[..., Pack]) -> Pack:
    return make_pack(seed=SMALL_SEED, scale="small")
