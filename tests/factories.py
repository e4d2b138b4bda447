"""Factories shared by test suites: valid by default, override one field per test."""

from __future__ import annotations

from typing import Any

from app.rails.envelope import CanonicalEnvelope, dump_envelope
from app.rails.ids import engine_event_id, make_id, run_id
from app.rails.timefmt import epoch_micros_to_ts

__all__ = ["make_envelope", "make_envelope_bytes", "make_pins"]

_T0_MICROS = 1_709_294_400_000_000  # 2024-03-01T12:00:00Z


def make_pins(scenario_id: str = "baseline", request: str = "run-1") -> dict[str, Any]:
    """Four pins of a run, derived from content like the real ones."""
    return {
        "manifest_fingerprint": make_id("test.world", scenario_id),
        "parameter_hash": make_id("test.params", scenario_id),
        "scenario_id": scenario_id,
        "run_id": run_id(f"{scenario_id}:{request}"),
    }


def make_envelope(
    index: int = 0, *, event_type: str = "auth_request", pins: dict[str, Any] | None = None,
    seed: int = 7, **overrides: Any,
) -> CanonicalEnvelope:
    """The ``index``-th synthetic traffic event of a run (distinct card per 97 events)."""
    pins = pins or make_pins()
    fields: dict[str, Any] = {
        "event_id": engine_event_id(
            output_id=event_type, pk_values={"flow_id": index},
            manifest_fingerprint=pins["manifest_fingerprint"],
            parameter_hash=pins["parameter_hash"], seed=seed, scenario_id=pins["scenario_id"],
        ),
        "event_type": event_type,
        "schema_version": "v1",
        "ts_utc": epoch_micros_to_ts(_T0_MICROS + index * 1_000_000),
        **pins,
        "seed": seed,
        "payload": {"flow_id": index, "card_id": f"card_{index % 97}", "amount_minor": 1000 + index,
                    "currency": "EUR"},
    }
    return CanonicalEnvelope.model_validate(fields | overrides)


def make_envelope_bytes(index: int = 0, **kwargs: Any) -> bytes:
    """Canonical wire bytes of :func:`make_envelope`."""
    return dump_envelope(make_envelope(index, **kwargs))
