"""Rows read with written-out SQL, converted exactly as the ORM converts them.

On the hottest reads (the guard's key lookup on every API request, the lists
the API answers most) building and compiling a QuerySet, and instantiating a model per row,
cost several times running the query itself. Those reads execute their SQL on
a cursor instead and pass each value through the functions the ORM would apply
(``SQLCompiler.get_converters`` / ``apply_converters``): JSON text becomes
objects, SQLite's naive datetimes become aware ones, ids become UUIDs. So a
value read here is the value the ORM would have given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.db.models.expressions import Col

Converters = list[tuple[Col, list[Callable[..., Any]]]]

# Per connection (each thread has its own), since a backend's converters are bound
# to its connection; looking them up costs as much as converting a row.
_cache: WeakKeyDictionary[BaseDatabaseWrapper, dict[tuple[Any, ...], Converters]] = (
    WeakKeyDictionary()
)


def converters(
    connection: BaseDatabaseWrapper, model: type[Model], names: tuple[str, ...]
) -> Converters:
    """Per field of ``model`` named in ``names`` (attribute names), in that order: its
    column and the functions that turn a value read from ``connection`` into Python."""
    cached = _cache.setdefault(connection, {})
    key = (model, names)
    if key not in cached:
        found = []
        for name in names:
            column = model._meta.get_field(name).get_col(model._meta.db_table)  # type: ignore[union-attr]
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            found.append((column, functions))
        cached[key] = found
    return cached[key]


def column_names(found: Converters) -> list[str]:
    return [str(column.target.column) for column, _ in found]


def convert(row: tuple[Any, ...], found: Converters, connection: BaseDatabaseWrapper) -> list[Any]:
    """``row`` with the converters applied to its first ``len(found)`` values; any
    values after those (an aggregate, a joined column) are left as read."""
    values = list(row)
    for index, (column, functions) in enumerate(found):
        for function in functions:
            values[index] = function(values[index], column, connection)
    return values
