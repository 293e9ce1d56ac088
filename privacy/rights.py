"""A customer's rights over their personal data (PIPL): access and portability (an export of
everything the dealer holds about them, JSON or XLSX) and erasure (on request, or when the
dealer's retention period ends). Each export and erasure is recorded (DataRequest); an erasure
also appends an ERASED event to each of the customer's leads.

What an erasure keeps: the customer and lead rows with their stages, dates, channels and
amounts, and every ledger event (notes blanked under their seals, leads.ledger), so that every
KPI counts as before and `dcc ledger verify` passes; consent statements without their evidence
(proof of what was asked); the number on the do-not-call list if it is there (the customer asked
not to be called: forgetting the number would call them again).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import record_change
from accounts.models import Dealer, Staff
from accounts.roles import check_configure
from dcc.errors import Conflict, InvalidInput
from dcc.phone import normalise_phone
from leads import actions, ledger
from leads.models import Customer, CustomerPhone, Event, EventKind, Lead
from leads.stages import OPEN_STAGES, Stage
from privacy import holdings
from privacy.models import (
    ConsentRecord,
    DataRequest,
    DoNotCall,
    ErasureCause,
    PrivacySettings,
    RequestKind,
)

FORMATS = ("json", "xlsx")
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 30, 36500


# ---------------------------------------------------------------- what the leads layer holds


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _customer_rows(customer: Customer) -> list[holdings.Row]:
    others = [
        f"{phone} ({label})" if label else phone
        for phone, label in CustomerPhone.objects.filter(customer=customer).values_list(
            "phone", "label"
        )
    ]
    return [
        {
            "name": customer.name,
            "phone": customer.phone,
            "other_phones": ", ".join(others),
            "city": customer.city,
            "first_contact": customer.created_at,
        }
    ]


def _lead_rows(customer: Customer) -> list[holdings.Row]:
    return [
        {
            "lead": lead.pk,
            "channel": lead.channel.name,
            "model_of_interest": lead.car_model,
            "stage": lead.get_stage_display(),
            "grade": lead.grade,
            "created": lead.created_at,
            "appointment": lead.appointment_at,
        }
        for lead in Lead.objects.filter(customer=customer).select_related("channel").order_by("pk")
    ]


def _ledger_rows(customer: Customer) -> list[holdings.Row]:
    events = (
        Event.objects.filter(lead__customer=customer)
        .select_related("actor")
        .order_by("lead_id", "seq")
    )
    return [
        {
            "lead": event.lead_id,
            "seq": event.seq,
            "what": event.get_kind_display(),
            "when": event.occurred_at,
            "by": str(event.actor) if event.actor else "",
            "stage": f"{event.from_stage} → {event.to_stage}" if event.to_stage else "",
            "note": event.note,
        }
        for event in events
    ]


def _consent_rows(customer: Customer) -> list[holdings.Row]:
    return [
        {
            "purpose": record.get_purpose_display(),
            "given": record.given,
            "when": record.at,
            "how": record.get_how_display(),
            "evidence": record.evidence,
        }
        for record in ConsentRecord.objects.filter(customer=customer).order_by("at", "pk")
    ]


def _do_not_call_rows(customer: Customer) -> list[holdings.Row]:
    numbers = _numbers(customer)
    return [
        {"phone": entry.phone, "since": entry.at, "reason": entry.reason}
        for entry in DoNotCall.objects.filter(dealer_id=customer.dealer_id, phone__in=numbers)
    ]


def _numbers(customer: Customer) -> list[str]:
    return [
        customer.phone,
        *CustomerPhone.objects.filter(customer=customer).values_list("phone", flat=True),
    ]


def _core() -> list[holdings.Holding]:
    # Erased by `erase` itself, in its own order (the ledger's notes with the ERASED events).
    def kept(_customer: Customer) -> int:
        return 0

    return [
        holdings.Holding("customer", gettext_lazy("Customer"), _customer_rows, kept),
        holdings.Holding("leads", gettext_lazy("Leads"), _lead_rows, kept),
        holdings.Holding("ledger", gettext_lazy("History"), _ledger_rows, kept),
        holdings.Holding("consents", gettext_lazy("Consent"), _consent_rows, kept),
        holdings.Holding("do_not_call", gettext_lazy("Do-not-call list"), _do_not_call_rows, kept),
    ]


def sections() -> list[holdings.Holding]:
    return _core() + holdings.holdings()


def find_customers(dealer: Dealer, query: str, *, limit: int = 20) -> list[Customer]:
    """The customers a request may be about: by name, or by a full number (theirs or another
    of theirs); digits alone find nobody, a request names the customer. Erased ones are gone."""
    query = query.strip()
    if not query:
        return []
    match = Q(name__icontains=query)
    try:
        number = normalise_phone(query).number
    except InvalidInput:
        number = None
    if number:
        others = CustomerPhone.objects.filter(dealer=dealer, phone=number)
        match |= Q(phone=number) | Q(pk__in=others.values("customer_id"))
    return list(
        Customer.objects.filter(match, dealer=dealer, erased_at__isnull=True).order_by(
            "-created_at"
        )[:limit]
    )


# ---------------------------------------------------------------- access and portability


@dataclass
class Export:
    customer: Customer
    at: datetime
    sections: list[tuple[holdings.Holding, list[holdings.Row]]]

    def as_json(self) -> bytes:
        body = {
            "dealer": self.customer.dealer.name,
            "customer": self.customer.pk,
            "exported_at": _plain(self.at),
            "sections": {
                holding.key: [{k: _plain(v) for k, v in row.items()} for row in rows]
                for holding, rows in self.sections
            },
        }
        return json.dumps(body, ensure_ascii=False, indent=2).encode()

    def as_xlsx(self) -> bytes:
        """One sheet per section (its title), a header row of its columns."""
        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
        bold = book.add_format({"bold": True})
        for holding, rows in self.sections:
            sheet = book.add_worksheet(_sheet_name(str(holding.title)))
            columns = list(rows[0]) if rows else []
            for col, name in enumerate(columns):
                sheet.write_string(0, col, name, bold)
            for r, row in enumerate(rows, start=1):
                for col, name in enumerate(columns):
                    value = _plain(row.get(name))
                    if value is None:
                        continue
                    if isinstance(value, bool | int | float):
                        sheet.write(r, col, value)
                    else:
                        sheet.write_string(r, col, str(value))
        book.close()
        return out.getvalue()

    def counts(self) -> dict[str, int]:
        return {holding.key: len(rows) for holding, rows in self.sections}


def _sheet_name(title: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return cleaned[:31] or "-"


def export(customer: Customer, *, by: Staff, file_format: str) -> Export:
    """Everything held about `customer`, section by section; the export is recorded."""
    if file_format not in FORMATS:
        raise InvalidInput(_("Export as JSON or XLSX."), field="format")
    now = timezone.now()
    result = Export(customer, now, [(h, h.export(customer)) for h in sections()])
    DataRequest.objects.create(
        dealer_id=customer.dealer_id,
        customer=customer,
        kind=RequestKind.EXPORT,
        at=now,
        by=by,
        file_format=file_format,
        counts=result.counts(),
    )
    return result


# ---------------------------------------------------------------- erasure


@dataclass
class ErasurePlan:
    """What an erasure of `customer` would do, for the confirmation page."""

    customer: Customer
    open_orders: int
    open_leads: int
    remains: dict[str, int] = field(default_factory=dict)  # section title → records kept

    @property
    def needs_confirmation(self) -> bool:
        return self.open_leads > 0


def plan_erasure(customer: Customer) -> ErasurePlan:
    leads = Lead.objects.filter(customer=customer)
    remains = {
        str(_("Leads (stages, dates, channels)")): leads.count(),
        str(_("History events (without notes)")): Event.objects.filter(
            lead__customer=customer
        ).count(),
        str(_("Consent statements (without evidence)")): ConsentRecord.objects.filter(
            customer=customer
        ).count(),
        str(_("Do-not-call entries")): DoNotCall.objects.filter(
            dealer_id=customer.dealer_id, phone__in=_numbers(customer)
        ).count(),
    }
    for holding in holdings.holdings():
        if holding.remains is not None:
            remains[str(holding.title)] = holding.remains(customer)
    return ErasurePlan(
        customer=customer,
        open_orders=leads.filter(stage=Stage.ORDERED).count(),
        open_leads=leads.filter(stage__in=OPEN_STAGES).count(),
        remains={title: count for title, count in remains.items() if count},
    )


def erase(
    customer: Customer,
    *,
    by: Staff | None,
    cause: str = ErasureCause.REQUEST,
    reason: str = "",
    confirmed: bool = False,
) -> DataRequest:
    """Erase `customer`'s personal data, all of it or nothing. A customer with an open lead
    (an open order above all) is erased only when `confirmed`: their lead stays open without
    a name or a number."""
    if cause not in ErasureCause.values:
        raise InvalidInput(_("Unknown reason for an erasure."), field="cause")
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if customer.erased_at is not None:
            raise Conflict(_("This customer's personal data has already been erased."))
        plan = plan_erasure(customer)
        if plan.needs_confirmation and not confirmed:
            raise Conflict(
                _("%(open)d open lead(s), %(orders)d with an open order: confirm the erasure.")
                % {"open": plan.open_leads, "orders": plan.open_orders},
                code="confirm_erasure",
            )
        now = timezone.now()
        lead_ids = list(Lead.objects.filter(customer=customer).values_list("pk", flat=True))
        counts = {"notes": ledger.erase_notes(lead_ids)}
        for holding in holdings.holdings():
            counts[holding.key] = holding.erase(customer)
        counts["consents"] = (
            ConsentRecord.objects.filter(customer=customer).exclude(evidence="").update(evidence="")
        )
        counts["other_phones"] = CustomerPhone.objects.filter(customer=customer).delete()[0]
        customer.name = customer.name_initials = customer.city = ""
        customer.phone = f"erased-{customer.pk}"
        customer.erased_at = now
        customer.save(update_fields=["name", "name_initials", "city", "phone", "erased_at"])
        request = DataRequest.objects.create(
            dealer_id=customer.dealer_id,
            customer=customer,
            kind=RequestKind.ERASURE,
            at=now,
            by=by,
            cause=cause,
            reason=reason.strip()[:200],
            counts=counts,
        )
        for lead in Lead.objects.filter(pk__in=lead_ids).order_by("pk"):
            actions.record_fact(
                lead=lead, by=by, at=now, kind=EventKind.ERASED, data={"request": request.pk}
            )
    return request


def set_retention(*, dealer: Dealer, by: Staff, days: int | None) -> PrivacySettings:
    """The dealer's retention period (None: until the customer asks), recorded as a settings
    change."""
    check_configure(by, dealer)
    if days is not None and not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise InvalidInput(
            _("From %(low)d to %(high)d days, or empty.")
            % {"low": MIN_RETENTION_DAYS, "high": MAX_RETENTION_DAYS},
            field="retention_days",
        )
    saved, _created = PrivacySettings.objects.update_or_create(
        dealer=dealer, defaults={"retention_days": days}
    )
    record_change(
        dealer=dealer, by=by, what="retention", subject=dealer.code, detail={"days": days}
    )
    return saved


def retention_days(dealer: Dealer) -> int | None:
    return (
        PrivacySettings.objects.filter(dealer=dealer)
        .values_list("retention_days", flat=True)
        .first()
    )


def past_retention(dealer: Dealer, *, now: datetime | None = None) -> list[Customer]:
    """The dealer's customers whose last contact is older than the retention period and who
    have no open lead (none when the dealer keeps data until asked)."""
    days = retention_days(dealer)
    if not days:
        return []
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return list(
        Customer.objects.filter(dealer=dealer, erased_at__isnull=True)
        .annotate(last_contact=Max("leads__events__occurred_at"))
        .filter(Q(last_contact__lt=cutoff) | Q(last_contact__isnull=True, created_at__lt=cutoff))
        .exclude(leads__stage__in=OPEN_STAGES)
        .order_by("pk")
    )


def erase_past_retention(dealer: Dealer, *, now: datetime | None = None) -> int:
    """The daily run: erase the customers past the retention period. How many."""
    erased = 0
    for customer in past_retention(dealer, now=now):
        erase(customer, by=None, cause=ErasureCause.RETENTION)
        erased += 1
    return erased


def erase_all_past_retention(*, now: datetime | None = None) -> int:
    """`erase_past_retention` for every dealer that set a retention period (dcc tick)."""
    dealers = Dealer.objects.filter(
        pk__in=PrivacySettings.objects.filter(retention_days__isnull=False).values("dealer_id")
    )
    return sum(erase_past_retention(dealer, now=now) for dealer in dealers)
