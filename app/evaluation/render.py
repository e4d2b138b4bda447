"""Plain-text, fixed-width rendering of an :class:`~app.evaluation.scorecard_report.Evaluation`
and of a :class:`~app.evaluation.shadow_compare.ShadowComparison`.

For terminals and README excerpts: no colour, no wall clock, one subtype per row, so two runs'
tables can be diffed line by line. Missing ratios (nothing decided) print as ``-``.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.evaluation.scorecard_report import Evaluation
from app.evaluation.shadow_compare import ShadowComparison, SideStats

__all__ = ["render_shadow", "render_table", "shadow_summary_line"]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x: float) -> str:
    return f"{x:.4f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], left: int = 1) -> list[str]:
    """Columns padded to their widest cell; the first ``left`` columns left-aligned."""
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return [line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])]


def render_table(evaluation: Evaluation) -> str:
    """The scorecard as text (ends with a newline)."""
    e = evaluation
    out = [
        f"Evaluation of run {e.run_id or '-'} against world truth",
        f"decisions {e.decisions}: matched {e.matched}, unmatched {e.unmatched}, "
        f"duplicates {e.duplicates}, malformed {e.malformed}; truth flows {e.truth_flows}",
        "outcomes  " + "  ".join(f"{k} {v}" for k, v in e.by_outcome.items()),
        "postures  " + "  ".join(f"{k} {v}" for k, v in e.postures.items()),
        "",
    ]
    rows: list[list[object]] = [
        [c.label, c.subtype, c.in_truth, c.decided, c.caught, c.stepped_up, c.reviewed,
         c.declined, _pct(c.recall)] for c in e.campaigns]
    caught = sum(c.caught for c in e.campaigns)
    rows.append(["all", "fraud+abuse", sum(c.in_truth for c in e.campaigns),
                 sum(c.decided for c in e.campaigns), caught,
                 sum(c.stepped_up for c in e.campaigns), sum(c.reviewed for c in e.campaigns),
                 sum(c.declined for c in e.campaigns), _pct(e.recall)])
    out += _table(["label", "subtype", "in truth", "decided", "caught", "step-up", "review",
                   "decline", "recall"], rows, left=2)
    lg = e.legit
    out += [
        "",
        f"legit flows: in truth {lg.in_truth}, decided {lg.decided}, friction {lg.friction} "
        f"({_pct(lg.friction_share)}), declined {lg.declined} ({_pct(lg.decline_share)})",
        f"friction precision: {e.friction_fraud_or_abuse}/{e.friction} non-APPROVE decisions "
        f"were fraud or abuse ({_pct(e.precision)})",
    ]
    if e.unmatched:
        out.append(f"unmatched flow ids (first {len(e.unmatched_sample)}): "
                   + ", ".join(e.unmatched_sample))
    if e.scores:
        out += ["", *_table(["score by label", "n", "min", "p50", "p90", "max"],
                            [[s.label, s.count, _num(s.min), _num(s.p50), _num(s.p90),
                              _num(s.max)] for s in e.scores])]
    return "\n".join(out) + "\n"


def _bundles(side: SideStats) -> str:
    return "+".join(side.bundles) or "-"


def shadow_summary_line(c: ShadowComparison) -> str:
    """The comparison in one line: each side's catch and legitimate friction, and who wins."""
    a, s = c.active, c.shadow
    verdict = {"active_better": "ACTIVE catches more at equal or lower friction",
               "shadow_better": "SHADOW catches more at equal or lower friction",
               "no_winner": "neither catches more at equal or lower friction"}[c.verdict]
    return (f"on {c.window_text()}: ACTIVE {_bundles(a)} catches {a.caught} of "
            f"{a.fraud_decided} fraud/abuse ({_pct(a.recall)}) at "
            f"{_pct(a.legit_friction_share)} legitimate friction; SHADOW {_bundles(s)} catches "
            f"{s.caught} ({_pct(s.recall)}) at {_pct(s.legit_friction_share)}: {verdict}")


def render_shadow(c: ShadowComparison) -> str:
    """The comparison as text: both sides, per campaign, then the summary line."""
    out = [f"ACTIVE vs SHADOW on run {c.run_id or '-'}, trigger event time {c.window_text()}",
           f"decisions {c.decisions}: in window {c.in_window}, without a shadow {c.without_shadow} "
           f"(left out), compared {c.compared}, unmatched to truth {c.unmatched}; same outcome "
           f"on {c.agreed}", ""]
    out += _table(["side", "bundle", "decided", "fraud+abuse caught", "of", "recall",
                   "legit friction", "of", "share", "legit declined"],
                  [[s.side, _bundles(s), s.decided, s.caught, s.fraud_decided, _pct(s.recall),
                    s.legit_friction, s.legit_decided, _pct(s.legit_friction_share),
                    s.legit_declined] for s in (c.active, c.shadow)], left=2)
    rows = [[a.label, a.subtype, a.decided, a.caught, _pct(a.recall), s.caught, _pct(s.recall)]
            for a, s in zip(c.active.campaigns, c.shadow.campaigns, strict=True)]
    out += ["", *_table(["label", "subtype", "decided", "active caught", "active recall",
                         "shadow caught", "shadow recall"], rows, left=2)]
    if c.unmatched:
        out.append(f"unmatched flow ids (first {len(c.unmatched_sample)}): "
                   + ", ".join(c.unmatched_sample))
    return "\n".join([*out, "", shadow_summary_line(c)]) + "\n"
