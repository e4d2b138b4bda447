"""A seq partition's run folds survive a snapshot: the restored fold decides exactly as the one
that kept running; bytes from other code or damaged bytes are refused (the log rebuilds)."""

from __future__ import annotations

import pickle

from app.hotpath import fold_snapshot
from app.hotpath.fold_snapshot import dump_lane, load_lane
from app.rails.canonical_json import canonical_dumps
from app.rails.timefmt import ts_to_epoch_micros
from tests.factories import make_envelope
from tests.unit.hotpath.feed import TrafficFeed
from tests.unit.hotpath.test_engine import RUN, context, engine, raw


def _decisions(results: list) -> list[bytes]:  # type: ignore[type-arg]
    return [canonical_dumps(r.decision.model_dump(mode="json")) for r in results if r.decision]


def test_a_restored_fold_decides_byte_identically_to_the_one_that_kept_running() -> None:
    ctx = context()
    live = engine()
    feed = TrafficFeed(live, RUN)
    for i in range(300):  # pending events and applied state both in the snapshot
        feed.event(raw(i, "auth_request" if i % 3 else "clearing"), ctx)
        if i % 50 == 49:
            feed.watermark(ts_to_epoch_micros(make_envelope(i - 20).ts_utc), ctx)
    folds = load_lane(dump_lane(live.lane(0)))
    assert folds is not None and list(folds) == [RUN]
    restored = engine()
    restored.load_lane(0, folds)
    twin = TrafficFeed(restored, RUN)
    twin.offset = feed.offset
    tail = [raw(i, "auth_request") for i in range(300, 340)]
    ours = [r for v in tail for r in feed.event(v, ctx)] + feed.final(ctx)
    theirs = [r for v in tail for r in twin.event(v, ctx)] + twin.final(ctx)
    assert _decisions(ours) and _decisions(ours) == _decisions(theirs)


def test_bytes_from_other_code_or_damaged_bytes_are_refused() -> None:
    other = pickle.dumps(("0" * 64, {}))
    assert load_lane(other) is None
    assert load_lane(b"not a pickle") is None
    assert len(fold_snapshot.state_format()) == 64
