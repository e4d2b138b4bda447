"""Registry of ``fp`` sub-command modules, in help order."""

from __future__ import annotations

from types import ModuleType

from app.cli import (
    audit_cmd,
    broker_cmd,
    cases_cmd,
    conformance_cmd,
    console_cmd,
    datasets_cmd,
    demo_cmd,
    eb_cmd,
    eval_cmd,
    features_cmd,
    hotpath_cmd,
    labels_cmd,
    learn_cmd,
    profile_cmd,
    registry_cmd,
    run_cmd,
    schemas_cmd,
    sr_cmd,
    worker_cmd,
    world_cmd,
)

__all__ = ["MODULES"]

MODULES: list[ModuleType] = [
    demo_cmd, world_cmd, sr_cmd, run_cmd, hotpath_cmd, features_cmd, datasets_cmd, audit_cmd,
    labels_cmd, learn_cmd, cases_cmd, console_cmd, conformance_cmd, eval_cmd, eb_cmd, broker_cmd,
    worker_cmd, profile_cmd, registry_cmd, schemas_cmd,
]
