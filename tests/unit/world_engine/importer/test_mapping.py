"""MAP.yaml validation: a valid mapping loads; each mistake fails with its dotted path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.world_engine.importer.factories import base_mapping
from world_engine.importer import (
    MAPPINGS_DIR,
    ImportMappingError,
    load_mapping,
    parse_mapping,
)


def _with(path: str, value: Any) -> dict[str, Any]:
    """The base mapping with the dotted ``path`` set to ``value``."""
    doc = base_mapping()
    *parents, leaf = path.split(".")
    node = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    node[leaf] = value
    return doc


def test_the_base_mapping_and_the_shipped_ulb_mapping_are_valid() -> None:
    mapping = parse_mapping(base_mapping())
    assert mapping.bad_rows == "refuse"
    assert mapping.label_output_id == "card_transaction_label"
    ulb = load_mapping(MAPPINGS_DIR / "ulb_creditcard.yaml")
    assert [f.name for f in ulb.features] == [f"v{i}" for i in range(1, 29)]
    assert ulb.entities == {}
    assert ulb.time.start_utc is not None and ulb.time.start_utc.isoformat() == (
        "2013-09-01T00:00:00+00:00"
    )


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("mapping_version", "2", "mapping_version"),
        ("surprise", 1, "surprise"),
        ("time.mode", "epoch", "time.mode"),
        ("time.start_utc", None, "time"),
        ("time.start_utc", "2024-03-01T00:00:00", "time"),
        ("amount.unit", "cents", "amount.unit"),
        ("amount.currency", {"value": "eur"}, "amount.currency.value"),
        ("amount.currency", {"value": "EUR", "column": "cur"}, "amount.currency"),
        ("amount.minor_digits", 7, "amount.minor_digits"),
        ("entities", {"card": {"column": "card"}}, "entities.card.[key]"),
        ("entities.card_id", {"column": "card", "optional": True}, "entities.card_id.optional"),
        ("features.0.type", "float32", "features.0.type"),
        ("features.0.name", "Score", "features.0.name"),
        ("features.0.name", "amount_minor", ""),
        ("features.1.name", "score", ""),
        ("truth.legit_values", ["0", "1"], "truth"),
        ("truth.fraud_values", [], "truth.fraud_values"),
        ("label_feed.max_delay_days", 5, "label_feed"),
        ("label_feed.coverage", 0, "label_feed.coverage"),
        ("label_feed.label_type", "rumour", "label_feed.label_type"),
        ("label_feed.event_type", "card_transaction", ""),
        ("bad_rows", "skip", "bad_rows"),
        ("output.schema_version", "1", "output.schema_version"),
        ("source.format", "xlsx", "source.format"),
    ],
)
def test_a_bad_field_fails_with_its_dotted_path(path: str, value: Any, field: str) -> None:
    with pytest.raises(ImportMappingError) as caught:
        parse_mapping(_with(path, value), "m.yaml")
    assert caught.value.reason_code == "IMPORT_MAPPING_INVALID"
    assert caught.value.field == field
    assert str(caught.value).startswith("mapping m.yaml")


def test_start_utc_is_refused_in_absolute_mode() -> None:
    doc = _with("time", {"column": "t", "mode": "absolute", "start_utc": "2024-03-01T00:00:00Z"})
    with pytest.raises(ImportMappingError, match="seconds_from_start only"):
        parse_mapping(doc)


def test_label_values_written_as_yaml_ints_or_bools_compare_as_text() -> None:
    mapping = parse_mapping(_with("truth", {"column": "c", "fraud_values": [1, True],
                                            "legit_values": [0, False]}))
    assert mapping.truth.fraud_values == ("1", "true")
    assert mapping.truth.legit_values == ("0", "false")


def test_equivalent_mappings_have_the_same_canonical_form() -> None:
    explicit = _with("time.start_utc", "2024-03-01T01:00:00+01:00")
    explicit["bad_rows"] = "refuse"
    explicit["source"] = {"format": None, "csv_delimiter": ","}
    assert parse_mapping(explicit).canonical() == parse_mapping(base_mapping()).canonical()
    assert parse_mapping(base_mapping()).canonical()["time"]["start_utc"] == (
        "2024-03-01T00:00:00.000000Z"
    )


def test_load_mapping_reports_unreadable_files_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ImportMappingError, match="cannot read the file"):
        load_mapping(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("time: [unclosed\n", encoding="utf-8")
    with pytest.raises(ImportMappingError, match="not valid YAML"):
        load_mapping(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ImportMappingError, match="must be a mapping"):
        load_mapping(listy)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(base_mapping()), encoding="utf-8")
    assert load_mapping(good) == parse_mapping(base_mapping())
