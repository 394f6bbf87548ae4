"""A bulk INSERT handed to the driver's executemany, with SQLAlchemy's own SQL and conversions.

Core's executemany spends several microseconds a row building each row's parameters; in a
million-row import that costs more than the database does. Here the INSERT is compiled once
for the connection's dialect (SQLite, PostgreSQL: its paramstyle and casts), each column's
values go through that column type's own bind processor (once per distinct value where
values repeat, as timestamps and statuses do), and the rows go to the driver in one call:
an executemany (SQLite), or COPY FROM STDIN on PostgreSQL with psycopg, whose executemany
would send one statement a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Dialect, Table, insert
from sqlalchemy.types import TypeEngine


def insert_many(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys, column names) into ``table``."""
    if not rows:
        return
    keys = list(rows[0])
    dialect = connection.dialect
    columns = {
        key: _convert(table.c[key].type, dialect, [row[key] for row in rows]) for key in keys
    }
    if dialect.driver == "psycopg":
        _copy(connection, table, keys, list(columns.values()))
        return
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    if compiled.positional and compiled.positiontup is not None:
        ordered = [columns[key] for key in compiled.positiontup]
        connection.exec_driver_sql(compiled.string, list(zip(*ordered, strict=True)))
    else:
        values = zip(*columns.values(), strict=True)
        connection.exec_driver_sql(
            compiled.string, [dict(zip(keys, v, strict=True)) for v in values]
        )


def _copy(connection: Connection, table: Table, keys: list[str], columns: list[list[Any]]) -> None:
    """PostgreSQL: COPY … FROM STDIN, in the caller's transaction (psycopg adapts in C)."""
    quote = connection.dialect.identifier_preparer
    names = ", ".join(quote.quote(key) for key in keys)
    command = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the PostgreSQL connection is closed")
    with driver.cursor() as cursor, cursor.copy(command) as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)


def _convert(kind: TypeEngine[Any], dialect: Dialect, values: list[Any]) -> list[Any]:
    """One column's values as the driver wants them, converted once per distinct value."""
    process = kind.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    if isinstance(kind, JSON):  # lists and dicts: not hashable
        return [process(v) for v in values]
    done = {v: process(v) for v in set(values)}
    return list(map(done.__getitem__, values))
