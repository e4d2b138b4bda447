"""Generation parameters of the synthetic bank world and their ``parameter_hash``.

This module owns the parameter pack: a closed, frozen pydantic model (:class:`WorldParams`) whose
canonical JSON, *without* the seed, hashes to ``parameter_hash`` (docs/world_pack_format.md,
"Identity"). It also owns the scale table: ``scale`` sizes the bank (customers, merchants) and its
daily authorisation volume; ``days`` says how many days of authorisations the world holds.

Nominal sizes at the default ``days=7`` (authorisations; follow-ups and labels come on top):

=======  ===========  ==========  ============  =================
scale    customers    merchants   auths / day   auths in 7 days
=======  ===========  ==========  ============  =================
tiny           700          150          715          ~5 000 (tests)
small        6 000          800        7 143         ~50 000 (demo)
medium     120 000        8 000      142 857      ~1 000 000
large    1 200 000       40 000    1 428 571     ~10 000 000
=======  ===========  ==========  ============  =================

Campaign mix (shares of the fraud+abuse flows, summing to 1; defaults in brackets):
card testing [0.30] (probe bursts plus the later cash-out of tested cards), account takeover
[0.25], refund abuse [0.15, labelled *abuse*], merchant collusion [0.15], mule activity [0.15].
``fraud_rate_target`` (0.5 %-3 %, default 1.5 %) is the share of all authorisations that are fraud
or abuse; each campaign kind gets ``round(expected_auths * fraud_rate_target * share)`` flows, so
the realised mix matches the shares to within rounding and the realised rate matches the target
to within the Poisson noise of legitimate volume.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.rails.canonical_json import canonical_dumps, sha256_hex
from world_engine.errors import WorldParamsError

__all__ = [
    "CAMPAIGN_KINDS",
    "SCALES",
    "CampaignKind",
    "CampaignMix",
    "Scale",
    "ScaleSpec",
    "WorldParams",
    "parse_params",
]

Scale = Literal["tiny", "small", "medium", "large"]

CampaignKind = Literal[
    "card_testing", "account_takeover", "refund_abuse", "merchant_collusion", "mule_activity"
]
CAMPAIGN_KINDS: tuple[CampaignKind, ...] = (
    "card_testing",
    "account_takeover",
    "refund_abuse",
    "merchant_collusion",
    "mule_activity",
)
"""Campaign kinds in their fixed generation order (also the order of their RNG streams)."""


@dataclass(frozen=True, slots=True)
class ScaleSpec:
    """Size of the bank at one scale."""

    customers: int
    merchants: int
    auths_per_day: int
    """Mean authorisations per day before the weekday factor."""


SCALES: dict[str, ScaleSpec] = {
    "tiny": ScaleSpec(customers=700, merchants=150, auths_per_day=715),
    "small": ScaleSpec(customers=6_000, merchants=800, auths_per_day=7_143),
    "medium": ScaleSpec(customers=120_000, merchants=8_000, auths_per_day=142_857),
    "large": ScaleSpec(customers=1_200_000, merchants=40_000, auths_per_day=1_428_571),
}

_Closed = ConfigDict(extra="forbid", frozen=True)


class CampaignMix(BaseModel):
    """Share of the fraud+abuse flows each campaign kind produces; the shares sum to 1."""

    model_config = _Closed

    card_testing: float = Field(default=0.30, ge=0, le=1)
    account_takeover: float = Field(default=0.25, ge=0, le=1)
    refund_abuse: float = Field(default=0.15, ge=0, le=1)
    merchant_collusion: float = Field(default=0.15, ge=0, le=1)
    mule_activity: float = Field(default=0.15, ge=0, le=1)

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> CampaignMix:
        total = sum(self.share(kind) for kind in CAMPAIGN_KINDS)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"campaign shares must sum to 1, got {total:.6f}")
        return self

    def share(self, kind: CampaignKind) -> float:
        """The share of ``kind``."""
        return float(getattr(self, kind))


class WorldParams(BaseModel):
    """Everything that shapes a world except the seed; hashes to ``parameter_hash``."""

    model_config = _Closed

    scale: Scale = Field(default="small", description="Size of the bank (see the scale table).")
    days: int = Field(default=7, ge=1, le=366, description="Days of authorisations.")
    start_date: dt.date = Field(
        default=dt.date(2025, 3, 3), description="First UTC day of authorisations (YYYY-MM-DD)."
    )
    fraud_rate_target: float = Field(
        default=0.015, ge=0.005, le=0.03, description="Fraud+abuse share of authorisations."
    )
    campaign_mix: CampaignMix = Field(default_factory=CampaignMix)

    @property
    def spec(self) -> ScaleSpec:
        """The scale's sizes."""
        return SCALES[self.scale]

    @property
    def start_epoch_micros(self) -> int:
        """Epoch microseconds of ``start_date`` 00:00:00Z (domain time starts here)."""
        start = dt.datetime.combine(self.start_date, dt.time(), tzinfo=dt.UTC)
        return int(start.timestamp()) * 1_000_000

    def canonical(self) -> dict[str, Any]:
        """The JSON form that is hashed and written to the manifest's ``parameters``."""
        return self.model_dump(mode="json")

    def parameter_hash(self) -> str:
        """hex64 sha256 over the canonical JSON of the parameters (the seed is not part of it)."""
        return sha256_hex(canonical_dumps(self.canonical()))


def parse_params(**values: Any) -> WorldParams:
    """Build :class:`WorldParams`, turning a validation failure into :class:`WorldParamsError`.

    Raises:
        WorldParamsError: the first invalid field, by dotted path, with pydantic's explanation.
    """
    try:
        return WorldParams(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise WorldParamsError(field, first["msg"]) from exc
