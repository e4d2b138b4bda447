"""Quarantine receipts say what was wrong; quarantine storage has a quota (issue #11 items 9-10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ig.admission import Quarantine
from app.ig.oversize import oversize_marker, oversize_quarantine
from app.ig.quarantine_store import QuarantineQuota, store_quarantined
from app.ig.receipt_builder import quarantine_receipt
from app.objectstore.local import LocalObjectStore
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.digests import digest_bytes
from app.rails.envelope import EnvelopeRejection, parse_envelope
from app.rails.policy_rev import policy_rev_of
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import (
    MAX_RECEIPT_DETAIL_CHARS,
    IngestionReceipt,
    QuarantineRef,
    QuarantineRetention,
)
from tests.factories import make_envelope_bytes

REV = policy_rev_of("ig", "r1", {"max_bytes": 1024})
NOW = "2024-03-01T12:00:00.000000Z"


def _gate(raw: bytes) -> Quarantine:
    rejection = parse_envelope(raw)
    assert isinstance(rejection, EnvelopeRejection)
    return Quarantine(rejection.reason_code, rejection.raw_digest, rejection.detail,
                      rejection.field_paths)


def _round_trip(receipt: IngestionReceipt) -> IngestionReceipt:
    return IngestionReceipt.model_validate(canonical_loads(canonical_dumps(
        receipt.model_dump(mode="json"))))


def test_issue_11_a_quarantine_receipt_names_the_wrong_fields_and_why() -> None:
    secret_amount = 987654321
    raw = make_envelope_bytes().replace(b'"seed":7', b'"seed":"7"').replace(
        b'"amount_minor":1000', f'"amount_minor":{secret_amount},"amount_minor":1'.encode())
    decision = _gate(raw)
    ref = QuarantineRef(object_key="ig/quarantine/_unparsed/x.bin", digest=decision.raw_digest)
    receipt = _round_trip(quarantine_receipt(decision, ref, REV, NOW))
    assert receipt.reason_codes == (ReasonCode.DUPLICATE_JSON_KEY,)
    assert receipt.field_paths == ("payload.amount_minor",)
    assert receipt.detail and "payload.amount_minor" in receipt.detail
    assert str(secret_amount) not in canonical_dumps(receipt.model_dump(mode="json")).decode()


def test_field_paths_of_an_invalid_envelope_reach_the_receipt() -> None:
    raw = make_envelope_bytes().replace(b'"seed":7', b'"seed":"7"')
    decision = _gate(raw)
    ref = QuarantineRef(object_key="ig/quarantine/_unparsed/x.bin", digest=decision.raw_digest)
    receipt = quarantine_receipt(decision, ref, REV, NOW)
    assert receipt.field_paths == ("seed",) and receipt.reason_codes == (
        ReasonCode.ENVELOPE_INVALID,)


def test_a_long_detail_and_many_paths_are_shortened_to_the_contract() -> None:
    digest = digest_bytes(b"x")
    decision = Quarantine(ReasonCode.ENVELOPE_INVALID, digest, "d" * 5000,
                          tuple(f"f{i}" for i in range(100)))
    receipt = quarantine_receipt(decision, QuarantineRef(object_key="a/b.bin", digest=digest),
                                 REV, NOW)
    assert receipt.detail is not None and len(receipt.detail) == MAX_RECEIPT_DETAIL_CHARS
    assert len(receipt.field_paths) == 32


def test_the_quota_counts_bytes_per_partition_and_offset_window() -> None:
    quota = QuarantineQuota(max_bytes=100, window_records=10)
    assert quota.charge(0, 0, 60) and quota.charge(0, 5, 40)
    assert not quota.charge(0, 9, 1)            # window [0, 10) of partition 0 is spent
    assert quota.charge(1, 9, 100)              # another partition has its own
    assert quota.charge(0, 10, 100)             # the next window starts again
    assert not quota.charge(0, 11, 1)
    again = QuarantineQuota(max_bytes=100, window_records=10)
    assert [again.charge(0, o, 30) for o in range(12)] == [True] * 3 + [False] * 7 + [True] * 2
    with pytest.raises(ValueError):
        QuarantineQuota(max_bytes=1, window_records=0)


async def test_issue_11_past_the_quota_the_receipt_is_written_but_the_bytes_are_not(
        tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    quota = QuarantineQuota(max_bytes=30, window_records=100)
    raws = [b"not json %d" % i + b"!" * 10 for i in range(3)]  # 21-22 bytes each
    refs = []
    for offset, raw in enumerate(raws):
        decision = _gate(raw)
        refs.append(await store_quarantined(store, decision, raw, quota=quota, partition=2,
                                            offset=offset))
    assert [r.retained for r in refs] == [QuarantineRetention.FULL, QuarantineRetention.NONE,
                                          QuarantineRetention.NONE]
    assert await store.get(refs[0].object_key) == raws[0]
    assert await store.list("ig/quarantine") == [refs[0].object_key]
    assert refs[1].digest == digest_bytes(raws[1])  # still identifies the submission
    receipt = _round_trip(quarantine_receipt(_gate(raws[1]), refs[1], REV, NOW))
    assert receipt.reason_codes == (ReasonCode.ENVELOPE_NOT_JSON,
                                    ReasonCode.QUARANTINE_QUOTA_EXCEEDED)
    assert receipt.quarantine_ref is not None
    assert receipt.quarantine_ref.retained is QuarantineRetention.NONE


async def test_an_oversize_http_line_keeps_its_prefix_by_reference(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    line = b"q" * 3000
    prefix, header = oversize_marker(line, 1024) or (b"", b"")
    decision = oversize_quarantine({"fp-ig-oversize": header}, prefix, 1024)
    assert decision is not None
    ref = await store_quarantined(store, decision, prefix)
    assert ref.retained is QuarantineRetention.PREFIX
    assert ref.digest == digest_bytes(prefix)
    assert await store.get(ref.object_key, expected=ref.digest) == prefix
    receipt = quarantine_receipt(decision, ref, REV, NOW)
    assert receipt.reason_codes == (ReasonCode.RECORD_TOO_LARGE,)
    assert receipt.detail is not None and "3000 bytes" in receipt.detail
