"""The report on disk: files, valid PNGs, every summary number in the Markdown, create-only."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from app.reporting.render import render_html, render_text
from app.reporting.report import new_report_folder, write_report
from app.reporting.sections import fmt_count, fmt_ms, fmt_pct, fmt_rate, summary_sections
from app.reporting.summary import MainJobSummary, chart_data
from tests.unit.reporting.test_summary import ADMITTED, TRUTH, Run

_PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def run() -> Run:
    return Run()


def _png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk of a PNG file; fails on anything else."""
    data = path.read_bytes()
    assert data[:8] == _PNG and data[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _numbers(s: MainJobSummary) -> list[str]:
    """Every number of the summary as the report prints it."""
    e = s.evaluation
    out = [fmt_count(n) for n in (*s.receipts.values(), *s.admitted_by_type.values(),
                                  *s.decisions_by_outcome.values(), s.decisions, s.planned_rows,
                                  s.intents, s.outcomes)]
    for a in s.actions:
        out += [fmt_count(n) for n in (a.intents, a.executed, a.denied, a.failed, a.missing)]
    for c in e.campaigns:
        out += [fmt_count(n) for n in (c.in_truth, c.decided, c.caught, c.stepped_up,
                                       c.reviewed, c.declined)] + [fmt_pct(c.recall)]
    out += [fmt_count(n) for n in (e.legit.decided, e.legit.friction, e.legit.declined)]
    out += [fmt_pct(e.legit.friction_share), fmt_pct(e.legit.decline_share), fmt_pct(e.recall),
            fmt_pct(e.precision)]
    for lat in (s.decision_latency, s.outcome_latency):
        assert lat is not None
        out += [fmt_count(lat.count), fmt_ms(lat.p50_ms), fmt_ms(lat.p99_ms), fmt_ms(lat.max_ms)]
    assert s.audit is not None and s.span_s is not None
    out += [fmt_rate(s.throughput_per_s), f"{s.span_s:,.1f}"]
    out += [fmt_count(n) for n in (s.audit.decisions, s.audit.audited, s.audit.complete,
                                   s.audit.unaudited, s.audit.corrections)]
    return out


def test_report_files_exist_and_charts_are_valid_pngs(run: Run, tmp_path: Path) -> None:
    paths = write_report(run.summary(), chart_data(run.decisions, run.outcomes, ADMITTED, TRUTH),
                         tmp_path / "reports")
    assert paths.folder == tmp_path / "reports" / run.summary().run_id
    assert {p.name for p in paths.folder.iterdir()} == {
        "report.md", "report.html", "decisions_over_time.png", "latency.png",
        "scores_by_label.png"}
    for png in paths.charts:
        width, height = _png_size(png)
        assert width > 100 and height > 100


def test_markdown_and_html_mention_every_number_of_the_summary(run: Run,
                                                               tmp_path: Path) -> None:
    summary = run.summary()
    paths = write_report(summary, chart_data(run.decisions, run.outcomes, ADMITTED, TRUTH),
                         tmp_path)
    markdown, page = paths.markdown.read_text(), paths.html.read_text()
    for number in _numbers(summary):
        assert number in markdown, number
        assert number in page, number
    for png in paths.charts:
        assert f"]({png.name})" in markdown and f'src="{png.name}"' in page
    assert summary.run_id in markdown


def test_html_is_self_contained_and_escapes_text(run: Run) -> None:
    page = render_html("a <b> & c", summary_sections(run.summary()), [("x", "x.png")])
    assert "<title>a &lt;b&gt; &amp; c</title>" in page
    assert "http" not in page and "<script" not in page
    assert "admission -&gt; decision" in page


def test_a_second_report_of_the_same_run_gets_a_new_folder(run: Run, tmp_path: Path) -> None:
    data = chart_data(run.decisions, run.outcomes, ADMITTED, TRUTH)
    first = write_report(run.summary(), data, tmp_path)
    before = first.markdown.read_bytes()
    second = write_report(run.summary(), data, tmp_path)
    assert second.folder.name == f"{run.summary().run_id}-2"
    assert first.markdown.read_bytes() == before
    assert new_report_folder(tmp_path, run.summary().run_id).name == \
        f"{run.summary().run_id}-3"


def test_charts_draw_with_no_records_at_all(tmp_path: Path) -> None:
    empty = Run()
    empty.decisions, empty.outcomes, empty.audit = [], [], []
    summary = empty.summary(admitted_ms={})
    paths = write_report(summary, chart_data([], [], {}, {}), tmp_path)
    assert all(_png_size(p) for p in paths.charts)
    assert "0" in render_text(summary_sections(summary))
