"""Payload contracts generated from a world's declared schema (imported worlds, issue #15).

A generated world's traffic has hand-written contracts (:data:`app.rails.payloads.PAYLOAD_MODELS`).
An imported world (``fp world import``) declares its own: each streamed output of its interface
pack lists its columns (name, engine type, nullable), and SR copies them into the run's
``run_facts_view`` (:class:`~app.rails.run_facts.FactColumn`). At run start, IG and the hot path
build one closed, strict pydantic model per streamed ``(event_type, schema_version)`` the
hand-written set does not know: the payload is every declared column but the output's time column
(it travels as the envelope's ``ts_utc``), exactly as WSP frames it.

- closed: an undeclared field is ``PAYLOAD_FIELD_UNKNOWN``;
- every declared field must be present (``PAYLOAD_FIELD_MISSING``), ``null`` only when the column
  is nullable, and of its type without coercion (``PAYLOAD_FIELD_TYPE``): ``string`` is a JSON
  string, ``int64`` an integer in int64 range, ``float64`` a finite number, ``bool`` a JSON boolean,
  a ``timestamp`` a wire timestamp (``YYYY-MM-DDTHH:MM:SS.ffffffZ``);
- versioned: the contract is named by its ``(event_type, schema_version)`` and identified by the
  digest of its declared columns (:attr:`DeclaredContract.digest`), so two imports that reuse a
  version with other columns never share a contract (each run validates against its own).

The declared *features* of a traffic output are its columns other than the primary key, the six
entity ids, ``amount_minor`` and ``currency`` (numeric and boolean columns only): the hot path
puts them in the ``txn`` family as ``txn.<name>``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
)

from app.rails.canonical_json import canonical_dumps, sha256_hex
from app.rails.payloads.fields import INT64_MAX, PayloadModel
from app.rails.reason_codes import ReasonCode
from app.rails.run_facts import FactOutput, RunFactsView
from app.rails.timefmt import TsUtc

__all__ = [
    "ENTITY_ID_COLUMNS",
    "DeclaredContract",
    "DeclaredIssue",
    "contract_of",
    "declared_contracts",
    "validate_declared",
]

ENTITY_ID_COLUMNS: tuple[str, ...] = (
    "card_id", "account_id", "customer_id", "merchant_id", "device_id", "ip_id")
"""Entity id columns an import's traffic always carries (null where the import maps none)."""
_NOT_FEATURES = frozenset({*ENTITY_ID_COLUMNS, "amount_minor", "currency"})

FeatureDtype = Literal["int", "float", "bool"]
_FEATURE_DTYPES: Mapping[str, FeatureDtype] = {"int64": "int", "float64": "float", "bool": "bool"}


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


_TYPES: Mapping[str, Any] = {
    "string": StrictStr,
    "int64": Annotated[StrictInt, Field(ge=-INT64_MAX - 1, le=INT64_MAX)],
    "float64": Annotated[StrictFloat | StrictInt, AfterValidator(_finite)],
    "bool": StrictBool,
}


def _python_type(engine_type: str) -> Any:
    if engine_type.startswith("timestamp["):
        return TsUtc
    try:
        return _TYPES[engine_type]
    except KeyError:
        raise ValueError(f"declared column type {engine_type!r} has no payload contract") from None


@dataclass(frozen=True)
class DeclaredContract:
    """The generated contract of one streamed output of a run's world."""

    event_type: str
    schema_version: str
    output_id: str
    role: Literal["business_traffic", "label_feed"]
    model: type[BaseModel]
    digest: str
    """sha256 of the declared payload columns (name, type, nullable), canonical JSON."""
    flow_field: str | None
    """The payload field naming the event's flow (``txn_id`` of an import), if any."""
    features: tuple[tuple[str, FeatureDtype], ...]
    """Declared feature columns (traffic only), by name, with their feature dtype."""

    @property
    def stream(self) -> Literal["traffic", "labels"]:
        return "labels" if self.role == "label_feed" else "traffic"


@dataclass(frozen=True)
class DeclaredIssue:
    """Why a payload does not satisfy its declared contract."""

    reason_code: ReasonCode
    field_paths: tuple[str, ...]
    detail: str


_CACHE: dict[tuple[str, str, str], type[BaseModel]] = {}

_Spec = tuple[str, str, tuple[tuple[str, str, bool], ...]]
"""What a generated model is made from: event type, schema version, (name, type, nullable)."""


class DeclaredPayload(PayloadModel):
    """Base of the generated payload models. They are made at run time, so pickle cannot find
    them by name in another process (a restarted worker reading a hot-path fold snapshot): an
    instance pickles as its spec and its values, and unpickling makes the model again."""

    _spec: ClassVar[_Spec]

    def __reduce__(self) -> tuple[Any, ...]:
        return _restore, (type(self)._spec, self.model_dump())


