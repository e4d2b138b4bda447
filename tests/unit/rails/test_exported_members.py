"""The public surface of app.rails: every listed name exists, and the package re-exports it."""

from __future__ import annotations

import importlib

import pytest

import app.rails

MODULES = [
    "canonical_json",
    "digests",
    "envelope",
    "errors",
    "ids",
    "partition_key",
    "pins",
    "policy_rev",
    "reason_codes",
    "receipts",
    "schema_export",
    "timefmt",
]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_lists_only_names_it_defines(name: str) -> None:
    module = importlib.import_module(f"app.rails.{name}")
    assert module.__all__, name
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_package_all_resolves_without_duplicates() -> None:
    assert [n for n in app.rails.__all__ if not hasattr(app.rails, n)] == []
    assert len(set(app.rails.__all__)) == len(app.rails.__all__)
