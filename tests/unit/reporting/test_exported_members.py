"""Reporting's public surface, and the rail that it never feeds anything back into the hot path."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import app
import app.reporting

MODULES = sorted(m.name for m in pkgutil.iter_modules(app.reporting.__path__,
                                                      prefix="app.reporting."))


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_a_docstring_and_a_resolvable_all(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in app.reporting.__all__ if not hasattr(app.reporting, n)] == []
    assert len(set(app.reporting.__all__)) == len(app.reporting.__all__)


def test_no_component_of_the_decision_loop_imports_reporting() -> None:
    """Reporting reads truth (through evaluation): only the CLI and the run driver may use it."""
    root = Path(app.__file__).parent
    importers = set()
    for path in root.rglob("*.py"):
        if "reporting" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app.reporting"):
                importers.add(str(path.relative_to(root)))
    assert importers <= {"runtime/run_driver.py", "runtime/demo.py", "cli/run_cmd.py",
                         "cli/demo_cmd.py"}, importers


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    charts = Path(app.reporting.__file__).parent / "charts.py"
    top_level = [n for n in ast.parse(charts.read_text()).body
                 if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not [n for n in top_level if "matplotlib" in ast.dump(n)]
