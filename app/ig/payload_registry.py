"""Which payload schema an ``(event_type, schema_version)`` has, and which topic admits it.

The registry is the IG's view of the versioned payload contracts (pydantic models in
``app/rails/payloads/``, JSON Schemas generated into ``schemas/payloads/``). Validation returns
reason codes, never raises: bad payloads are data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from app.rails.reason_codes import ReasonCode

__all__ = ["PayloadIssue", "PayloadRegistry", "PayloadSpec"]

Stream = Literal["traffic", "labels"]


@dataclass(frozen=True)
class PayloadSpec:
    """One registered payload contract and the bus stream it belongs to."""

    model: type[BaseModel]
    stream: Stream


@dataclass(frozen=True)
class PayloadIssue:
    reason_code: ReasonCode
    field_paths: tuple[str, ...] = ()
    detail: str = ""


class PayloadRegistry:
    """Immutable map ``(event_type, schema_version) -> PayloadSpec``."""

    def __init__(self, specs: Mapping[tuple[str, str], PayloadSpec]) -> None:
        self._specs = dict(specs)
        self._types = {event_type for event_type, _ in self._specs}

    def spec(self, event_type: str, schema_version: str) -> PayloadSpec | PayloadIssue:
        """The spec, or EVENT_TYPE_UNKNOWN / SCHEMA_VERSION_UNKNOWN."""
        found = self._specs.get((event_type, schema_version))
        if found is not None:
            return found
        if event_type in self._types:
            return PayloadIssue(ReasonCode.SCHEMA_VERSION_UNKNOWN, ("schema_version",),
                                f"{event_type} has no schema {schema_version}")
        return PayloadIssue(ReasonCode.EVENT_TYPE_UNKNOWN, ("event_type",),
                            f"no payload schema for event type {event_type}")

    def validate(self, spec: PayloadSpec, payload: dict[str, Any]) -> PayloadIssue | None:
        """None when ``payload`` satisfies the spec's model; else PAYLOAD_SCHEMA_INVALID."""
        try:
            spec.model.model_validate(payload)
        except ValidationError as exc:
            paths = tuple(sorted({"payload." + ".".join(str(p) for p in e["loc"])
                                  for e in exc.errors()}))
            return PayloadIssue(ReasonCode.PAYLOAD_SCHEMA_INVALID, paths,
                                f"{len(exc.errors())} payload field(s) invalid")
        return None

    @property
    def keys(self) -> list[tuple[str, str]]:
        return sorted(self._specs)
