"""Aggregates the ORM lacks, the same on both databases.

Median: PostgreSQL's percentile_cont(0.5) (the mean of the two middle values for an even
count, as statistics.median); on SQLite an aggregate function of ours, registered on every
new connection (register_sqlite_functions, from dcc_site's AppConfig.ready)."""

from __future__ import annotations

import statistics

from django.db.models import Aggregate, FloatField

SQLITE_MEDIAN = "dcc_median"


class Median(Aggregate):
    function = SQLITE_MEDIAN
    name = "Median"
    allow_distinct = False

    def as_postgresql(self, compiler, connection, **extra_context):
        # As the template (not a keyword): Aggregate.as_sql wraps it in FILTER (WHERE …).
        median = self.copy()
        median.template = "percentile_cont(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
        return median.as_sql(compiler, connection, **extra_context)

    def _resolve_output_field(self):
        # A median of whole numbers may fall between two: a float, not the source's integer.
        source = super()._resolve_output_field()
        return FloatField() if source.get_internal_type().endswith("IntegerField") else source


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list = []

    def step(self, value) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return statistics.median(self.values) if self.values else None


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_MEDIAN, 1, _SqliteMedian)
