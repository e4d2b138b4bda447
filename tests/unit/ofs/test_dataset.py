"""Datasets from the object store: one row per decided trigger with the fixed column layout,
labels as known at the as-of time under the label definition, the maturity window, and the
same inputs giving the same manifest and the same Parquet bytes."""

from __future__ import annotations

import io
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.dla.lookup import read_audit_records
from app.labels.timeline import LabelTimelines
from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.ofs.archive_source import audit_of_run, read_archived_run
from app.ofs.dataset import (
    DEFAULT_LABEL_DEFINITION,
    RunInputs,
    assemble_dataset,
    build_dataset,
    code_version,
    data_key,
    flow_id_of,
    manifest_key,
    read_manifest,
    write_dataset,
)
from app.ofs.errors import DatasetInputError, NothingToBuildError
from app.rails.dataset import METADATA_COLUMNS, DatasetManifest, LabelDefinition, dataset_id_of
from app.rails.digests import digest_bytes
from app.rails.errors import ObjectExistsError
from app.rails.timefmt import epoch_micros_to_ts, ts_to_epoch_micros
from tests.factories import _T0_MICROS, make_label_assertion, make_pins
from tests.unit.labels.test_label_stage import label_event
from tests.unit.ofs.stored import store_world
from tests.unit.ofs.world import OTHER_RUN, PROFILE, RUN, small_world

POLICY, REV = PROFILE.policy.decision, PROFILE.policy_rev
DAY_S = 86_400
_, ONLINE = small_world()


def at(seconds: int) -> str:
    """The wire time ``seconds`` after the factories' T0 (flow i is authorised at T0 + i s)."""
    return epoch_micros_to_ts(_T0_MICROS + seconds * 1_000_000)


AS_OF = at(DAY_S)
LABELS = (label_event(3, value="fraud"), label_event(5, value="abuse"),
          label_event(6, value="legit"))
"""Flow 3 fraud, flow 5 abuse, flow 6 legit: all observed about an hour after authorisation."""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        await store_world(s, LABELS)
        yield s


async def build(store: ObjectStore, run_ids: list[str] | None = None, as_of: str = AS_OF,
                maturity: int = 0, definition: LabelDefinition = DEFAULT_LABEL_DEFINITION
                ) -> tuple[DatasetManifest, bytes]:
    return await build_dataset(store, run_ids or [RUN], as_of, maturity, definition,
                               policy=POLICY, policy_rev=REV)


def table(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data))


def by_flow(data: bytes) -> dict[str, dict[str, Any]]:
    return {row["flow_id"]: row for row in table(data).to_pylist()}


async def test_same_inputs_give_the_same_manifest_and_bytes(tmp_path: Path,
                                                            store: ObjectStore) -> None:
    manifest, data = await build(store)
    async with LocalObjectStore(tmp_path / "again") as other:  # labels in another order
        await store_world(other, reversed(LABELS))
        again, same = await build(other)
    assert again == manifest and same == data
    assert manifest.dataset_id == dataset_id_of(manifest)
    assert manifest.content_digest == digest_bytes(data)
    assert set(pq.read_metadata(io.BytesIO(data)).metadata) == {b"ARROW:schema"}
    assert manifest.code_version == code_version() != ""
    assert manifest.policy_rev == REV
    # the id names the definition: any input changes it
    for changed in (await build(store, as_of=at(DAY_S + 1)),
                    await build(store, [RUN, OTHER_RUN]),
                    await build(store, definition=LabelDefinition(
                        label_types=("post_auth_detection",), positive_values=("fraud",)))):
        assert changed[0].dataset_id != manifest.dataset_id


async def test_the_manifest_pins_runs_labels_and_feature_sets(store: ObjectStore) -> None:
    manifest, _ = await build(store, [OTHER_RUN, RUN, RUN])
    assert [r.run_id for r in manifest.runs] == sorted({RUN, OTHER_RUN})
    ours = next(r for r in manifest.runs if r.run_id == RUN)
    archived = await read_archived_run(store, RUN)
    assert [(s.partition, s.generation, s.first_offset, s.next_offset) for s in ours.traffic] \
        == [(p, "g1", items[0].offset, items[-1].offset + 1)
            for p, items in sorted(archived.partitions.items())]
    assert (manifest.label_as_of_utc, manifest.maturity_days) == (AS_OF, 0)
    assert manifest.label_definition.positive_values == ("abuse", "fraud")
    sets = {(s["name"], s["digest"]) for d in ONLINE.decisions()
            for s in d["snapshot"]["feature_sets"]}
    assert {(s.name, s.digest) for s in manifest.feature_sets} == sets
    assert [(s.name, s.digest) for s in manifest.feature_sets] == sorted(sets)
    counts = manifest.counts
    assert counts.rows == len(ONLINE.decisions()) + len(ONLINE.decisions(OTHER_RUN))
    assert (counts.positives, counts.excluded_immature, counts.without_incumbent) == (2, 0, 0)
    assert counts.negatives == counts.rows - 2
    assert DatasetManifest.model_validate_json(manifest.model_dump_json()) == manifest


