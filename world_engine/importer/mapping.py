"""MAP.yaml: how the columns of an external transaction table become a world pack's outputs.

This module owns the mapping contract: a closed, frozen pydantic model (:class:`ImportMapping`)
read from YAML by :func:`load_mapping`. Unknown keys are errors, and a bad mapping fails with the
dotted path of the bad field. Its canonical JSON (every default spelled out) is part of the
import's ``parameter_hash``, so two mappings that mean the same thing hash the same.

Shape (see ``mappings/ulb_creditcard.yaml`` and ``README.md`` for a worked example)::

    mapping_version: "1"
    name: my_dataset                  # documentation; part of the hash
    source: {format: csv, csv_delimiter: ","}         # format: csv | parquet | null (by suffix)
    output: {event_type: card_transaction, schema_version: v1}
    time: {column: Time, mode: seconds_from_start, start_utc: "2013-09-01T00:00:00Z"}
    amount: {column: Amount, unit: major, minor_digits: 2, currency: {value: EUR}}
    entities: {card_id: {column: CardNo, required: true}}   # any subset of the six entity ids
    features: [{column: V1, name: v1, type: float64, nullable: false}]
    truth: {column: Class, fraud_values: ["1"], legit_values: ["0"], subtype_column: null}
    label_feed: {label_type: chargeback, min_delay_days: 14, max_delay_days: 45, coverage: 1.0}
    bad_rows: refuse                  # refuse | quarantine

Entity ids that are not mapped are null in every row (never synthesised: an invented id would
fabricate velocity and graph signal the source never had).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from world_engine.importer.errors import ImportMappingError

__all__ = [
    "ENTITY_COLUMNS",
    "RESERVED_TRAFFIC_COLUMNS",
    "AmountSpec",
    "CurrencySpec",
    "EntityName",
    "EntitySpec",
    "FeatureSpec",
    "FeatureType",
    "ImportMapping",
    "LabelFeedSpec",
    "OutputNaming",
    "SourceSpec",
    "TimeSpec",
    "TruthSpec",
    "load_mapping",
    "parse_mapping",
]

EntityName = Literal["card_id", "account_id", "customer_id", "merchant_id", "device_id", "ip_id"]
ENTITY_COLUMNS: tuple[EntityName, ...] = (
    "card_id",
    "account_id",
    "customer_id",
    "merchant_id",
    "device_id",
    "ip_id",
)
"""The entity-id columns of every imported traffic output, in column order."""

RESERVED_TRAFFIC_COLUMNS: frozenset[str] = frozenset(
    {"txn_id", "ts_utc", "amount_minor", "currency", *ENTITY_COLUMNS}
)
"""Traffic column names a feature may not take."""

FeatureType = Literal["float64", "int64", "string", "bool"]

_Closed = ConfigDict(extra="forbid", frozen=True)
_Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
_Column = Annotated[str, StringConstraints(min_length=1)]


class SourceSpec(BaseModel):
    """How to read the input file."""

    model_config = _Closed

    format: Literal["csv", "parquet"] | None = Field(
        default=None, description="null: from the suffix (.csv, .csv.gz, .parquet, .pq)."
    )
    csv_delimiter: Annotated[str, StringConstraints(min_length=1, max_length=1)] = ","


class OutputNaming(BaseModel):
    """Names of the imported traffic: output_id and envelope event_type are the same string."""

    model_config = _Closed

    event_type: _Name = "card_transaction"
    schema_version: Annotated[str, StringConstraints(pattern=r"^v[0-9]+$")] = "v1"


class TimeSpec(BaseModel):
    """The event-time column: absolute timestamps, or seconds counted from ``start_utc``."""

    model_config = _Closed

    column: _Column
    mode: Literal["absolute", "seconds_from_start"]
    start_utc: dt.datetime | None = Field(
        default=None, description="seconds_from_start only: the instant of second 0 (tz-aware)."
    )
    assume_utc: bool = Field(
        default=False, description="absolute only: read naive timestamps as UTC (else bad rows)."
    )

    @model_validator(mode="after")
    def _mode_fields(self) -> TimeSpec:
        if self.mode == "seconds_from_start":
            if self.start_utc is None:
                raise ValueError("mode seconds_from_start needs start_utc")
            if self.start_utc.utcoffset() is None:
                raise ValueError("start_utc needs a UTC offset, e.g. 2013-09-01T00:00:00Z")
            if self.assume_utc:
                raise ValueError("assume_utc applies to mode absolute only")
        elif self.start_utc is not None:
            raise ValueError("start_utc applies to mode seconds_from_start only")
        return self

    @field_validator("start_utc", mode="after")
    @classmethod
    def _to_utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None or value.utcoffset() is None:
            return value
        return value.astimezone(dt.UTC)


class CurrencySpec(BaseModel):
    """Exactly one of a fixed ISO 4217 code or a column holding one per row."""

    model_config = _Closed

    value: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    column: _Column | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CurrencySpec:
        if (self.value is None) == (self.column is None):
            raise ValueError("give exactly one of value (e.g. EUR) or column")
        return self


class AmountSpec(BaseModel):
    """The amount column, its unit, and the currency."""

    model_config = _Closed

    column: _Column
    unit: Literal["major", "minor"] = Field(
        description="major: decimal amounts (149.62 EUR); minor: integer minor units (14962)."
    )
    minor_digits: int = Field(
        default=2, ge=0, le=4, description="Currency exponent: minor = major * 10**minor_digits."
    )
    currency: CurrencySpec


class EntitySpec(BaseModel):
    """The source column of one entity id; values are carried as trimmed strings."""

    model_config = _Closed

    column: _Column
    required: bool = Field(default=True, description="A missing id is a bad row (ID_MISSING).")


class FeatureSpec(BaseModel):
    """A source column carried into the traffic payload under ``name`` with a declared type."""

    model_config = _Closed

    column: _Column
    name: _Name
    type: FeatureType
    nullable: bool = False


def _label_text(value: Any) -> Any:
    """YAML may write label values as ints or bools; compare them as the strings rows hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value).strip()
    return value


