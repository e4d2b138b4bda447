"""The public surface of app.scoring: every listed name exists, and the package re-exports it."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import app.scoring

MODULES = ["base", "scorecard", "lightgbm_model"]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_lists_only_names_it_defines(name: str) -> None:
    module = importlib.import_module(f"app.scoring.{name}")
    assert module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in app.scoring.__all__ if not hasattr(app.scoring, n)] == []
    assert len(set(app.scoring.__all__)) == len(app.scoring.__all__)


def test_the_hot_path_does_not_import_lightgbm_until_a_model_is_scored() -> None:
    code = ("import sys, app.df.decide, app.hotpath.bundle_resolution; "
            "print('lightgbm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"