async def test_the_column_layout_is_exactly_the_fixed_one(store: ObjectStore) -> None:
    manifest, data = await build(store)
    schema = table(data).schema
    assert tuple(schema.names) == METADATA_COLUMNS + manifest.features
    assert list(manifest.features) == sorted(manifest.features)
    assert {"card.count_1h", "txn.amount_minor", "txn.card_present"} <= set(manifest.features)
    types = dict(zip(schema.names, schema.types, strict=True))
    assert [str(types[c]) for c in METADATA_COLUMNS] == [
        "string", "string", "string", "string", "int64", "int8", "double", "string", "string"]
    assert all(types[f] == pa.float64() for f in manifest.features)
    rows = table(data).to_pylist()
    decisions = {d["trigger"]["event_id"]: d for d in ONLINE.decisions()}
    assert [r["trigger_event_id"] for r in rows] == [
        r["trigger_event_id"] for r in sorted(rows, key=lambda r: (r["ts_us"],
                                                                   r["trigger_event_id"]))]
    assert {r["trigger_event_id"] for r in rows} == set(decisions)
    for row in rows:
        decision = decisions[row["trigger_event_id"]]
        values = decision["snapshot"]["values"]
        assert row["run_id"] == RUN and row["ts_utc"] == decision["trigger"]["ts_utc"]
        assert row["ts_us"] == ts_to_epoch_micros(row["ts_utc"])
        assert row["flow_id"] == decision["intents"][0]["subject"]["flow_id"]
        assert (row["incumbent_score"], row["incumbent_outcome"]) == (decision["score"],
                                                                      decision["outcome"])
        bundle = decision["bundle"]
        assert row["incumbent_bundle"] == f"{bundle['bundle_id']}@{bundle['version']}"
        for name in manifest.features:
            value = values.get(name)
            if value is None:  # absent (a DEGRADED decision's graph features) or None
                assert math.isnan(row[name]), name
            else:
                assert row[name] == float(value), name
    assert {r["txn.card_present"] for r in rows} <= {0.0, 1.0}
    assert any(math.isnan(r["graph.device_new_for_card"]) for r in rows)  # DEGRADED half


async def test_labels_follow_the_definition_as_known_at_the_as_of_time(
        store: ObjectStore) -> None:
    inputs = [RunInputs(run=await read_archived_run(store, RUN),
                        audit=audit_of_run(await read_audit_records(store), RUN))]
    other_run = make_pins(request="run-2")
    timelines = LabelTimelines()
    timelines.extend([
        make_label_assertion(3, kind=0, label_value="fraud"),  # +1 h
        make_label_assertion(5, kind=0, label_value="abuse"),
        make_label_assertion(6, kind=0, label_type="chargeback"),
        # flow 8: fraud, revised to legit only after the as-of time (not seen)
        make_label_assertion(8, kind=0, label_value="fraud"),
        make_label_assertion(8, kind=1, label_value="legit", observed_s=DAY_S + 60),
        # flow 10: fraud observed only after the as-of time
        make_label_assertion(10, kind=0, label_value="fraud", observed_s=DAY_S + 1),
        # flow 11: detected as fraud, then a chargeback says legit, both before as-of
        make_label_assertion(11, kind=0, label_value="fraud"),
        make_label_assertion(11, kind=1, label_type="chargeback", label_value="legit",
                             observed_s=7200),
        # flow 13: fraud, but in another run
        make_label_assertion(13, kind=0, label_value="fraud", pins=other_run),
    ])

    def labels(definition: LabelDefinition) -> dict[int, int]:
        _, data = assemble_dataset(inputs, timelines, label_as_of_utc=AS_OF, maturity_days=0,
                                   label_definition=definition, policy=POLICY,
                                   policy_rev=REV)
        rows = by_flow(data)
        return {n: rows[f"flow_{n:012d}"]["label"] for n in (3, 5, 6, 8, 10, 11, 13)}

    assert labels(DEFAULT_LABEL_DEFINITION) == {3: 1, 5: 1, 6: 1, 8: 1, 10: 0, 11: 0, 13: 0}
    detections = ("post_auth_detection",)
    assert labels(LabelDefinition(label_types=detections, positive_values=("fraud",))) == {
        3: 1, 5: 0, 6: 0, 8: 1, 10: 0, 11: 1, 13: 0}
    assert labels(LabelDefinition(label_types=("chargeback", "customer_dispute"),
                                  positive_values=("fraud", "abuse"))) == {
        3: 0, 5: 0, 6: 1, 8: 0, 10: 0, 11: 0, 13: 0}


def test_a_label_definition_is_the_same_in_any_order() -> None:
    one = LabelDefinition(label_types=("chargeback", "case_verdict"),
                          positive_values=("fraud", "abuse", "fraud"))
    two = LabelDefinition(label_types=("case_verdict", "chargeback"),
                          positive_values=("abuse", "fraud"))
    assert one == two and one.positive_values == ("abuse", "fraud")


