"""Render :func:`~app.reporting.sections.summary_sections` for a terminal, Markdown or HTML.

All three take the same sections, so they agree number for number. HTML is self-contained
(inline CSS, no scripts, nothing fetched) apart from the chart PNGs next to it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from app.reporting.sections import Section

__all__ = ["ChartRef", "render_html", "render_markdown", "render_text"]

ChartRef = tuple[str, str]
"""(title, file name of a PNG next to the report)."""


def _fixed(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell; first column left-aligned, the rest right."""
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return [line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])]


def render_text(sections: Sequence[Section]) -> str:
    """Plain text for a terminal (ends with a newline)."""
    out: list[str] = []
    for s in sections:
        out.append(f"== {s.title}")
        if s.headers:
            out += ["  " + line for line in _fixed(s.headers, s.rows)]
        out += [f"  {note}" for note in s.notes]
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(title: str, sections: Sequence[Section], charts: Sequence[ChartRef]) -> str:
    """A Markdown report; charts are linked by relative file name."""
    out = [f"# {title}", ""]
    for s in sections:
        out += [f"## {s.title}", ""]
        if s.headers:
            out.append("| " + " | ".join(map(_md_cell, s.headers)) + " |")
            out.append("|" + "|".join([":--"] + ["--:"] * (len(s.headers) - 1)) + "|")
            out += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in s.rows]
            out.append("")
        out += [f"- {note}" for note in s.notes]
        out.append("")
    if charts:
        out += ["## Charts", ""]
        for name, file in charts:
            out += [f"### {name}", "", f"![{name}]({file})", ""]
    return "\n".join(out)


_CSS = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}"
        "td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}"
        "img{max-width:100%}")


def render_html(title: str, sections: Sequence[Section], charts: Sequence[ChartRef]) -> str:
    """A self-contained HTML page (inline CSS); charts are ``<img>`` of PNGs next to it."""
    e = html.escape
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{e(title)}</h1>"]
    for s in sections:
        out.append(f"<h2>{e(s.title)}</h2>")
        if s.headers:
            out.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in s.headers) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in s.rows]
            out.append("</table>")
        if s.notes:
            out.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in s.notes) + "</ul>")
    for name, file in charts:
        out += [f"<h2>{e(name)}</h2>", f'<img src="{e(file)}" alt="{e(name)}">']
    out.append("</body></html>")
    return "\n".join(out) + "\n"
