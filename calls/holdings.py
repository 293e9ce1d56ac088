"""What the call center holds about a customer (privacy.holdings): their calls, with the
number they called from or were called on, and the recordings."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.models import Call, Callback, Recording
from leads.models import Customer, CustomerPhone
from privacy.holdings import Holding, Row


def _calls(customer: Customer) -> QuerySet[Call]:
    numbers = [
        customer.phone,
        *CustomerPhone.objects.filter(customer=customer).values_list("phone", flat=True),
    ]
    return Call.objects.filter(
        Q(customer=customer)
        | Q(lead__customer=customer)
        | Q(dealer_id=customer.dealer_id, number__in=numbers)
    )


def _callbacks(customer: Customer) -> QuerySet[Callback]:
    numbers = [
        customer.phone,
        *CustomerPhone.objects.filter(customer=customer).values_list("phone", flat=True),
    ]
    return Callback.objects.filter(
        Q(customer=customer)
        | Q(lead__customer=customer)
        | Q(dealer_id=customer.dealer_id, number__in=numbers)
    )


def export(customer: Customer) -> list[Row]:
    calls = _calls(customer).annotate(recordings_kept=Count("recordings")).order_by("rang_at", "pk")
    return [
        {
            "call": call.pk,
            "direction": call.get_direction_display(),
            "number": call.number,
            "line": call.line_number,
            "rang_at": call.rang_at,
            "talk_seconds": call.talk_seconds,
            "recordings": call.recordings_kept,
        }
        for call in calls
    ]


def erase(customer: Customer) -> int:
    """Blank the numbers (and the pushes that carry them) and delete the recordings, files and
    addresses; the calls stay, so that call KPIs count as before."""
    call_ids = list(_calls(customer).values_list("pk", flat=True))
    recordings = Recording.objects.filter(call_id__in=call_ids)
    for path in recordings.exclude(path="").values_list("path", flat=True):
        (Path(settings.DCC_RECORDING_DIR) / path).unlink(missing_ok=True)
    recordings.update(purged_at=timezone.now(), path="", url="", size=0)
    # A callback still open would ring someone who asked to be forgotten: closed; the number
    # of each is blanked (one open callback per number: closed first).
    callbacks = _callbacks(customer)
    callbacks.filter(closed_at__isnull=True).update(closed_at=timezone.now())
    touched = callbacks.update(number="")
    return touched + Call.objects.filter(pk__in=call_ids).update(number="", pushes=[])


def remains(customer: Customer) -> int:
    return _calls(customer).count()


HOLDING = Holding("calls", _("Calls"), export, erase, remains)
