"""Write the main job's report: ``report.md``, ``report.html`` and PNG charts in one new folder.

Create-only minded, like the platform's other records: each report gets a folder of its own,
``<reports_root>/<run_id>`` or, when that is taken (the same run reported again), the first free
``<run_id>-2``, ``<run_id>-3``, ...; files are opened exclusively, so nothing is ever overwritten.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from app.reporting.charts import write_charts
from app.reporting.render import render_html, render_markdown
from app.reporting.sections import summary_sections
from app.reporting.summary import ChartData, MainJobSummary

__all__ = ["ReportPaths", "new_report_folder", "write_report"]


@dataclass(frozen=True, slots=True)
class ReportPaths:
    folder: Path
    markdown: Path
    html: Path
    charts: tuple[Path, ...]


def new_report_folder(reports_root: Path, run_id: str) -> Path:
    """Create and return a folder no earlier report used (``run_id``, then ``run_id-2``, ...)."""
    reports_root.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        folder = reports_root / (run_id if n == 1 else f"{run_id}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise AssertionError("unreachable: itertools.count never ends")


def _write_new(path: Path, text: str) -> Path:
    with open(path, "x", encoding="utf-8") as out:
        out.write(text)
    return path


def write_report(summary: MainJobSummary, data: ChartData, reports_root: Path) -> ReportPaths:
    """Render the summary and charts into a new folder under ``reports_root``."""
    folder = new_report_folder(reports_root, summary.run_id)
    charts = write_charts(data, folder)
    sections = summary_sections(summary)
    title = f"Main job report: run {summary.run_id}"
    return ReportPaths(
        folder=folder,
        markdown=_write_new(folder / "report.md", render_markdown(title, sections, charts)),
        html=_write_new(folder / "report.html", render_html(title, sections, charts)),
        charts=tuple(folder / file for _, file in charts))
