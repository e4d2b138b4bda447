"""The summary as titled tables: one layout that the terminal, Markdown and HTML all render.

Keeping one layout means the three renderings cannot disagree about a number, and a test can
check that every number of the summary reaches the report. Counts print with thousands
separators, shares as percentages with one decimal, latencies in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.reporting.latency import LatencyStats
from app.reporting.summary import MainJobSummary

__all__ = ["Section", "fmt_count", "fmt_ms", "fmt_pct", "fmt_rate", "summary_sections"]


@dataclass(frozen=True, slots=True)
class Section:
    """A titled table (possibly without rows) with notes under it."""

    title: str
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    notes: tuple[str, ...] = ()


def fmt_count(n: int) -> str:
    return f"{n:,}"


def fmt_pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def fmt_ms(x: float) -> str:
    return f"{x:,.0f}"


def fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f}"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _run(s: MainJobSummary) -> Section:
    notes = [f"run_id {s.run_id}", f"planned rows {fmt_count(s.planned_rows)}"]
    notes += (["drained: every admitted authorisation decided, every expected step complete"]
              if s.drained else [f"NOT drained: {m}" for m in s.missing])
    return Section("Run", notes=tuple(notes))


def _admission(s: MainJobSummary) -> Section:
    by_type = ", ".join(f"{t} {fmt_count(n)}" for t, n in s.admitted_by_type.items())
    return Section("Events admitted (IG receipts)", ("receipt", "count"),
                   tuple((k, fmt_count(n)) for k, n in s.receipts.items()),
                   (f"admitted by event type: {by_type or 'none'}",))


def _decisions(s: MainJobSummary) -> Section:
    rows = [(k, fmt_count(n), fmt_pct(_share(n, s.decisions)))
            for k, n in s.decisions_by_outcome.items()]
    rows.append(("total", fmt_count(s.decisions), fmt_pct(_share(s.decisions, s.decisions))))
    notes = (f"{fmt_count(s.decision_repeats)} repeated decision records (same decision_id) "
             "counted once",) if s.decision_repeats else ()
    return Section("Decisions by outcome", ("outcome", "decisions", "share"), tuple(rows), notes)


def _actions(s: MainJobSummary) -> Section:
    if not s.outcomes_expected:
        return Section("Actions by outcome", notes=(
            "not expected: AL is not among this deployment's agents (wiring.worker.agents)",))
    rows = tuple((a.action_type, fmt_count(a.intents), fmt_count(a.executed),
                  fmt_count(a.denied), fmt_count(a.failed), fmt_count(a.missing))
                 for a in s.actions)
    notes = [f"{fmt_count(s.outcomes)} outcomes for {fmt_count(s.intents)} intents"]
    if s.outcome_repeats:
        notes.append(f"{fmt_count(s.outcome_repeats)} repeated outcome records counted once, "
                     f"{fmt_count(s.outcome_conflicts)} of them conflicting")
    return Section("Actions by outcome", ("action type", "intents", "EXECUTED", "DENIED",
                                          "FAILED", "missing"), rows, tuple(notes))


def _campaigns(s: MainJobSummary) -> Section:
    e = s.evaluation
    rows = tuple((c.label, c.subtype, fmt_count(c.in_truth), fmt_count(c.decided),
                  fmt_count(c.caught), fmt_count(c.stepped_up), fmt_count(c.reviewed),
                  fmt_count(c.declined), fmt_pct(c.recall)) for c in e.campaigns)
    lg = e.legit
    notes = (
        f"fraud and abuse caught (any friction): {fmt_count(sum(c.caught for c in e.campaigns))} "
        f"of {fmt_count(sum(c.decided for c in e.campaigns))} decided ({fmt_pct(e.recall)})",
        f"legitimate friction: {fmt_count(lg.friction)} of {fmt_count(lg.decided)} decided "
        f"legitimate flows ({fmt_pct(lg.friction_share)}); declined {fmt_count(lg.declined)} "
        f"({fmt_pct(lg.decline_share)})",
        f"friction precision: {fmt_count(e.friction_fraud_or_abuse)} of {fmt_count(e.friction)} "
        f"non-APPROVE decisions were fraud or abuse ({fmt_pct(e.precision)})",
        f"decisions matched to truth {fmt_count(e.matched)}, unmatched {fmt_count(e.unmatched)}",
    )
    return Section("Fraud caught and legitimate friction by campaign type",
                   ("label", "campaign type", "in truth", "decided", "caught", "step-up",
                    "review", "decline", "recall"), rows, notes)


def _latency_row(name: str, stats: LatencyStats | None) -> tuple[str, ...]:
    if stats is None:
        return (name, "0", "-", "-", "-")
    return (name, fmt_count(stats.count), fmt_ms(stats.p50_ms), fmt_ms(stats.p99_ms),
            fmt_ms(stats.max_ms))


def _latency(s: MainJobSummary) -> Section:
    rows = [_latency_row("admission -> decision", s.decision_latency)]
    if s.outcomes_expected:
        rows.append(_latency_row("admission -> action outcome", s.outcome_latency))
    span = "-" if s.span_s is None else f"{s.span_s:,.1f}"
    notes = [f"throughput: {fmt_rate(s.throughput_per_s)} decisions/s "
             f"({fmt_count(s.decisions)} decisions in {span} s from the first admission to "
             "the last decision)",
             "latency = bus timestamp of the rtdl record - bus timestamp of the trigger's "
             "traffic record"]
    unknown = s.decision_latency_unknown + s.outcome_latency_unknown
    if unknown:
        notes.append(f"{fmt_count(unknown)} records without a known admission time left out")
    return Section("Latency and throughput", ("measure", "count", "p50 ms", "p99 ms", "max ms"),
                   tuple(rows), tuple(notes))


def _audit(s: MainJobSummary) -> Section:
    a = s.audit
    if a is None:
        return Section("Audit", notes=("audit: not expected (DLA is not in wiring.worker.agents)",))
    return Section("Audit", ("decisions", "audited", "chains complete", "unaudited",
                             "corrections"),
                   ((fmt_count(a.decisions), fmt_count(a.audited), fmt_count(a.complete),
                     fmt_count(a.unaudited), fmt_count(a.corrections)),),
                   (f"audit chains complete: {fmt_count(a.complete)} of "
                    f"{fmt_count(a.decisions)} decisions",))


def _labels(s: MainJobSummary) -> Section:
    h = s.labels
    if h is None:
        return Section("Labels and cases", notes=("label health: not measured (no Label Store "
                                                   "in wiring.worker.agents)",))
    rows = tuple((outcome, fmt_count(n), fmt_count(k), fmt_pct(_share(k, n)))
                 for outcome, n, k in h.coverage)
    hours = ("-" if h.time_to_label_h_p50 is None else
             f"p50 {h.time_to_label_h_p50:,.1f} h, p90 {h.time_to_label_h_p90 or 0:,.1f} h")
    states = ", ".join(f"{st} {fmt_count(n)}" for st, n in h.cases_by_state) or "none"
    verdicts = ", ".join(f"{v} {fmt_count(n)}" for v, n in h.resolved_by_verdict) or "none yet"
    return Section(
        "Labels and cases", ("decision outcome", "fraud/abuse flows", "labelled", "coverage"),
        rows, (f"label events in the Label Store: {fmt_count(h.label_events)}; time to label "
               f"(observed - effective): {hours}",
               f"overturned: {fmt_count(h.overturned_flows)} of {fmt_count(h.labelled_flows)} "
               f"labelled flows ({fmt_pct(h.overturn_rate)})",
               f"cases opened: {fmt_count(h.cases_opened)} ({states}; "
               f"{fmt_count(h.cases_from_labels)} by disputes or chargebacks on approved flows); "
               f"resolved by verdict: {verdicts}"))


def summary_sections(summary: MainJobSummary) -> list[Section]:
    """The summary's sections, in reading order."""
    return [f(summary) for f in (_run, _admission, _decisions, _actions, _campaigns, _latency,
                                 _audit, _labels)]
