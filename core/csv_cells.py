"""CSV cells a spreadsheet will not run: OWASP's guidance against CSV (formula) injection.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, LibreOffice and Google Sheets as a formula: an HRIS name ``=HYPERLINK("http://x","y")``
in the payroll file would become a live link in finance's spreadsheet. Such a cell is written
with a single quote in front (OWASP, "CSV Injection"), which spreadsheets show as text.

Numbers are left as they are: values that are not text (``Decimal``, ``int``, dates), and text
that is a plain number (``-960.00``, ``+5``, ``1e-3``), so a negative amount stays a number.

The project's CSV files (the payroll file, the statements) are a few rows per rep, read with
``fetchall``; the cells are cleaned one by one as they are written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value``, with a ``'`` in front when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Sequence[Any]) -> list[Any]:
    """Every cell of ``row`` through :func:`safe_cell`."""
    return [safe_cell(value) for value in row]


def safe_rows(rows: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
    """Every row of ``rows`` through :func:`safe_row`."""
    return (safe_row(row) for row in rows)
