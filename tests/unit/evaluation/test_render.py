"""The plain-text table: one row per subtype, a legit line, and nothing that changes run to run."""

from __future__ import annotations

from app.evaluation import TruthRow, evaluate, render_table
from tests.unit.evaluation.conftest import MakeDecision

TRUTH = {
    "ct1": TruthRow("ct1", "fraud", "card_testing", "camp_1", True),
    "ct2": TruthRow("ct2", "fraud", "card_testing", "camp_1", True),
    "mule1": TruthRow("mule1", "fraud", "mule_activity", "camp_2", True),
    "ra1": TruthRow("ra1", "abuse", "refund_abuse", "camp_3", True),
    "l1": TruthRow("l1", "legit", "none", None, False),
    "l2": TruthRow("l2", "legit", "none", None, False),
}


def _table(make_decision: MakeDecision) -> str:
    decisions = [make_decision("ct1", "DECLINE", score=0.9), make_decision("ct2", "APPROVE"),
                 make_decision("mule1", "REVIEW"), make_decision("l1", "STEP_UP", score=0.4),
                 make_decision("l2"), make_decision("ghost", "DECLINE")]
    return render_table(evaluate(decisions, TRUTH))


def _line(text: str, *starts: str) -> list[list[str]]:
    """Whitespace-split lines of ``text`` whose first words are ``starts``."""
    rows = [line.split() for line in text.splitlines()]
    return [row for row in rows if row[:len(starts)] == list(starts)]


def test_every_subtype_gets_a_row_with_its_counts(make_decision: MakeDecision) -> None:
    text = _table(make_decision)
    assert _line(text, "fraud", "card_testing") == [
        ["fraud", "card_testing", "2", "2", "1", "0", "0", "1", "50.0%"]]
    assert _line(text, "fraud", "mule_activity") == [
        ["fraud", "mule_activity", "1", "1", "1", "0", "1", "0", "100.0%"]]
    assert _line(text, "abuse", "refund_abuse") == [
        ["abuse", "refund_abuse", "1", "0", "0", "0", "0", "0", "-"]]
    assert _line(text, "all", "fraud+abuse")[0][-1] == "66.7%"


def test_legit_friction_precision_and_unmatched_are_spelled_out(
    make_decision: MakeDecision,
) -> None:
    text = _table(make_decision)
    assert "legit flows: in truth 2, decided 2, friction 1 (50.0%), declined 0 (0.0%)" in text
    assert "friction precision: 2/3 non-APPROVE decisions were fraud or abuse (66.7%)" in text
    assert "unmatched flow ids (first 1): ghost" in text
    assert "outcomes  APPROVE 2  STEP_UP 1  REVIEW 1  DECLINE 2" in text
    assert _line(text, "legit", "1") == [["legit", "1", "0.4000", "0.4000", "0.4000", "0.4000"]]


def test_columns_line_up_and_output_is_stable(make_decision: MakeDecision) -> None:
    text = _table(make_decision)
    assert text == _table(make_decision)
    table = text.split("\n\n")[1].splitlines()  # header, rule, one row per subtype, total
    assert len(table) == 6
    assert len({len(line) for line in table}) == 1  # right-aligned: rows end in one column
