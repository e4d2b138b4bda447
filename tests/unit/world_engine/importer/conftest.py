"""Fixtures for importer tests: a valid mapping factory and a small valid CSV in tmp."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.world_engine.importer.factories import base_mapping, make_rows, write_csv
from world_engine.importer import ImportMapping, parse_mapping


@pytest.fixture
def make_mapping() -> Callable[..., ImportMapping]:
    def make(**overrides: Any) -> ImportMapping:
        return parse_mapping({**base_mapping(), **overrides})

    return make


@pytest.fixture
def input_csv(tmp_path: Path) -> Path:
    """Twelve valid rows (three fraud) as CSV."""
    return write_csv(tmp_path / "input.csv", make_rows())