class TruthSpec(BaseModel):
    """The label column that becomes the ``truth`` output (never streamed)."""

    model_config = _Closed

    column: _Column
    fraud_values: tuple[str, ...] = Field(min_length=1)
    legit_values: tuple[str, ...] = Field(min_length=1)
    subtype_column: _Column | None = Field(
        default=None, description="Optional second label column, carried as truth's subtype."
    )

    @field_validator("fraud_values", "legit_values", mode="before")
    @classmethod
    def _as_strings(cls, values: Any) -> Any:
        if not isinstance(values, list | tuple):
            return values
        return tuple(_label_text(v) for v in values)

    @model_validator(mode="after")
    def _disjoint(self) -> TruthSpec:
        if set(self.fraud_values) & set(self.legit_values):
            raise ValueError("fraud_values and legit_values overlap")
        return self


class LabelFeedSpec(BaseModel):
    """The bank's delayed view: one label event per fraud row it learns of (seeded draws)."""

    model_config = _Closed

    event_type: _Name | None = Field(
        default=None, description="null: '<traffic event_type>_label'."
    )
    schema_version: Annotated[str, StringConstraints(pattern=r"^v[0-9]+$")] = "v1"
    label_type: Literal["post_auth_detection", "customer_dispute", "chargeback"] = "chargeback"
    min_delay_days: float = Field(ge=0, le=3650)
    max_delay_days: float = Field(ge=0, le=3650)
    coverage: float = Field(
        default=1.0, gt=0, le=1, description="Share of fraud rows the bank ever learns of."
    )

    @model_validator(mode="after")
    def _ordered(self) -> LabelFeedSpec:
        if self.max_delay_days < self.min_delay_days:
            raise ValueError("max_delay_days is below min_delay_days")
        return self


class ImportMapping(BaseModel):
    """A whole MAP.yaml."""

    model_config = _Closed

    mapping_version: Literal["1"]
    name: _Name
    description: str | None = None
    source: SourceSpec = SourceSpec()
    output: OutputNaming = OutputNaming()
    time: TimeSpec
    amount: AmountSpec
    entities: dict[EntityName, EntitySpec] = Field(default_factory=dict)
    features: tuple[FeatureSpec, ...] = ()
    truth: TruthSpec
    label_feed: LabelFeedSpec | None = None
    bad_rows: Literal["refuse", "quarantine"] = "refuse"

    @model_validator(mode="after")
    def _names_are_unique(self) -> ImportMapping:
        names = [f.name for f in self.features]
        clash = sorted({n for n in names if names.count(n) > 1 or n in RESERVED_TRAFFIC_COLUMNS})
        if clash:
            raise ValueError(f"feature names {clash} repeat or take a reserved traffic column")
        taken = {self.traffic_output_id, self.truth_output_id, self.quarantine_output_id}
        if self.label_feed is not None and self.label_output_id in taken:
            raise ValueError(f"label_feed.event_type {self.label_output_id!r} is already taken")
        return self

    @property
    def traffic_output_id(self) -> str:
        return self.output.event_type

    @property
    def truth_output_id(self) -> str:
        return f"{self.output.event_type}_truth"

    @property
    def quarantine_output_id(self) -> str:
        return f"{self.output.event_type}_quarantine"

    @property
    def label_output_id(self) -> str:
        feed = self.label_feed
        if feed is None:
            raise ValueError("the mapping has no label_feed")
        return feed.event_type or f"{self.output.event_type}_label"

    def source_columns(self) -> tuple[str, ...]:
        """Every input column the mapping reads, first use first, without repeats."""
        columns = [self.time.column, self.amount.column]
        if self.amount.currency.column is not None:
            columns.append(self.amount.currency.column)
        columns += [spec.column for spec in self.entities.values()]
        columns += [self.truth.column]
        if self.truth.subtype_column is not None:
            columns.append(self.truth.subtype_column)
        columns += [f.column for f in self.features]
        return tuple(dict.fromkeys(columns))

    def canonical(self) -> dict[str, Any]:
        """JSON form with every default spelled out (hashed into ``parameter_hash``)."""
        data = self.model_dump(mode="json")
        if self.time.start_utc is not None:  # one spelling of the instant, whatever the YAML said
            data["time"]["start_utc"] = self.time.start_utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return data


def parse_mapping(data: Any, source: str = "<mapping>") -> ImportMapping:
    """Validate an already-parsed mapping document.

    Raises:
        ImportMappingError: the first invalid field, by dotted path, with pydantic's explanation.
    """
    if not isinstance(data, dict):
        raise ImportMappingError(source, "", "the document must be a mapping (YAML object)")
    try:
        return ImportMapping.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ImportMappingError(source, field, first["msg"]) from exc


def load_mapping(path: str | os.PathLike[str]) -> ImportMapping:
    """Read and validate a MAP.yaml file.

    Raises:
        ImportMappingError: unreadable file, invalid YAML, or an invalid field.
    """
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportMappingError(where, "", f"cannot read the file: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportMappingError(where, "", f"not valid YAML: {exc}") from exc
    return parse_mapping(data, where)
