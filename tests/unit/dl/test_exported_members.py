"""The public surface of app.dl: every listed name exists, and the package re-exports it."""

from __future__ import annotations

import importlib

import pytest

import app.dl

MODULES = ["ladder", "policy", "posture_view", "signals"]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_lists_only_names_it_defines(name: str) -> None:
    module = importlib.import_module(f"app.dl.{name}")
    assert module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
    assert set(module.__all__) <= set(app.dl.__all__)


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in app.dl.__all__ if not hasattr(app.dl, n)] == []
    assert len(set(app.dl.__all__)) == len(app.dl.__all__)
