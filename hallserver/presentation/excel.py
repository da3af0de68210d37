"""Excel (.xlsx) export of reports: one sheet per report, a bold frozen header row, real number formats
(minutes as 0.0, rates as percentages), so the numbers stay numbers in the manager's spreadsheet."""

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
    notes: Sequence[str] = field(default_factory=tuple)  # lines below the table (period, definitions)


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
    ws.append([c.header for c in sheet.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in sheet.rows:
        ws.append([row.get(c.key) for c in sheet.columns])
    for index, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = column.number_format
        widest = max([text_width(column.header, 1)] + [text_width(str(r.get(column.key) or ""), 1) for r in sheet.rows])
        ws.column_dimensions[letter].width = min(max(8.0, widest * 1.9 + 2), 48.0)
    ws.freeze_panes = "A2"
    if sheet.notes:
        start = len(sheet.rows) + 3
        for offset, line in enumerate(sheet.notes):
            ws.cell(row=start + offset, column=1, value=line).font = Font(italic=True, color="555555")