def _restore(spec: _Spec, values: dict[str, Any]) -> BaseModel:
    return _model_for(*spec).model_validate(values)


def _model_for(event_type: str, schema_version: str,
               columns: tuple[tuple[str, str, bool], ...]) -> type[BaseModel]:
    """The generated model of these columns (one per spec, cached; named in this module so a
    reference to the class pickles within the process too)."""
    declared = [{"name": n, "type": t, "nullable": nullable} for n, t, nullable in columns]
    digest = sha256_hex(canonical_dumps({"event_type": event_type,
                                         "schema_version": schema_version,
                                         "columns": declared}))
    key = (event_type, schema_version, digest)
    model = _CACHE.get(key)
    if model is None:
        fields: dict[str, Any] = {}
        for name, type_name, nullable in columns:
            type_ = _python_type(type_name)
            fields[name] = (type_ | None if nullable else type_, ...)
        class_name = "Declared_" + "".join(p.title() for p in event_type.split("_")) + \
            "_" + schema_version + "_" + digest[:12]
        model = create_model(class_name, __base__=DeclaredPayload, **fields)
        model._spec = (event_type, schema_version, columns)
        model.__module__ = __name__
        globals()[class_name] = model
        _CACHE[key] = model
    return model


def contract_of(output: FactOutput) -> DeclaredContract:
    """The generated contract of a streamed output (its columns minus its time column).

    Raises:
        ValueError: the output is not streamed traffic or labels, declares no columns, or has a
            column type with no payload contract.
    """
    if output.role not in ("business_traffic", "label_feed") or not output.event_type \
            or not output.schema_version:
        raise ValueError(f"output {output.output_id!r} is not a streamed event output")
    columns = [c for c in output.columns if c.name != output.time_column]
    if not columns:
        raise ValueError(f"output {output.output_id!r} declares no payload columns")
    declared = [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in columns]
    digest = sha256_hex(canonical_dumps({"event_type": output.event_type,
                                         "schema_version": output.schema_version,
                                         "columns": declared}))
    model = _model_for(output.event_type, output.schema_version,
                       tuple((c.name, c.type, c.nullable) for c in columns))
    flow_field = "txn_id" if any(c.name == "txn_id" for c in columns) else None
    features: tuple[tuple[str, FeatureDtype], ...] = ()
    if output.role == "business_traffic":
        keys = set(output.primary_key) | _NOT_FEATURES
        features = tuple((c.name, _FEATURE_DTYPES[c.type]) for c in columns
                         if c.name not in keys and c.type in _FEATURE_DTYPES)
    role: Literal["business_traffic", "label_feed"] = (
        "label_feed" if output.role == "label_feed" else "business_traffic")
    return DeclaredContract(event_type=output.event_type, schema_version=output.schema_version,
                            output_id=output.output_id, role=role, model=model, digest=digest,
                            flow_field=flow_field, features=features)


def declared_contracts(view: RunFactsView, known: frozenset[tuple[str, str]] = frozenset()
                       ) -> dict[tuple[str, str], DeclaredContract]:
    """Generated contracts of a run's streamed outputs that ``known`` (the hand-written
    contracts' keys) does not cover; outputs that declare no columns, or a column type with no
    contract, are left out (their events are quarantined ``EVENT_TYPE_UNKNOWN``)."""
    out: dict[tuple[str, str], DeclaredContract] = {}
    for output in view.outputs:
        if not output.streamed or not output.columns or not output.event_type \
                or not output.schema_version:
            continue
        key = (output.event_type, output.schema_version)
        if key in known:
            continue
        try:
            out[key] = contract_of(output)
        except ValueError:
            continue  # a column type with no contract: its events stay EVENT_TYPE_UNKNOWN
    return out


_EXTRA = "extra_forbidden"
_MISSING = "missing"


def validate_declared(contract: DeclaredContract, payload: Mapping[str, Any]
                      ) -> DeclaredIssue | BaseModel:
    """The validated payload, or the issue (reason code by the first failing field's kind:
    unknown, then missing, then mistyped; every failing field's path is listed)."""
    try:
        return contract.model.model_validate(payload)
    except ValidationError as exc:
        errors = exc.errors(include_input=False)
    kinds = {e["type"] for e in errors}
    if _EXTRA in kinds:
        code = ReasonCode.PAYLOAD_FIELD_UNKNOWN
    elif _MISSING in kinds:
        code = ReasonCode.PAYLOAD_FIELD_MISSING
    else:
        code = ReasonCode.PAYLOAD_FIELD_TYPE
    paths = tuple(sorted({"payload." + str(e["loc"][0]) for e in errors if e["loc"]}))
    named = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in errors[:5])
    return DeclaredIssue(code, paths, f"{contract.event_type}/{contract.schema_version} "
                                      f"(declared {contract.digest[:12]}): {named}"[:500])
