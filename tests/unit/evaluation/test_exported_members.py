"""Evaluation's public surface, and the rail that truth never reaches the hot path."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import app
import app.evaluation

MODULES = sorted(m.name for m in pkgutil.iter_modules(app.evaluation.__path__,
                                                      prefix="app.evaluation."))
APP_ROOT = Path(app.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_a_docstring_and_a_resolvable_all(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in app.evaluation.__all__ if not hasattr(app.evaluation, n)] == []
    assert len(set(app.evaluation.__all__)) == len(app.evaluation.__all__)


def test_only_after_the_fact_tools_import_evaluation() -> None:
    """Truth is evaluation-only: no component (hot path, agents, runtime) may reach it; the
    eval command and the main job's report (after the run drained) are the only readers."""
    importers = sorted(
        str(path.relative_to(APP_ROOT)) for path in APP_ROOT.rglob("*.py")
        if "evaluation" not in path.parts
        and any(m == "app.evaluation" or m.startswith("app.evaluation.") for m in _imports(path)))
    assert [i for i in importers if not i.startswith("reporting/")] == ["cli/eval_cmd.py"]


def test_evaluation_imports_no_engine_and_no_stream_runtime() -> None:
    forbidden = ("world_engine", "faust", "aiokafka", "app.agents", "app.runtime", "app.hotpath")
    for path in Path(app.evaluation.__file__).parent.glob("*.py"):
        bad = [m for m in _imports(path) if m.startswith(forbidden)]
        assert bad == [], path.name
