"""Writing many rows at once, on SQLite and PostgreSQL alike: ids handed out before the rows
are inserted (so that rows can refer to each other, and event hashes can name their lead),
and plain executemany INSERT/UPDATE statements that skip the ORM's per-object work.

Only bulk writers (file imports) use these, always inside a transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models

Converter = Callable[[Any], Any] | None


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` primary keys that no other row has or will get. On SQLite the transaction
    holds the write lock from its start (transaction_mode IMMEDIATE), so the next ids after
    the highest are ours until it ends; PostgreSQL hands them out from the sequence."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # AUTOINCREMENT keeps its high-water mark in sqlite_sequence: never reuse below it.
        cursor.execute(
            f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
            f"coalesce((SELECT max(id) FROM {connection.ops.quote_name(table)}), 0))",
            [table],
        )
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def _converters(model: type[models.Model], columns: Sequence[str]) -> list[Converter]:
    """How each column's Python value becomes what the database driver takes: what
    Field.get_db_prep_save does for these types, without its per-value overhead."""
    converters: list[Converter] = []
    for name in columns:
        field = model._meta.get_field(name)  # by attribute name too: lead_id
        if isinstance(field, models.JSONField):
            converters.append(functools.partial(connection.ops.adapt_json_value, encoder=None))
        elif isinstance(field, models.DateTimeField) and connection.vendor == "sqlite":
            converters.append(_sqlite_datetime)
        else:
            converters.append(None)
    return converters


def _sqlite_datetime(value: datetime) -> str:
    """As Django stores an aware datetime in SQLite: naive UTC, ISO with a space (the same
    text as str() of the naive value, without building it: "+00:00" is cut off instead)."""
    return value.astimezone(UTC).isoformat(" ")[:-6]


def _prepared(
    rows: Iterable[Sequence[Any]], converters: list[Converter]
) -> Iterable[Sequence[Any]]:
    """The rows with each value the driver cannot take as it is converted; only the columns
    that need it are visited, since most values (ids, text, numbers) pass unchanged. A column
    that repeats one value row after row (the batch's recorded_at, a task's created_at) is
    converted once."""
    width = len(converters)
    converted = [(index, convert) for index, convert in enumerate(converters) if convert]
    last: list[tuple[Any, Any]] = [(None, None)] * len(converted)
    for row in rows:
        if len(row) != width:
            raise ValueError(f"{len(row)} values for {width} columns")
        if not converted:
            yield row
            continue
        values = list(row)
        for at, (index, convert) in enumerate(converted):
            value = values[index]
            if value is None:
                continue
            seen, result = last[at]
            if value is not seen:
                result = convert(value)
                last[at] = (value, result)
            values[index] = result
        yield values


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """INSERT each row (values in `columns` order, by attribute name: `lead_id`, not `lead`);
    on PostgreSQL with COPY, its fastest way in."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(_column(model, name)) for name in columns)
    prepared = _prepared(rows, _converters(model, columns))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(prepared))


def update_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """UPDATE `columns` of each row by primary key: each row is (pk, *values)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    sets = ", ".join(f"{quote(_column(model, name))} = %s" for name in columns)
    rows = [(*values, pk) for pk, *values in rows]
    converters = [*_converters(model, columns), None]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE id = %s", list(_prepared(rows, converters))
        )


def _column(model: type[models.Model], name: str) -> str:
    return model._meta.get_field(name).column
