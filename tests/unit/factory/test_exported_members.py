"""The factory's public surface, and its heavy imports kept out of module import time."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import app.factory

MODULES = sorted(m.name for m in pkgutil.iter_modules(app.factory.__path__,
                                                      prefix="app.factory."))


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_a_docstring_and_a_resolvable_all(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in app.factory.__all__ if not hasattr(app.factory, n)] == []
    assert len(set(app.factory.__all__)) == len(app.factory.__all__)


@pytest.mark.parametrize("heavy", ["matplotlib", "lightgbm", "sklearn"])
def test_heavy_libraries_are_imported_only_when_used(heavy: str) -> None:
    for path in Path(app.factory.__file__).parent.glob("*.py"):
        top_level = [n for n in ast.parse(path.read_text()).body
                     if isinstance(n, ast.Import | ast.ImportFrom)]
        assert not [n for n in top_level if heavy in ast.dump(n)], path.name


def test_no_pickle_anywhere() -> None:
    for path in Path(app.factory.__file__).parent.glob("*.py"):
        assert "pickle" not in path.read_text().replace("never a pickle", ""), path.name
