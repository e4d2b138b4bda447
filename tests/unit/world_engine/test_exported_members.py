"""The world engine's public surface: every module lists only names it defines."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import world_engine

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(world_engine.__path__, prefix="world_engine.")
)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_a_docstring_and_a_resolvable_all(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in world_engine.__all__ if not hasattr(world_engine, n)] == []
    assert len(set(world_engine.__all__)) == len(world_engine.__all__)


def test_the_engine_does_not_import_platform_components() -> None:
    for name in MODULES:
        source = importlib.import_module(name).__file__
        assert source is not None
        text = Path(source).read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.startswith(("from app", "import app")):
                assert line.startswith("from app.rails"), (name, line)
