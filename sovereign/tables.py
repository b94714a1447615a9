"""Tables people open: XLSX sheets with the header frozen, a filter and widths that fit, and a plain HTML page
that reads on a phone; both credit Freedom House."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl


def widths(frame: pl.DataFrame) -> dict[Any, int]:
    return {c: min(max([len(c), 8, *(len(str(v)) for v in frame[c].head(200).to_list() if v is not None)]) + 2, 60)
            for c in frame.columns}


def write_sheets(sheets: dict[str, pl.DataFrame], path: Path) -> None:
    """Each frame a sheet (empty ones left out), numbers as numbers, header frozen and filtered, and text a
    spreadsheet would run neutralised, whichever source it came from (a portfolio's name, an issuer's)."""
    import xlsxwriter

    from sovereign.cells import neutral_frame

    with xlsxwriter.Workbook(str(path)) as workbook:
        for name, frame in sheets.items():
            if frame.width == 0 or (frame.is_empty() and len(sheets) > 1):
                continue
            frame = neutral_frame(frame)
            frame.write_excel(workbook, worksheet=name[:31], autofilter=True, freeze_panes=(1, 0),
                              column_widths=widths(frame), header_format={"bold": True})


def html_page(title: str, lead: list[str], sheets: dict[str, pl.DataFrame], notes: list[str]) -> str:
    from sovereign.templating import environment

    env = environment()
    tables = [(name, frame.columns, [[_cell(v) for v in row] for row in frame.rows()])
              for name, frame in sheets.items() if not frame.is_empty()]
    return env.get_template("tables.html.j2").render(title=title, lead=lead, tables=tables, notes=notes)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.3f}"
    return str(value)
