"""The report's PNG charts, drawn with matplotlib's Agg backend (no display needed).

matplotlib is imported only when a chart is drawn: importing this module (or the CLI) stays cheap,
and the summary works without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.evaluation.scorecard_report import OUTCOMES
from app.reporting.latency import percentile
from app.reporting.summary import ChartData

__all__ = ["CHARTS", "write_charts"]

CHARTS: tuple[tuple[str, str], ...] = (
    ("Decisions over time", "decisions_over_time.png"),
    ("Latency distribution", "latency.png"),
    ("Score distributions by truth label", "scores_by_label.png"),
)
"""(title, file name) of every chart, in report order."""

_OUTCOME_COLOURS = {"APPROVE": "#4caf50", "STEP_UP": "#ffc107", "REVIEW": "#ff7043",
                    "DECLINE": "#c62828"}
_LABEL_COLOURS = {"legit": "#4caf50", "fraud": "#c62828", "abuse": "#7e57c2"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _decisions_over_time(plt: Any, data: ChartData, path: Path) -> None:
    """Decisions per second of bus time since the first admission, stacked by outcome."""
    seconds = int(max((t for t, _ in data.decision_times), default=0)) + 1
    outcomes = [o for o in OUTCOMES if any(out == o for _, out in data.decision_times)]
    outcomes += sorted({o for _, o in data.decision_times} - set(OUTCOMES))
    counts = {o: [0] * seconds for o in outcomes}
    for t, outcome in data.decision_times:
        counts[outcome][max(0, int(t))] += 1
    fig, ax = plt.subplots(figsize=(9, 3.5))
    if outcomes:
        ax.stackplot(range(seconds), *[counts[o] for o in outcomes], labels=outcomes,
                     colors=[_OUTCOME_COLOURS.get(o, "#999999") for o in outcomes], step="post")
        ax.legend(loc="upper right", fontsize="small")
    ax.set_xlabel("seconds since the first admission (bus time)")
    ax.set_ylabel("decisions per second")
    ax.set_title("Decisions over time, by outcome")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _latency(plt: Any, data: ChartData, path: Path) -> None:
    """Histograms of admission -> decision (and -> outcome) latency with p50/p99 markers."""
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for name, values, colour in (("decision", data.decision_latency_ms, "#1565c0"),
                                 ("action outcome", data.outcome_latency_ms, "#ef6c00")):
        if not values:
            continue
        ax.hist(values, bins=60, alpha=0.5, color=colour, label=f"admission -> {name}")
        for q, style in ((0.5, "--"), (0.99, ":")):
            x = percentile(values, q)
            ax.axvline(x, color=colour, linestyle=style,
                       label=f"{name} p{int(q * 100)} {x:,.0f} ms")
    ax.set_xlabel("latency (ms, bus timestamps)")
    ax.set_ylabel("records")
    ax.set_title("Latency distribution")
    if data.decision_latency_ms or data.outcome_latency_ms:
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _scores(plt: Any, data: ChartData, path: Path) -> None:
    """Score histograms per truth label, each normalised (legit flows outnumber the rest)."""
    fig, ax = plt.subplots(figsize=(9, 3.5))
    every = [v for values in data.scores_by_label.values() for v in values]
    low, high = (min(every), max(every)) if every else (0.0, 1.0)
    span = (low, high) if high > low else (low - 0.5, high + 0.5)  # one bin grid for all labels
    drawn = False
    for label, values in data.scores_by_label.items():
        if values:
            ax.hist(values, bins=40, range=span, density=True, histtype="step",
                    linewidth=1.5, color=_LABEL_COLOURS.get(label, "#555555"),
                    label=f"{label} (n={len(values):,})")
            drawn = True
    ax.set_xlabel("score (the bundle's, as recorded on the decision)")
    ax.set_ylabel("density")
    ax.set_title("Score distributions by truth label")
    if drawn:
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_charts(data: ChartData, folder: Path) -> list[tuple[str, str]]:
    """Draw every chart into ``folder``; returns (title, file name) pairs as in :data:`CHARTS`."""
    plt = _pyplot()
    for (_, file), draw in zip(CHARTS, (_decisions_over_time, _latency, _scores), strict=True):
        draw(plt, data, folder / file)
    return list(CHARTS)
