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
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Engine
from sqlalchemy.sql import ClauseElement

from webapp.extensions import db

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
        return self.converted(self.raw_rows(cursor, dialect, values), dialect)

    def raw_rows(self, cursor: Any, dialect: Dialect,
                 values: Mapping[str, Any]) -> list[Any]:
        """Run a SELECT and return its rows as the driver gave them."""
        compiled = self.compiled(dialect)
        cursor.execute(compiled.sql, compiled.parameters(values))
        return list(cursor.fetchall())

    def converted(self, rows: list[Any], dialect: Dialect) -> list[tuple[Any, ...]]:
        """Rows from :meth:`raw_rows` with their columns converted as SQLAlchemy would."""
        compiled = self.compiled(dialect)
        return [compiled.row(raw) for raw in rows]


def engine() -> Engine:
    """The current app's default engine."""
    return db.engine


# The connection of the innermost held() block of this thread or task, if any.
_HELD: ContextVar[tuple[Any, Any, Dialect] | None] = ContextVar("rawsql_held", default=None)


@contextmanager
def held() -> Iterator[None]:
    """Check out one pooled connection for every :func:`cursor` inside this block.

    An API request reads its client and writes its mint on one connection, checked out once.
    Whatever is left uncommitted at the end is rolled back as the connection goes back.
    """
    if _HELD.get() is not None:
        yield
        return
    bound = engine()
    connection = bound.raw_connection()
    try:
        handle = connection.cursor()
        token = _HELD.set((connection, handle, bound.dialect))
        try:
            yield
        finally:
            _HELD.reset(token)
            handle.close()
    finally:
        connection.close()


@contextmanager
def cursor() -> Iterator[tuple[Any, Any, Dialect]]:
    """A pooled DBAPI connection, a cursor on it and its dialect; returned to the pool after.

    The held() connection when there is one. The caller commits; whatever it did not commit
    is rolled back if it fails, or when the connection goes back to the pool. Pool events
    (PostgreSQL's pre-ping, SQLite's pragmas) apply as usual.
    """
    current = _HELD.get()
    if current is not None:
        try:
            yield current
        except BaseException:
            current[0].rollback()
            raise
        return
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
