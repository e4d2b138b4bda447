"""The IG bad-input corpus through ``assess``: cases quarantined with their code, goods admitted."""

from __future__ import annotations

from itertools import zip_longest

import pytest

from app.ig.admission import Admit, Decision, DedupeEntry, Duplicate, Quarantine, assess
from app.ig.payload_registry import PayloadSpec
from app.ig.payloads import default_payload_registry
from app.profiles.loader import load_profile
from app.rails.digests import digest_bytes
from app.rails.payloads import LABEL_EVENT_TYPES, PAYLOAD_MODELS
from app.rails.pins import ContextPins
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef
from tests.corpus.ig.loader import (
    CORPUS_DIR,
    CorpusCase,
    GoodEnvelope,
    good_envelopes,
    ingest_settings,
    load_cases,
    load_good,
    ready_run,
)
from tests.factories import make_pins

CASES = load_cases()
GOOD = load_good()
REGISTRY = default_payload_registry()
RUN = ready_run()
SETTINGS = ingest_settings()


def _assess(raw: bytes, seen: dict[bytes, DedupeEntry] | None = None) -> Decision:
    return assess(
        raw,
        digest_bytes(raw),
        max_record_bytes=SETTINGS.max_record_bytes,
        precedence=SETTINGS.partition_key_precedence,
        payloads=REGISTRY,
        run_of={RUN.pins.run_id: RUN}.get,
        seen=(seen or {}).get,
    )


# -- the corpus itself ------------------------------------------------------------------------


def test_the_corpus_run_is_make_pins_with_seed_7() -> None:
    assert RUN.pins == ContextPins(**make_pins()) and RUN.seed == 7 and RUN.status == "READY"


def test_the_corpus_assumes_the_local_profile_ingest_policy() -> None:
    ingest = load_profile("local").policy.ingest
    assert SETTINGS.max_record_bytes == ingest.max_record_bytes
    assert SETTINGS.partition_key_precedence == ingest.partition_key_precedence


def test_the_corpus_is_large_named_uniquely_and_covers_every_ingest_code() -> None:
    assert len(CASES) >= 24
    assert len({c.name for c in CASES}) == len(CASES)
    assert {c.expected for c in CASES} >= {
        ReasonCode.ENVELOPE_NOT_JSON,
        ReasonCode.ENVELOPE_INVALID,
        ReasonCode.TS_FORMAT_INVALID,
        ReasonCode.EVENT_TYPE_UNKNOWN,
        ReasonCode.SCHEMA_VERSION_UNKNOWN,
        ReasonCode.PAYLOAD_SCHEMA_INVALID,
        ReasonCode.PINS_UNKNOWN_RUN,
        ReasonCode.RECORD_TOO_LARGE,
    }
    assert all(c.why.strip() for c in CASES)


def test_every_file_in_the_corpus_is_listed_once() -> None:
    on_disk = {
        p.relative_to(CORPUS_DIR).as_posix()
        for p in CORPUS_DIR.rglob("*")
        if p.is_file() and p.suffix in (".bin", ".json")
    }
    listed = [c.source for c in CASES if not c.source.startswith("generator:")]
    listed += [g.file for g in GOOD]
    assert sorted(listed) == sorted(on_disk)


def test_there_is_a_good_envelope_for_every_streamed_event_type() -> None:
    assert {g.event_type for g in GOOD} == {event_type for event_type, _ in PAYLOAD_MODELS}
    assert good_envelopes() == [g.raw for g in GOOD]


def test_the_oversize_case_is_one_byte_over_the_limit() -> None:
    oversize = next(c for c in CASES if c.expected is ReasonCode.RECORD_TOO_LARGE)
    assert len(oversize.raw) == SETTINGS.max_record_bytes + 1


# -- through admission ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_is_quarantined_with_its_reason_code(case: CorpusCase) -> None:
    decision = _assess(case.raw)
    assert isinstance(decision, Quarantine), f"{case.name}: {case.why}"
    assert decision.reason_code is case.expected, f"{case.name}: {decision.detail}"
    assert decision.raw_digest == digest_bytes(case.raw)
    if case.paths:  # the one thing that is wrong, and nothing else
        assert tuple(sorted(decision.field_paths)) == case.paths, decision.detail


def test_every_envelope_or_payload_case_pins_its_field_paths() -> None:
    codes_with_paths = {ReasonCode.ENVELOPE_INVALID, ReasonCode.TS_FORMAT_INVALID,
                        ReasonCode.PAYLOAD_SCHEMA_INVALID, ReasonCode.EVENT_TYPE_UNKNOWN,
                        ReasonCode.SCHEMA_VERSION_UNKNOWN}
    assert [c.name for c in CASES if c.expected in codes_with_paths and not c.paths] == []
    payload_cases = [c for c in CASES if c.expected is ReasonCode.PAYLOAD_SCHEMA_INVALID]
    assert all(p.startswith("payload.") for c in payload_cases for p in c.paths)


@pytest.mark.parametrize("good", GOOD, ids=[g.event_type for g in GOOD])
def test_each_good_envelope_is_admitted_to_its_stream(good: GoodEnvelope) -> None:
    decision = _assess(good.raw)
    assert isinstance(decision, Admit), getattr(decision, "detail", decision)
    assert decision.envelope.event_type == good.event_type
    assert decision.stream == good.stream
    assert decision.partition_key.startswith("card_id:card_")


def test_interleaved_goods_are_admitted_once_and_bad_cases_never_disturb_them() -> None:
    seen: dict[bytes, DedupeEntry] = {}
    stream = [raw for pair in zip_longest(good_envelopes(), CASES) for raw in pair if raw]
    for offset, item in enumerate(stream):
        if isinstance(item, CorpusCase):
            assert _assess(item.raw, seen) == _assess(item.raw), item.name
            continue
        decision = _assess(item, seen)
        assert isinstance(decision, Admit)
        ref = EbRef(topic=f"fp.bus.{decision.stream}.v1", partition=0, offset=offset)
        seen[decision.key] = DedupeEntry(payload_hash=decision.payload_hash, eb_ref=ref)
    assert len(seen) == len(GOOD)
    assert all(isinstance(_assess(raw, seen), Duplicate) for raw in good_envelopes())


def test_a_record_of_exactly_the_size_limit_is_still_admitted() -> None:
    raw = GOOD[0].raw.rstrip()
    assert isinstance(_assess(raw + b" " * (SETTINGS.max_record_bytes - len(raw))), Admit)


def test_the_default_registry_routes_labels_to_labels_and_the_rest_to_traffic() -> None:
    assert REGISTRY.keys == sorted(PAYLOAD_MODELS)
    for event_type, version in PAYLOAD_MODELS:
        spec = REGISTRY.spec(event_type, version)
        assert isinstance(spec, PayloadSpec)
        assert spec.model is PAYLOAD_MODELS[(event_type, version)]
        assert spec.stream == ("labels" if event_type in LABEL_EVENT_TYPES else "traffic")
