"""The main job's summary and report: from what a run left on the record to numbers and charts.

Pure parts (drain detection, summary math, sections and their renderings) take records already
read; ``app.reporting.follow`` does the reading (receipts, rtdl, traffic timestamps, audit) and
``app.reporting.report`` writes the files. Truth comes only through ``app.evaluation``.
"""

from app.reporting.drain import DrainProgress, DrainTracker, StallWatch
from app.reporting.latency import LatencyStats, percentile
from app.reporting.records import BusRecord, decode_record
from app.reporting.render import render_html, render_markdown, render_text
from app.reporting.report import ReportPaths, new_report_folder, write_report
from app.reporting.sections import Section, summary_sections
from app.reporting.summary import (
    ActionRow,
    AuditStats,
    ChartData,
    MainJobSummary,
    build_summary,
    chart_data,
)

__all__ = [
    "ActionRow",
    "AuditStats",
    "BusRecord",
    "ChartData",
    "DrainProgress",
    "DrainTracker",
    "LatencyStats",
    "MainJobSummary",
    "ReportPaths",
    "Section",
    "StallWatch",
    "build_summary",
    "chart_data",
    "decode_record",
    "new_report_folder",
    "percentile",
    "render_html",
    "render_markdown",
    "render_text",
    "summary_sections",
    "write_report",
]
