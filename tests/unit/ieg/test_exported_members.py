"""The public surface of app.ieg: every listed name exists, and the package re-exports it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import app.ieg

MODULES = ["edge", "errors", "graph", "graph_version", "link_features", "observation", "queries"]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_lists_only_names_it_defines(name: str) -> None:
    module = importlib.import_module(f"app.ieg.{name}")
    assert module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in app.ieg.__all__ if not hasattr(app.ieg, n)] == []
    assert len(set(app.ieg.__all__)) == len(app.ieg.__all__)


FORBIDDEN = {"asyncio", "datetime", "faust", "mode", "os", "random", "socket", "time", "uuid"}


@pytest.mark.parametrize("name", MODULES)
def test_modules_import_no_clock_broker_or_io(name: str) -> None:
    """The projection must replay identically anywhere, so it may not reach for these."""
    module = importlib.import_module(f"app.ieg.{name}")
    tree = ast.parse(Path(module.__file__ or "").read_text())
    imported = {
        a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    imported |= {
        n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
    }
    assert imported & FORBIDDEN == set()
