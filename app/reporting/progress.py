"""One-line progress of a draining run (admission, decisions, outcomes, audit) for a terminal."""

from __future__ import annotations

from app.reporting.drain import DrainProgress

__all__ = ["progress_line"]


def progress_line(p: DrainProgress, *, width: int = 24) -> str:
    """``[#####.....]  41% judged a/b (admit A, duplicate D, quarantine Q)  decided c/d  ...``.

    IG's verdicts are counted apart: a receipt is not an admission (a quarantined row is judged,
    never admitted), and ``decided`` counts against the admitted triggers.
    """
    filled = round(width * p.fraction)
    parts = [f"[{'#' * filled}{'.' * (width - filled)}] {100 * p.fraction:3.0f}%",
             f"judged {p.rows_judged:,}/{p.planned_rows:,} (admit {p.admitted:,}, duplicate "
             f"{p.duplicates:,}, quarantine {p.quarantined:,})",
             f"decided {p.decided:,}/{p.admitted_auths:,}",
             f"outcomes {p.outcomes:,}/{p.intents:,}" if p.outcomes_expected else "outcomes n/a",
             f"audited {p.audited:,}/{p.decisions:,}" if p.audit_expected else "audit n/a"]
    return "  ".join(parts)
