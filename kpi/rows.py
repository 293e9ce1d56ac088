"""What every measure is counted over: a window (some dealers, a time range, a view), and the
rows a measure takes in it (kpi.measures for the leads' and the calls' measures, kpi.keeping
for owner operations' and the audit group's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

from kpi.registry import View


@dataclass(frozen=True)
class Window:
    dealer_ids: tuple[int, ...]
    start: datetime
    end: datetime  # exclusive
    view: View = View.PERIOD
    as_of: datetime | None = None  # cohort: events up to here (default: now)

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a window ends after it starts")


@dataclass(frozen=True)
class Rows:
    """The rows behind a measure: a queryset, the path from a row to its lead, the field that
    dates it (for grouping by month), and whether it counts leads or rows."""

    queryset: QuerySet
    lead: str  # "" when the rows are leads, else e.g. "lead__"
    dated_by: str
    distinct_leads: bool = True
    # Dimensions the rows group by themselves rather than through their lead (a call's line,
    # its agent): dimension → expression.
    own: Mapping[str, object] = field(default_factory=dict, compare=False, hash=False)
    # Count the distinct values of this field instead (a member active twice counts once;
    # "pk": a row reached through more than one lead, an owner with two cars, counts once).
    distinct: str = ""

    def lead_id(self) -> str:
        return "pk" if not self.lead else f"{self.lead}id"
