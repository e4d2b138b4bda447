"""Registry of ``fp`` sub-command modules, in help order."""

from __future__ import annotations

from types import ModuleType

__all__ = ["MODULES"]

MODULES: list[ModuleType] = []
