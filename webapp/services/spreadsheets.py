"""CSV that a spreadsheet opens as text, never as formulas (OWASP "CSV Injection").

Every export of this product writes its rows through :func:`csv_line`.
https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import CompoundSelect, Select

from webapp.extensions import db

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_TRIGGERS = "=+-@\t\r"
# The separators a spreadsheet may split a line on, whatever the file meant: the comma,
# the semicolon of many locales' Excel, the tab, the pipe, and a line break.
SEPARATORS = ",;\t|\r\n"
# Where a cell may begin once a spreadsheet splits the text on any separator: the start, or
# just after a separator; (spaces and) a formula trigger following make it a formula.
_FORMULA_START = re.compile(
    rf"(?:^|(?<=[{re.escape(SEPARATORS)}]))(?=[ \u00a0]*[{re.escape(FORMULA_TRIGGERS)}])")


def safe_cell(value: object) -> str:
    """``value`` as text in which no cell, split on any separator, starts a formula: a
    single quote goes before each such start (OWASP), so ``a;=X()`` becomes ``'a;'=X()``."""
    text = "" if value is None else str(value)
    return _FORMULA_START.sub("'", text)


def csv_line(values: Iterable[object]) -> str:
    """One CSV line (RFC 4180, CRLF): every field quoted, quotes doubled, cells made safe."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow(
        safe_cell(value) for value in values)
    return buffer.getvalue()


def check_export(query: Select[Any] | CompoundSelect[Any]) -> None:
    """Ask for the first row of an export's ``query`` before its answer's status goes out: a
    filter the database refuses (a NUL on PostgreSQL) then raises here, in the view, and the
    error handlers answer 400 as they do for the page, rather than a 200 download cut off
    after its header. (The export itself streams later, on a cursor of its own.)"""
    db.session.execute(query.limit(1)).first()
