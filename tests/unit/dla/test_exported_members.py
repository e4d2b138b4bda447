"""The public surface of app.dla: every listed name exists, and the package re-exports it."""

from __future__ import annotations

import importlib

import pytest

import app.dla

MODULES = ["anomaly", "chain_view", "chains", "errors", "index", "lookup", "partition_log",
           "segments"]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_lists_only_names_it_defines(name: str) -> None:
    module = importlib.import_module(f"app.dla.{name}")
    assert module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
    assert set(module.__all__) <= set(app.dla.__all__)


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in app.dla.__all__ if not hasattr(app.dla, n)] == []
    assert len(set(app.dla.__all__)) == len(app.dla.__all__)