async def test_maturity_leaves_out_flows_too_recent_for_their_labels(
        store: ObjectStore) -> None:
    # as of one day after flow 100's authorisation, a one-day window keeps flows 0..100
    manifest, data = await build(store, as_of=at(DAY_S + 100), maturity=1)
    rows = table(data).to_pylist()
    kept = sorted(int(r["flow_id"][5:]) for r in rows)
    decided = sorted(int(d["intents"][0]["subject"]["flow_id"][5:]) for d in ONLINE.decisions())
    assert kept == [n for n in decided if n <= 100]
    assert manifest.counts.excluded_immature == len(decided) - len(kept) > 0
    assert manifest.counts.rows == len(kept) and manifest.maturity_days == 1
    full, _ = await build(store, as_of=at(DAY_S + 100))
    assert full.counts.excluded_immature == 0 and full.counts.rows == len(decided)


async def test_nothing_to_build_and_bad_input(store: ObjectStore) -> None:
    with pytest.raises(NothingToBuildError, match="no audited decision"):
        await build(store, ["0" * 32])
    with pytest.raises(NothingToBuildError, match="no label"):
        await build(store, as_of=at(60))  # the first label is observed at T0 + 1 h 3 s
    with pytest.raises(NothingToBuildError, match="no trigger old enough"):
        await build(store, maturity=2)
    with pytest.raises(DatasetInputError, match="32 lowercase hex"):
        await build(store, ["RUN"])
    with pytest.raises(DatasetInputError, match="label-as-of"):
        await build(store, as_of="tomorrow")
    with pytest.raises(DatasetInputError, match="maturity"):
        await build(store, maturity=-1)


def test_a_flow_is_its_flow_id_else_its_txn_id() -> None:
    assert flow_id_of({"payload": {"flow_id": "flow_1", "txn_id": "t"}}) == "flow_1"
    assert flow_id_of({"payload": {"txn_id": 42}}) == "42"
    assert flow_id_of({"payload": {}}) == ""


async def test_written_create_only_manifest_last(store: ObjectStore) -> None:
    manifest, data = await build(store)
    assert await read_manifest(store, manifest.dataset_id) is None
    assert await write_dataset(store, manifest, data) is True
    assert await store.get(data_key(manifest.dataset_id)) == data
    assert await read_manifest(store, manifest.dataset_id) == manifest
    assert await store.list(f"ofs/datasets/{manifest.dataset_id}") == sorted(
        [data_key(manifest.dataset_id), manifest_key(manifest.dataset_id)])
    assert await write_dataset(store, manifest, data) is False  # same bytes: already built
    # other bytes under the same id: refused, nothing overwritten
    other = manifest.model_copy(update={"dataset_id": "e" * 64})
    await store.put(data_key(other.dataset_id), b"not these bytes")
    with pytest.raises(ObjectExistsError):
        await write_dataset(store, other, data)
    assert not await store.exists(manifest_key(other.dataset_id))


async def test_a_dataset_over_the_part_size_is_stored_in_parts_and_read_back_checked(
        store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.ofs.dataset as dataset_module
    from app.ofs.dataset import part_key, read_data
    from app.ofs.errors import DatasetInputError

    manifest, data = await build(store)
    assert await write_dataset(store, manifest, data)
    assert await read_data(store, manifest) == data  # one object
    monkeypatch.setattr(dataset_module, "PART_BYTES", len(data) // 3 + 1)
    parted = manifest.model_copy(update={"dataset_id": "f" * 64})
    assert await write_dataset(store, parted, data)
    assert not await store.exists(data_key(parted.dataset_id))
    assert [await store.exists(part_key(parted.dataset_id, n)) for n in range(4)] == [
        True, True, True, False]
    assert await read_data(store, parted) == data
    wrong = manifest.model_copy(update={"dataset_id": "a" * 64})  # no bytes stored under it
    with pytest.raises(DatasetInputError):
        await read_data(store, wrong)


async def test_same_manifest_same_dataset_digest_same_model_digest(tmp_path: Path) -> None:
    """The loop's determinism end to end: the same runs and labels, stored twice, give the same
    dataset id and bytes, and the model factory on them the same model text and digest."""
    from app.factory import train_and_evaluate
    from app.objectstore.local import LocalObjectStore
    from app.rails.digests import digest_bytes
    from tests.unit.ofs.stored import store_world

    made = []
    for n in (1, 2):
        async with LocalObjectStore(tmp_path / f"objects-{n}") as store:
            await store_world(store, LABELS)
            manifest, data = await build(store)
        result = train_and_evaluate(data, list(manifest.features), manifest.dataset_id,
                                    train_fraction=0.6, bundle_id="chain", version=1,
                                    scope="auth", code_version=manifest.code_version)
        made.append((manifest.dataset_id, digest_bytes(data), result.model_text,
                     result.bundle_fields["model_digest"]["hex"]))
    assert made[0] == made[1]
    assert made[0][3] == digest_bytes(made[0][2]).hex
