"""A generated pack conforms to docs/world_pack_format.md: layout, digests, gates, manifest."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from app.rails.canonical_json import canonical_dumps, sha256_hex
from tests.unit.world_engine.conftest import TINY_SEED, Pack
from world_engine.interface import INTERFACE_PACK_PATH, load_interface_pack
from world_engine.pack_writer import PARQUET_OPTIONS
from world_engine.truth import TRUTH_COLUMNS

HEX64 = re.compile(r"[0-9a-f]{64}")
PART = re.compile(
    r"outputs/(?P<output>[a-z_]+)/utc_day=(?P<day>\d{4}-\d{2}-\d{2})/part-\d{5}\.parquet"
)
_DAY_US = 86_400_000_000


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_locator_path_has_the_tokens_in_design_order(tiny_pack: Pack) -> None:
    loc = tiny_pack.locator
    assert tiny_pack.path.parts[-4:] == (
        f"seed={TINY_SEED}",
        f"parameter_hash={loc.parameter_hash}",
        f"manifest_fingerprint={loc.manifest_fingerprint}",
        "scenario_id=baseline",
    )


def test_pack_holds_only_the_documented_top_level_entries(tiny_pack: Pack) -> None:
    assert sorted(p.name for p in tiny_pack.path.iterdir()) == [
        "_SEALED.json",
        "gates",
        "interface_pack.yaml",
        "manifest.json",
        "outputs",
    ]


def test_identity_hashes_are_recomputable(tiny_pack: Pack) -> None:
    manifest = tiny_pack.manifest
    iface_bytes = (tiny_pack.path / "interface_pack.yaml").read_bytes()
    assert iface_bytes == INTERFACE_PACK_PATH.read_bytes()
    iface = yaml.safe_load(iface_bytes)
    parameter_hash = sha256_hex(canonical_dumps(tiny_pack.params.model_dump(mode="json")))
    fingerprint = sha256_hex(
        canonical_dumps(
            [
                "world_manifest",
                iface["engine"]["name"],
                iface["engine"]["version"],
                sha256_hex(iface_bytes),
                parameter_hash,
            ]
        )
    )
    assert "seed" not in manifest["parameters"]
    assert manifest["parameters"] == tiny_pack.params.model_dump(mode="json")
    assert manifest["parameter_hash"] == tiny_pack.locator.parameter_hash == parameter_hash
    assert manifest["manifest_fingerprint"] == tiny_pack.locator.manifest_fingerprint == fingerprint
    assert manifest["interface_pack"] == {
        "version": iface["interface_version"],
        "sha256": sha256_hex(iface_bytes),
    }
    assert manifest["engine"] == iface["engine"]
    assert manifest["seed"] == TINY_SEED and manifest["scenario_id"] == "baseline"
    assert manifest["pack_format"] == "fp.world_pack.v1"


def test_json_files_are_canonical(tiny_pack: Pack) -> None:
    for rel in [
        "manifest.json",
        "_SEALED.json",
        *(
            p.relative_to(tiny_pack.path).as_posix()
            for p in (tiny_pack.path / "gates").rglob("*")
            if p.is_file()
        ),
    ]:
        raw = (tiny_pack.path / rel).read_bytes()
        assert canonical_dumps(tiny_pack.json(rel)) == raw, rel


def test_manifest_lists_every_output_with_its_files_and_rows(tiny_pack: Pack) -> None:
    _, iface, _ = load_interface_pack()
    outputs = tiny_pack.manifest["outputs"]
    assert [o["output_id"] for o in outputs] == [o.output_id for o in iface.outputs]
    on_disk = {
        p.relative_to(tiny_pack.path).as_posix()
        for p in (tiny_pack.path / "outputs").rglob("*")
        if p.is_file()
    }
    listed: set[str] = set()
    for entry in outputs:
        spec = iface.output(entry["output_id"])
        assert entry["role"] == spec.role
        assert entry["files"] == sorted(entry["files"]) and entry["files"]
        rows = 0
        for rel in entry["files"]:
            match = PART.fullmatch(rel)
            assert match and match["output"] == entry["output_id"], rel
            rows += pq.ParquetFile(tiny_pack.path / rel).metadata.num_rows
        assert rows == entry["row_count"] == tiny_pack.locator.row_counts[entry["output_id"]]
        listed.update(entry["files"])
    assert listed == on_disk


def test_gates_cover_their_outputs_and_flags_name_the_index_digest(tiny_pack: Pack) -> None:
    _, iface, _ = load_interface_pack()
    manifest_gates = {g["gate_id"]: g["index_sha256"] for g in tiny_pack.manifest["gates"]}
    assert list(manifest_gates) == [g.gate_id for g in iface.gates]
    for gate in iface.gates:
        folder = tiny_pack.path / "gates" / gate.gate_id
        assert sorted(p.name for p in folder.iterdir()) == ["_passed.flag", "index.json"]
        index = tiny_pack.json(f"gates/{gate.gate_id}/index.json")
        assert index["gate_id"] == gate.gate_id
        paths = [f["path"] for f in index["files"]]
        assert paths == sorted(paths)
        for entry in index["files"]:
            target = tiny_pack.path / entry["path"]
            assert entry["sha256"] == _sha(target)
            assert entry["size_bytes"] == target.stat().st_size
        covered = {
            p.relative_to(tiny_pack.path).as_posix()
            for out in gate.outputs
            for p in (tiny_pack.path / "outputs" / out).rglob("*")
            if p.is_file()
        }
        assert set(paths) == covered  # no unlisted extra file
        index_sha = _sha(folder / "index.json")
        assert tiny_pack.json(f"gates/{gate.gate_id}/_passed.flag") == {
            "gate_id": gate.gate_id,
            "bundle_digest": {"algo": "sha256", "hex": index_sha},
        }
        assert manifest_gates[gate.gate_id] == index_sha


def test_seal_names_the_manifest_digest_and_is_written_last(tiny_pack: Pack) -> None:
    assert tiny_pack.json("_SEALED.json") == {
        "pack_format": "fp.world_pack.v1",
        "manifest_sha256": _sha(tiny_pack.path / "manifest.json"),
    }
    sealed_at = (tiny_pack.path / "_SEALED.json").stat().st_mtime_ns
    assert all(p.stat().st_mtime_ns <= sealed_at for p in tiny_pack.path.rglob("*") if p.is_file())


def test_parts_match_the_interface_schema_and_writer_settings(tiny_pack: Pack) -> None:
    _, iface, _ = load_interface_pack()
    created_by = set()
    for entry in tiny_pack.manifest["outputs"]:
        spec = iface.output(entry["output_id"])
        for rel in entry["files"]:
            meta = pq.ParquetFile(tiny_pack.path / rel).metadata
            created_by.add(meta.created_by)
            assert pq.read_schema(tiny_pack.path / rel).remove_metadata() == spec.arrow_schema()
            for g in range(meta.num_row_groups):
                assert meta.row_group(g).num_rows <= PARQUET_OPTIONS["row_group_size"]
                assert meta.row_group(g).column(0).compression == "ZSTD"
    assert len(created_by) == 1


def test_rows_sit_in_their_utc_day_sorted_by_time_then_primary_key(tiny_pack: Pack) -> None:
    _, iface, _ = load_interface_pack()
    start = tiny_pack.params.start_date.isoformat()
    for entry in tiny_pack.manifest["outputs"]:
        spec = iface.output(entry["output_id"])
        for rel in entry["files"]:
            table = pq.read_table(tiny_pack.path / rel)
            day = PART.fullmatch(rel)["day"]  # type: ignore[index]  # matched in another test
            if spec.time_column is None:
                assert day == start
                keys = [(k, "ascending") for k in spec.primary_key]
            else:
                micros = table.column(spec.time_column).cast(pa.int64()).to_numpy()
                days = {str(d) for d in (micros // _DAY_US).astype("datetime64[D]")}
                assert days <= {day}, rel
                keys = [(spec.time_column, "ascending")] + [
                    (k, "ascending") for k in spec.primary_key
                ]
            assert table.sort_by(keys).equals(table), rel
            for pk in spec.primary_key:
                assert pc.count_distinct(table.column(pk)).as_py() == table.num_rows


def test_no_truth_column_reaches_a_streamed_role(tiny_pack: Pack) -> None:
    _, iface, _ = load_interface_pack()
    for spec in iface.outputs:
        names = set(tiny_pack.table(spec.output_id).column_names)
        if spec.role in ("business_traffic", "label_feed"):
            assert not names & TRUTH_COLUMNS, spec.output_id
        if spec.role == "truth":
            assert names >= TRUTH_COLUMNS
