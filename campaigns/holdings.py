"""What campaigns keep about a customer, for privacy's export and erasure (registered in
CampaignsConfig.ready): which campaigns brought their leads and repeat enquiries and how, the
address their capture's consent was given from, and a member's fuel-subsidy months with the
photos of their car.

Erasure deletes the sticker photos and blanks the client address in the evidence the capture
wrote with their consent (campaigns.capture._evidence). The attributions, the months and their
amounts stay: the campaign's counts and costs must not change when a customer is erased."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import CampaignLead, CampaignTouch, SubsidyMonth
from leads.models import Customer
from privacy.holdings import Holding, Row
from privacy.models import ConsentRecord, ConsentSource

# The evidence line the capture writes (campaigns.capture._evidence), in every language the
# page may have been served in: English source and its translation are both looked for.
ADDRESS_LINE_PREFIXES = ("Client address: ", "访客地址：")
ERASED_ADDRESS = "-"


def _stamp(value) -> str | None:
    return value.isoformat() if value else None


def _how(row: CampaignLead | CampaignTouch) -> str:
    if row.call_id:
        return _("Call on the campaign's line")
    if row.capture_code_id and row.capture_code.staff_id:
        return _("Capture code of %(staff)s") % {"staff": row.capture_code.staff}
    return _("Capture page")


def _captures(customer: Customer) -> list[CampaignLead | CampaignTouch]:
    here = {"dealer_id": customer.dealer_id, "lead__customer": customer}
    related = ("campaign", "capture_code__staff")
    return [
        *CampaignLead.objects.filter(**here).select_related(*related).order_by("at"),
        *CampaignTouch.objects.filter(**here).select_related(*related).order_by("at"),
    ]


def _months(customer: Customer):
    return (
        SubsidyMonth.objects.filter(
            dealer_id=customer.dealer_id, enrolment__member__customer=customer
        )
        .select_related("enrolment__campaign")
        .order_by("month")
    )


def _capture_consents(customer: Customer):
    return ConsentRecord.objects.filter(
        dealer_id=customer.dealer_id,
        customer=customer,
        how__in=(ConsentSource.CAPTURE_PAGE, ConsentSource.FORM),
    ).filter(
        Q(evidence__contains=ADDRESS_LINE_PREFIXES[0])
        | Q(evidence__contains=ADDRESS_LINE_PREFIXES[1])
    )


def _address_of(evidence: str) -> str:
    for line in evidence.splitlines():
        for prefix in ADDRESS_LINE_PREFIXES:
            if line.startswith(prefix):
                return line[len(prefix) :]
    return ""


def export(customer: Customer) -> list[Row]:
    rows: list[Row] = []
    addresses = {c.at: _address_of(c.evidence) for c in _capture_consents(customer)}
    for row in _captures(customer):
        rows.append(
            {
                "record": _("Lead brought")
                if isinstance(row, CampaignLead)
                else _("Repeat enquiry"),
                "campaign": row.campaign.name,
                "at": _stamp(row.at),
                "how": _how(row),
                "client_address": addresses.get(row.at, ""),
                "month": None,
                "amount": None,
                "checked_at": None,
                "paid_at": None,
                "sticker_photo": None,
            }
        )
    for month in _months(customer):
        rows.append(
            {
                "record": _("Fuel subsidy month"),
                "campaign": month.enrolment.campaign.name,
                "at": _stamp(month.enrolment.enrolled_at),
                "how": "",
                "client_address": "",
                "month": month.month.strftime("%Y-%m"),
                "amount": str(month.amount),
                "checked_at": _stamp(month.checked_at),
                "paid_at": _stamp(month.paid_at),
                "sticker_photo": month.photo.name or None,
            }
        )
    return rows


def erase(customer: Customer) -> int:
    touched = 0
    for month in _months(customer).exclude(photo=""):
        month.photo.storage.delete(month.photo.name)
        touched += SubsidyMonth.objects.filter(pk=month.pk).update(photo="")
    for record in _capture_consents(customer):
        lines = [
            next((p + ERASED_ADDRESS for p in ADDRESS_LINE_PREFIXES if line.startswith(p)), line)
            for line in record.evidence.splitlines()
        ]
        # Consent records are append-only as evidence of what was agreed; the address is the
        # visitor's personal data, not part of the agreement, so erasure blanks it in place
        # (a queryset update: the model's save refuses changes on purpose).
        touched += ConsentRecord.objects.filter(pk=record.pk).update(evidence="\n".join(lines))
    return touched


def remains(customer: Customer) -> int:
    """Attributions and subsidy months kept for the campaign figures (no personal data)."""
    return len(_captures(customer)) + _months(customer).count()


HOLDING = Holding(
    key="campaigns",
    title=gettext_lazy("Campaigns"),
    export=export,
    erase=erase,
    remains=remains,
)
