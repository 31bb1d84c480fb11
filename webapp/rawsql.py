"""Core statements compiled once per dialect and run straight on a pooled DBAPI connection.

The mint endpoint's three statements (the client look-up and the two inserts) run on every
request; SQLAlchemy's execution machinery cost them several times what the database does.
Here each statement is compiled by SQLAlchemy itself (so the SQL, its placeholders and any
casts are exactly what SQLAlchemy would send, on SQLite and PostgreSQL alike) and the column
types' own bind and result processors convert values; only the per-call bookkeeping is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Dialect, Engine
from sqlalchemy.sql import ClauseElement

from .extensions import db

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind parameter names, in placeholder order when positional
    positional: bool
    binds: tuple[Processor | None, ...]  # per name
    results: tuple[Processor | None, ...]  # per selected column

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        converted = [value if convert is None else convert(value)
                     for value, convert in zip((values[name] for name in self.names),
                                               self.binds, strict=True)]
        return converted if self.positional else dict(zip(self.names, converted, strict=True))

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(value if convert is None or value is None else convert(value)
                     for value, convert in zip(raw, self.results, strict=True))


class Statement:
    """A Core statement with named bind parameters, compiled lazily for each dialect.

    An INSERT names its columns in ``columns``: its parameters are those columns' values, as
    when SQLAlchemy executes ``insert(table)`` with a dict of them.
    """

    def __init__(self, statement: ClauseElement, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = list(columns) if columns is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        """The statement as ``dialect`` runs it, with its parameters' and columns' converters."""
        known = self._compiled.get(dialect.name)
        if known is None:
            known = self._compiled[dialect.name] = self._compile(dialect)
        return known

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.columns)
        positional = bool(compiled.positional)
        names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.binds)
        binds = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                      for name in names)
        columns = getattr(self.statement, "selected_columns", ())
        results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                        for column in columns)
        return _Compiled(compiled.string, names, positional, binds, results)

    def execute(self, cursor: Any, dialect: Dialect, values: Mapping[str, Any]) -> None:
        """Run it on a DBAPI cursor with these values (converted as SQLAlchemy would)."""
        compiled = self.compiled(dialect)
        cursor.execute(compiled.sql, compiled.parameters(values))

    def rows(self, cursor: Any, dialect: Dialect,
             values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a SELECT and return every row with its columns converted."""
        compiled = self.compiled(dialect)
        cursor.execute(compiled.sql, compiled.parameters(values))
        return [compiled.row(raw) for raw in cursor.fetchall()]


def engine() -> Engine:
    """The current app's default engine."""
    return db.engines[None] if current_app else db.engine


@contextmanager
def cursor() -> Iterator[tuple[Any, Any, Dialect]]:
    """A pooled DBAPI connection, a cursor on it and its dialect; returned to the pool after.

    The caller commits; whatever it did not commit is rolled back when the connection goes
    back to the pool. Pool events (PostgreSQL's pre-ping, SQLite's pragmas) apply as usual.
    """
    bound = engine()
    connection = bound.raw_connection()
    try:
        handle = connection.cursor()
        try:
            yield connection, handle, bound.dialect
        finally:
            handle.close()
    finally:
        connection.close()
