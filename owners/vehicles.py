"""Vehicles: made when a sale is delivered (a follower of the ledger's deliveries, from either
executor), details filled in later, and handed on when a car changes owner."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from dcc.errors import Conflict, InvalidInput, NotPermitted
from leads.ledger import Entry
from leads.models import Customer, Event, EventKind, Lead
from owners.models import ReturnVisit, Vehicle, VehicleOwnership, VisitStatus
from owners.permissions import works_owners
from owners.plans import schedule_visits

# 17 characters, no I, O or Q (ISO 3779).
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def on_delivery(lead: Lead, entry: Entry) -> None:
    """leads.followers: the delivered customer gets their vehicle, and the return-visit plan
    is scheduled. Runs again harmlessly (a replay, a second follower registration)."""
    vehicle = Vehicle.objects.filter(dealer_id=lead.dealer_id, lead_id=lead.pk).first()
    if vehicle is None:
        ordered = (
            Event.objects.filter(lead_id=lead.pk, kind=EventKind.ORDERED)
            .order_by("-seq")
            .values_list("data", flat=True)
            .first()
        )
        car_model = (ordered or {}).get("car_model") or lead.car_model
        vehicle = Vehicle.objects.create(
            dealer_id=lead.dealer_id,
            owner_id=lead.customer_id,
            lead=lead,
            car_model=car_model or "",
            delivered_at=entry.at,
            consultant_id=lead.owner_id,
        )
        VehicleOwnership.objects.create(
            dealer_id=lead.dealer_id,
            vehicle=vehicle,
            customer_id=lead.customer_id,
            starts_at=entry.at,
        )
    vehicle.lead = lead
    schedule_visits(vehicle)


def check_vin(vin: str) -> str:
    vin = vin.strip().upper().replace(" ", "")
    if vin and not VIN.match(vin):
        raise InvalidInput(
            _("A VIN is 17 letters and digits (no I, O or Q)."), field="vin", code="bad_vin"
        )
    return vin


def update_vehicle(*, vehicle: Vehicle, by: Staff, vin: str = "", plate: str = "") -> Vehicle:
    """Fill in what the delivery did not say: the VIN (unique at the dealer) and the plate."""
    if not works_owners(by, vehicle.dealer_id):
        raise NotPermitted(_("Only owner operations and managers change vehicles."))
    vin = check_vin(vin)
    taken = Vehicle.objects.filter(dealer_id=vehicle.dealer_id, vin=vin).exclude(pk=vehicle.pk)
    if vin and taken.exists():
        raise InvalidInput(_("Another vehicle has this VIN."), field="vin", code="vin_taken")
    vehicle.vin, vehicle.plate = vin, plate.strip().upper()[:16]
    vehicle.save(update_fields=["vin", "plate"])
    return vehicle


def transfer_vehicle(
    *, vehicle: Vehicle, to: Customer, by: Staff, at: datetime | None = None
) -> VehicleOwnership:
    """The car changes hands: the old ownership ends, the new owner's begins; visits still due
    to the old owner are cancelled (they were about their purchase)."""
    if not works_owners(by, vehicle.dealer_id):
        raise NotPermitted(_("Only owner operations and managers change vehicles."))
    if to.dealer_id != vehicle.dealer_id:
        raise InvalidInput(_("The new owner must be a customer of this dealer."), field="to")
    if to.pk == vehicle.owner_id:
        raise InvalidInput(_("The vehicle is already theirs."), field="to")
    at = at or timezone.now()
    with transaction.atomic():
        locked = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
        VehicleOwnership.objects.filter(vehicle=locked, ends_at__isnull=True).update(ends_at=at)
        ownership = VehicleOwnership.objects.create(
            dealer_id=locked.dealer_id, vehicle=locked, customer=to, starts_at=at
        )
        locked.owner = to
        locked.save(update_fields=["owner"])
        ReturnVisit.objects.filter(vehicle=locked, status=VisitStatus.DUE).update(
            status=VisitStatus.CANCELLED, completed_at=at, completed_by=by
        )
    vehicle.owner = to
    return ownership


def return_vehicle(*, vehicle: Vehicle, by: Staff, at: datetime | None = None) -> Vehicle:
    """The car came back to the dealer (退车): the owner's ownership ends, visits still due
    are cancelled, the purchase's points are taken back, and a referral of the sale is void,
    its rewards taken back or kept by the member programme's rule."""
    from owners import members, referrals  # they build on vehicles

    if not works_owners(by, vehicle.dealer_id):
        raise NotPermitted(_("Only owner operations and managers change vehicles."))
    at = at or timezone.now()
    with transaction.atomic():
        locked = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
        if locked.returned_at is not None:
            raise Conflict(_("This vehicle was already returned."), code="already_returned")
        VehicleOwnership.objects.filter(vehicle=locked, ends_at__isnull=True).update(ends_at=at)
        ReturnVisit.objects.filter(vehicle=locked, status=VisitStatus.DUE).update(
            status=VisitStatus.CANCELLED, completed_at=at, completed_by=by
        )
        locked.returned_at = at
        locked.save(update_fields=["returned_at"])
        members.on_return(locked, by=by, at=at)
        referrals.on_return(locked, by=by, at=at)
    vehicle.returned_at = at
    return vehicle
