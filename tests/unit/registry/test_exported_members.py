"""The public surface of app.registry: every listed name exists, and the package re-exports it."""

from __future__ import annotations

import importlib

import pytest

import app.registry

MODULES = ["resolver", "scorecard", "store"]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_lists_only_names_it_defines(name: str) -> None:
    module = importlib.import_module(f"app.registry.{name}")
    assert module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
    assert set(module.__all__) <= set(app.registry.__all__)


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in app.registry.__all__ if not hasattr(app.registry, n)] == []
    assert len(set(app.registry.__all__)) == len(app.registry.__all__)


def test_bundle_contract_lists_only_names_it_defines() -> None:
    module = importlib.import_module("app.rails.bundle")
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
