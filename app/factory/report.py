"""The factory's evaluation report: ``report.html``, its PNG charts and ``metrics.json``.

The HTML is self-contained apart from the PNGs beside it; every value in it is HTML-escaped
(feature names and ids come from imported data). ``report.html`` and ``metrics.json`` are
deterministic for a given result; the PNG bytes may vary with the matplotlib version.
matplotlib (Agg backend) and scikit-learn are imported only when the report is written.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.factory.metrics import fill_missing_scores

if TYPE_CHECKING:
    from app.factory.factory import FactoryResult

__all__ = [
    "CHARTS", "METRICS_FILE", "REPORT_FILE", "TOP_FEATURES", "render_html", "report_json",
    "write_report",
]

REPORT_FILE = "report.html"
METRICS_FILE = "metrics.json"
TOP_FEATURES = 20
CHARTS: tuple[tuple[str, str], ...] = (
    ("Precision-recall on the test rows", "pr_curve.png"),
    ("ROC on the test rows", "roc_curve.png"),
    ("Candidate score distribution by label (test rows)", "score_distribution.png"),
    (f"Feature importance (gain, up to {TOP_FEATURES} features)", "feature_importance.png"),
)
"""(title, file name) of every chart, in report order."""

_CANDIDATE, _INCUMBENT = "#1565c0", "#ef6c00"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _importance(result: FactoryResult) -> list[tuple[str, float]]:
    """Features by total gain, highest first (ties by name)."""
    pairs = zip(result.features, result.importance_gain, strict=True)
    return sorted(pairs, key=lambda p: (-p[1], p[0]))


def report_json(result: FactoryResult) -> dict[str, Any]:
    """The content of ``metrics.json`` (NaN -> null)."""
    fields = result.bundle_fields
    content: dict[str, Any] = _jsonable({
        "dataset_id": result.dataset_id,
        "bundle": {k: fields[k] for k in ("bundle_id", "version", "scope", "kind",
                                         "model_digest")},
        "code_version": fields["lineage"]["code_version"],
        "params": fields["lineage"]["params"],
        "split": {"train_rows": result.train_rows, "test_rows": result.test_rows,
                  "test_from_ts_us": result.split_ts_us, "test_to_ts_us": result.test_to_ts_us,
                  "test_from_ts_utc": result.split_ts_utc},
        "bands": result.bands.as_dict(),
        "train_band_rates": result.train_band_rates,
        "metrics": result.metrics,
        "feature_importance_gain": [{"feature": f, "gain": g} for f, g in _importance(result)],
    })
    return content


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _tex_safe(text: str) -> str:
    """matplotlib reads ``$...$`` as mathtext; a name is shown as it is."""
    return text.replace("$", r"\$")


def _both_labels(labels: np.ndarray[Any, Any]) -> bool:
    return bool((labels == 1).any() and (labels == 0).any())


def _curves(plt: Any, result: FactoryResult, folder: Path) -> None:
    from sklearn.metrics import precision_recall_curve, roc_curve

    labels = result.test_labels
    scorers = (("candidate", result.candidate_scores, _CANDIDATE),
               ("incumbent", fill_missing_scores(result.incumbent_scores), _INCUMBENT))
    m = result.metrics
    for kind, file in (("pr", CHARTS[0][1]), ("roc", CHARTS[1][1])):
        fig, ax = plt.subplots(figsize=(6, 5))
        if _both_labels(labels):
            for who, scores, colour in scorers:
                if kind == "pr":
                    precision, recall, _ = precision_recall_curve(labels, scores)
                    ax.step(recall, precision, where="post", color=colour,
                            label=f"{who} (AP {m[f'{who}.average_precision']:.3f})")
                else:
                    fpr, tpr, _ = roc_curve(labels, scores)
                    ax.plot(fpr, tpr, color=colour,
                            label=f"{who} (ROC-AUC {m[f'{who}.roc_auc']:.3f})")
            ax.legend(loc="lower left" if kind == "pr" else "lower right", fontsize="small")
        else:
            ax.text(0.5, 0.5, "undefined: the test rows have one label only", ha="center")
        if kind == "pr":
            ax.set_xlabel("recall")
            ax.set_ylabel("precision")
            ax.set_title("Precision-recall (test rows)")
        else:
            ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1)
            ax.set_xlabel("false-positive rate")
            ax.set_ylabel("true-positive rate")
            ax.set_title("ROC (test rows)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        fig.tight_layout()
        fig.savefig(folder / file, dpi=100)
        plt.close(fig)


def _scores(plt: Any, result: FactoryResult, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.set_yscale("log")
    drawn = False
    for label, name, colour in ((0, "legitimate", "#4caf50"), (1, "fraud", "#c62828")):
        values = result.candidate_scores[result.test_labels == label]
        if values.size:
            ax.hist(values, bins=50, range=(0.0, 1.0), density=True, histtype="step",
                    linewidth=1.5, color=colour, label=f"{name} (n={values.size:,})")
            drawn = True
    for band, value in result.bands.as_dict().items():
        ax.axvline(value, color="#555555", linestyle=":", linewidth=1)
        ax.annotate(band, (value, 1.0), xycoords=("data", "axes fraction"), rotation=90,
                    fontsize="x-small", va="top", ha="right")
    ax.set_xlim(0, 1)
    ax.set_xlabel("candidate score (probability)")
    ax.set_ylabel("density (log)")
    ax.set_title("Candidate score distribution by label, with the bands")
    if drawn:
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _importance_chart(plt: Any, result: FactoryResult, path: Path) -> None:
    top = _importance(result)[:TOP_FEATURES]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(top) + 1.5))
    names = [_tex_safe(f) for f, _ in reversed(top)]
    ax.barh(range(len(top)), [g for _, g in reversed(top)], color=_CANDIDATE)
    ax.set_yticks(range(len(top)), names, fontsize="small")
    ax.set_xlabel("total gain")
    ax.set_title(f"Feature importance (gain, top {len(top)})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.4f}"
    return str(value)


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(_fmt(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_COMPARED = (
    ("ROC-AUC", "roc_auc"),
    ("Average precision", "average_precision"),
    ("Recall at 1 % false-positive rate", "recall_at_1pct_fpr"),
    ("Recall at the incumbent's friction", "recall_at_incumbent_friction"),
    ("Legitimate friction at that operating point", "friction_at_operating_point"),
)


def render_html(result: FactoryResult) -> str:
    """The report page (every value escaped)."""
    e = html.escape
    m = result.metrics
    fields = result.bundle_fields
    lineage = fields["lineage"]
    compared = [(label, m[f"candidate.{key}"], m[f"incumbent.{key}"]) for label, key in _COMPARED]
    bands = [(name, value, result.train_band_rates[name])
             for name, value in result.bands.as_dict().items()]
    step_up = [(k, v) for k, v in m.items() if k.startswith("candidate.step_up_band")]
    split = [
        ("dataset (manifest digest)", result.dataset_id),
        ("training rows (earlier)", result.train_rows),
        ("test rows (later)", result.test_rows),
        ("test positives", int(m["test.positives"])),
        ("test from (event time)", result.split_ts_utc),
        ("share of test rows the incumbent decided", m["incumbent.decided_share"]),
        ("share of test rows the incumbent scored", m["incumbent.scored_share"]),
    ]
    params = [(k, json.dumps(v, sort_keys=True)) for k, v in sorted(lineage["params"].items())]
    top = _importance(result)[:TOP_FEATURES]
    charts = "".join(f'<figure><img src="{e(file)}" alt="{e(title)}"><figcaption>{e(title)}'
                     "</figcaption></figure>" for title, file in CHARTS)
    title = f"Model factory: {fields['bundle_id']} v{fields['version']} ({fields['scope']})"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
        "figure{display:inline-block;margin:1em}img{max-width:100%}</style>",
        "</head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>Model digest sha256:<code>{e(fields['model_digest']['hex'])}</code>, code version "
        f"<code>{e(str(lineage['code_version']))}</code>.</p>",
        "<h2>Time split</h2>",
        _table(("", "value"), split),
        "<h2>Candidate against incumbent (same test rows)</h2>",
        "<p>A rules-only incumbent decision (no score) ranks below every scored one. The "
        "operating point is the incumbent's friction: the share of legitimate test rows it "
        "stepped up, reviewed or declined (a row it never decided counts as not flagged).</p>",
        _table(("metric", "candidate", "incumbent"), compared),
        "<h2>Score bands</h2>",
        "<p>Picked on the legitimate training rows: <code>score &gt;= band</code>; the rate is "
        "the share of legitimate training rows at or above the band.</p>",
        _table(("band", "probability", "legitimate training rate"), bands),
        _table(("candidate at its step-up band, test rows", "value"), step_up),
        "<h2>Charts</h2>",
        charts,
        f"<h2>Feature importance (gain, top {len(top)})</h2>",
        _table(("feature", "gain"), top),
        "<h2>Parameters</h2>",
        _table(("parameter", "value"), params),
        "</body></html>",
        "",
    ])


def write_report(result: FactoryResult, out_dir: Path | str) -> list[Path]:
    """Write ``report.html``, the charts and ``metrics.json`` into ``out_dir`` (created)."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    plt = _pyplot()
    _curves(plt, result, folder)
    _scores(plt, result, folder / CHARTS[2][1])
    _importance_chart(plt, result, folder / CHARTS[3][1])
    metrics = folder / METRICS_FILE
    metrics.write_text(json.dumps(report_json(result), sort_keys=True, indent=2,
                                  allow_nan=False) + "\n", encoding="utf-8")
    page = folder / REPORT_FILE
    page.write_text(render_html(result), encoding="utf-8")
    return [page, metrics, *(folder / file for _, file in CHARTS)]
