"""Excel (.xlsx) export of reports: one sheet per report, its title and period on top (where a reader and a
printout look first), then a bold frozen header row and the table, with real number formats (minutes as 0.0,
rates as percentages), so the numbers stay numbers in the manager's spreadsheet."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from hallserver.presentation.charts import text_width

HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")


@dataclass(frozen=True)
class XlsxColumn:
    """A column: the row key, its header and number format."""

    key: str
    header: str
    number_format: str = "General"


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a header row, then one row per dict."""

    title: str  # ≤ 31 characters, no []:*?/\
    columns: Sequence[XlsxColumn]
    rows: Sequence[dict[str, Any]]
    notes: Sequence[str] = field(default_factory=tuple)  # lines above the table: the first is its title line


def header_row(sheet: Sheet) -> int:
    """The 1-based row of the sheet's header: below the notes and a blank row, or the first row without notes."""
    return len(sheet.notes) + 2 if sheet.notes else 1


def workbook(sheets: Sequence[Sheet], active: int = 0) -> bytes:
    """The .xlsx file's bytes."""
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        _fill(book.create_sheet(sheet.title[:31]), sheet)
    book.active = min(active, len(sheets) - 1)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fill(ws: Any, sheet: Sheet) -> None:
    for offset, line in enumerate(sheet.notes):
        cell = ws.cell(row=1 + offset, column=1, value=line)
        cell.font = Font(bold=True, size=13) if offset == 0 else Font(italic=True, color="555555")
    top = header_row(sheet)
    for index, column in enumerate(sheet.columns, start=1):
        cell = ws.cell(row=top, column=index, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for number, row in enumerate(sheet.rows, start=top + 1):
        for index, column in enumerate(sheet.columns, start=1):
            ws.cell(row=number, column=index, value=row.get(column.key)).number_format = column.number_format
    for index, column in enumerate(sheet.columns, start=1):
        widest = max([text_width(column.header, 1)] + [text_width(str(r.get(column.key) or ""), 1) for r in sheet.rows])
        ws.column_dimensions[get_column_letter(index)].width = min(max(8.0, widest * 1.9 + 2), 48.0)
    ws.freeze_panes = f"A{top + 1}"  # title, period and header stay in view while scrolling
