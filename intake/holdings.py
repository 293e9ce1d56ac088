"""What intake holds about a customer (privacy.holdings): the rows of imported files and
platform pushes that brought their leads, as they came."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from intake.models import ImportRow
from leads.models import Customer
from privacy.holdings import Holding, Row


def _rows(customer: Customer):
    return ImportRow.objects.filter(lead__customer=customer)


def _as_text(raw) -> str:
    if isinstance(raw, dict):
        return "; ".join(f"{k}: {v}" for k, v in raw.items())
    if isinstance(raw, list):
        return "; ".join(str(cell) for cell in raw)
    return "" if raw is None else str(raw)


def export(customer: Customer) -> list[Row]:
    return [
        {
            "file": row.job.file_name,
            "row": row.row_number,
            "outcome": row.get_outcome_display(),
            "as_received": _as_text(row.raw),
        }
        for row in _rows(customer).select_related("job").order_by("job_id", "row_number")
    ]


def erase(customer: Customer) -> int:
    """Drop the rows' raw content (the outcome and row number stay for the import's report)."""
    return _rows(customer).filter(raw__isnull=False).update(raw=None, message="")


HOLDING = Holding("imports", _("Imported rows"), export, erase)
