"""Label timelines against a brute force over the append-only log (issue #14's property test).

For random logs of assertions (several flows and types, revisions, repeats, colliding ids, any
arrival order), both as-of reads and the verdict equal a direct filter over what was accepted,
and the accepted set itself is "first arrival per id; a repeat with the same payload is a no-op,
one with another payload a collision".
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from app.labels.timeline import LabelTimelines, order_key
from app.rails.label import LabelAssertion
from app.rails.timefmt import ts_to_epoch_micros
from tests.factories import _T0_MICROS, make_label_assertion, make_pins

TYPES = ("post_auth_detection", "customer_dispute", "chargeback", "case_verdict")
VALUES = ("fraud", "abuse", "legit", "inconclusive")
RUN_A, RUN_B = make_pins(request="run-a"), make_pins(request="run-b")

_assertion = st.builds(
    lambda flow, kind, type_index, value_index, effective_s, delay_s, run: make_label_assertion(
        flow, kind=kind, label_type=TYPES[type_index], label_value=VALUES[value_index],
        effective_s=effective_s, observed_s=effective_s + delay_s, pins=run),
    flow=st.integers(0, 3), kind=st.integers(0, 3), type_index=st.integers(0, 3),
    value_index=st.integers(0, 3), effective_s=st.integers(0, 50), delay_s=st.integers(0, 50),
    run=st.sampled_from([RUN_A, RUN_B]))


def _us(seconds: int) -> int:
    return _T0_MICROS + seconds * 1_000_000


def _accepted(log: list[LabelAssertion]) -> tuple[list[LabelAssertion], int]:
    """First arrival per (run, id); later ones with another payload hash are collisions."""
    first: dict[tuple[str, str], LabelAssertion] = {}
    collisions = 0
    for a in log:
        held = first.setdefault((a.run_id, a.label_id), a)
        collisions += held is not a and held.payload_hash != a.payload_hash
    return list(first.values()), collisions


def _brute(accepted: list[LabelAssertion], subject: tuple[str, str], known_at: int | None,
           effective_at: int | None) -> list[LabelAssertion]:
    return [a for a in accepted if (a.run_id, a.flow_id) == subject
            and (known_at is None or ts_to_epoch_micros(a.observed_ts_utc) <= known_at)
            and (effective_at is None or ts_to_epoch_micros(a.effective_ts_utc) <= effective_at)]


@settings(max_examples=300, deadline=None)
@given(log=st.lists(_assertion, max_size=40), reads=st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from([RUN_A, RUN_B]),
              st.none() | st.integers(-1, 110), st.none() | st.integers(-1, 60)), max_size=12))
def test_as_of_reads_equal_a_brute_force_over_the_log(
        log: list[LabelAssertion], reads: list[tuple[int, dict[str, str], int | None, int | None]]
) -> None:
    timelines = LabelTimelines()
    timelines.extend(log)
    accepted, collisions = _accepted(log)
    assert len(timelines) == len(accepted)
    assert len(timelines.collisions) == collisions
    for flow, run, known_s, effective_s in reads:
        subject = (run["run_id"], f"flow_{flow:012d}")
        known = None if known_s is None else _us(known_s)
        effective = None if effective_s is None else _us(effective_s)
        seen = _brute(accepted, subject, known, None)
        assert timelines.timeline(subject, known_at_us=known) == sorted(seen, key=order_key)
        true_then = _brute(accepted, subject, known, effective)
        expected = {t: max((a for a in true_then if a.label_type == t), key=order_key)
                    for t in {a.label_type for a in true_then}}
        assert timelines.active(subject, known_at_us=known, effective_at_us=effective) == expected
        assert timelines.verdict(subject, known_at_us=known, effective_at_us=effective) == (
            max(true_then, key=order_key) if true_then else None)


@settings(max_examples=100, deadline=None)
@given(log=st.lists(_assertion, max_size=30, unique_by=lambda a: (a.run_id, a.label_id)),
       seed=st.integers(0, 2**32 - 1))
def test_arrival_order_does_not_change_any_read(log: list[LabelAssertion], seed: int) -> None:
    shuffled = list(log)
    random.Random(seed).shuffle(shuffled)
    one, other = LabelTimelines(), LabelTimelines()
    one.extend(log)
    other.extend(shuffled)
    for subject in one.subjects():
        for known_s in (None, 0, 25, 60, 100):
            known = None if known_s is None else _us(known_s)
            assert one.timeline(subject, known_at_us=known) == \
                other.timeline(subject, known_at_us=known)
            assert one.verdict(subject, known_at_us=known) == \
                other.verdict(subject, known_at_us=known)


def test_a_revision_supersedes_from_its_observed_time_and_not_before() -> None:
    detected = make_label_assertion(7, kind=0, label_value="fraud", observed_s=100)
    cleared = make_label_assertion(7, kind=1, label_value="legit", observed_s=500)
    timelines = LabelTimelines()
    timelines.extend([cleared, detected])  # arrival order is not timeline order
    subject = (detected.run_id, detected.flow_id)
    assert timelines.verdict(subject, known_at_us=_us(499)) == detected
    assert timelines.verdict(subject, known_at_us=_us(500)) == cleared
    assert timelines.verdict(subject, known_at_us=_us(99)) is None
    assert timelines.timeline(subject) == [detected, cleared]  # nothing is overwritten


def test_a_colliding_id_is_kept_aside_and_never_applied() -> None:
    held = make_label_assertion(3, label_value="fraud")
    other = make_label_assertion(3, label_value="legit")
    timelines = LabelTimelines()
    assert timelines.append(held).status == "new"
    assert timelines.append(held).status == "duplicate"
    result = timelines.append(other)
    assert (result.status, result.held) == ("collision", held)
    assert timelines.collisions == [(other, held)]
    assert timelines.timeline((held.run_id, held.flow_id)) == [held]


def test_flows_are_found_by_card_and_account() -> None:
    a, b = make_label_assertion(5), make_label_assertion(5 + 97)  # same card and account
    timelines = LabelTimelines()
    timelines.extend([a, b])
    both = sorted({(a.run_id, a.flow_id), (b.run_id, b.flow_id)})
    assert timelines.subjects_of_card(a.card_id) == both
    assert timelines.subjects_of_account(a.account_id) == both
    assert timelines.subjects_of_card("card_99999999") == []
