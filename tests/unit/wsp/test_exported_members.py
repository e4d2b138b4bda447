"""WSP's public surface: documented modules, resolvable ``__all__``, no engine import."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import app.wsp

MODULES = sorted(m.name for m in pkgutil.iter_modules(app.wsp.__path__, prefix="app.wsp."))


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_a_docstring_and_a_resolvable_all(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in app.wsp.__all__ if not hasattr(app.wsp, n)] == []
    assert len(set(app.wsp.__all__)) == len(app.wsp.__all__)


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_core_imports_no_engine_no_runtime_and_no_clock_or_randomness() -> None:
    forbidden = ("world_engine", "faust", "aiokafka", "app.agents", "app.runtime", "time",
                 "random", "uuid", "datetime")
    for path in Path(app.wsp.__path__[0]).glob("*.py"):
        imported = _imported_modules(path)
        bad = {m for m in imported for f in forbidden if m == f or m.startswith(f + ".")}
        assert bad == set(), path.name
