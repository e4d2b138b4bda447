"""``fp labels show`` against a profile whose object store lives in the test's tmp_path."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from app.cli.main import main
from app.labels.partition import LabelPartition
from app.objectstore.local import LocalObjectStore
from tests.factories import tmp_profile
from tests.unit.labels.test_label_stage import LOG, TOPIC, label_event


@pytest.fixture
def profile(tmp_path: Path) -> str:
    path = tmp_profile(tmp_path)

    async def write() -> None:  # flow 4: detected as fraud at +1 h, cleared at +2 h
        part = LabelPartition(LOG, TOPIC, 0)
        part.apply(0, label_event(4, kind=0, value="fraud", observed_s=3600))
        part.apply(1, label_event(4, kind=1, value="legit", observed_s=7200))
        async with LocalObjectStore(tmp_path / "objects") as store:
            await part.flush(store)

    asyncio.run(write())
    return str(path)


def _show(profile: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--profile", profile, "labels", "show", *args])
    return code, capsys.readouterr().out


def test_the_verdict_follows_the_as_of_time(profile: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _show(profile, capsys, "flow_000000000004", "--json")
    assert code == 0
    [flow] = orjson.loads(out)["flows"]
    assert [a["label_value"] for a in flow["timeline"]] == ["fraud", "legit"]
    assert flow["verdict"] == "legit"
    # +1 h 30 min after T0 (flow 4's label times are T0 + 4 s + delay).
    code, out = _show(profile, capsys, "card_00000004", "--as-of",
                      "2024-03-01T13:30:00.000000Z", "--json")
    assert code == 0
    [flow] = orjson.loads(out)["flows"]
    assert flow["verdict"] == "fraud" and len(flow["timeline"]) == 1


def test_nothing_known_yet_is_exit_1_and_a_bad_subject_exit_2(
        profile: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _show(profile, capsys, "flow_000000000004", "--as-of",
                 "2024-03-01T12:00:00.000000Z")[0] == 1
    assert _show(profile, capsys, "flow_000000000009")[0] == 1
    assert _show(profile, capsys, "<script>")[0] == 2
    assert _show(profile, capsys, "flow_000000000004", "--as-of", "yesterday")[0] == 2
