"""A delivery gives the customer their vehicle and schedules the return-visit plan, from the
live actions and from a Batch alike, once however often it is told."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from dcc.errors import InvalidInput
from leads.batch import Batch
from leads.models import Lead, Task, TaskKind
from owners import vehicles
from owners.models import Performer, ReturnVisit, Vehicle, VehicleOwnership
from owners.plans import drawn, plan_of
from owners.vehicles import on_delivery, transfer_vehicle, update_vehicle
from tests.factories import channel, fresh_mobile
from tests.owners.conftest import deliver

pytestmark = pytest.mark.django_db
SHANGHAI = "+08:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + SHANGHAI)


def plan(vehicle: Vehicle) -> dict[str, tuple[datetime, int]]:
    return {
        v.name: (v.due_at, v.assignee_id)
        for v in ReturnVisit.objects.filter(vehicle=vehicle).order_by("due_at")
    }


def test_a_delivery_gives_the_customer_the_vehicle_and_schedules_the_plan(team, fixed_clock):
    delivered_at = at("2026-11-18T09:30:00")
    lead = deliver(team, at=delivered_at)
    vehicle = Vehicle.objects.get(lead=lead)
    assert (vehicle.owner_id, vehicle.car_model, vehicle.consultant_id) == (
        lead.customer_id,
        "Model Y",
        team.consultant.pk,
    )
    assert vehicle.delivered_at == delivered_at
    assert VehicleOwnership.objects.get(vehicle=vehicle).customer_id == lead.customer_id
    visits = plan(vehicle)
    assert visits["Thank-you call"] == (at("2026-11-19T09:30:00"), team.consultant.pk)
    assert visits["3-day visit (3DC)"] == (at("2026-11-21T09:30:00"), team.owner_ops.pk)
    assert visits["Sales manager's checklist call"] == (
        at("2026-11-25T09:30:00"),
        team.sales_manager.pk,
    )
    # The 30-day visit is a sample of 30 % of deliveries, drawn the same way every time.
    thirty = plan_of(team.dealer).steps.get(offset_hours=720)
    assert ("30-day visit" in visits) == drawn(vehicle, thirty)
    # The 3-day visit is the return visit leads already owes: same person, same time.
    task = Task.objects.get(lead=lead, kind=TaskKind.RETURN_VISIT)
    the_visit = ReturnVisit.objects.get(vehicle=vehicle, is_the_return_visit=True)
    assert (the_visit.assignee_id, the_visit.due_at) == (task.assignee_id, task.due_at)


@pytest.mark.parametrize(
    "delivered_at, thank_you, three_day",
    [
        # Friday evening after closing: every call falls on the next opening.
        ("2026-11-20T19:30:00", "2026-11-22T09:00:00", "2026-11-24T09:00:00"),
        # The last evening of the month, before midnight.
        ("2026-11-30T23:30:00", "2026-12-02T09:00:00", "2026-12-04T09:00:00"),
    ],
)
def test_visits_fall_in_business_hours(team, fixed_clock, delivered_at, thank_you, three_day):
    fixed_clock.move_to(at(delivered_at) + timedelta(minutes=5))
    vehicle = Vehicle.objects.get(lead=deliver(team, at=at(delivered_at)))
    visits = plan(vehicle)
    assert visits["Thank-you call"][0] == at(thank_you)
    assert visits["3-day visit (3DC)"][0] == at(three_day)


def test_a_batch_delivery_does_the_same(team):
    phone = fresh_mobile()
    batch = Batch(team.dealer)
    batch.begin(phones=[phone], external_ids=[(channel(team.dealer).pk, "")], size=4)
    with batch.row():
        deliver(team, phone=phone, executor=batch, at=timezone.now() - timedelta(hours=1))
    assert not Vehicle.objects.exists()
    batch.write()
    lead = Lead.objects.get(customer__phone=phone)
    vehicle = Vehicle.objects.get(lead=lead)
    assert vehicle.car_model == "Model Y" and vehicle.consultant_id == team.consultant.pk
    assert {"Thank-you call", "3-day visit (3DC)", "Sales manager's checklist call"} <= set(
        plan(vehicle)
    )
    the_visit = ReturnVisit.objects.get(vehicle=vehicle, is_the_return_visit=True)
    task = Task.objects.get(lead=lead, kind=TaskKind.RETURN_VISIT)
    assert (the_visit.assignee_id, the_visit.due_at) == (task.assignee_id, task.due_at)


def test_told_twice_it_makes_one_vehicle_and_one_plan(team, delivered):
    before = plan(Vehicle.objects.get(lead=delivered))
    event = delivered.events.get(kind="delivered")
    from leads.ledger import Entry

    on_delivery(delivered, Entry(kind=event.kind, actor_id=event.actor_id, at=event.occurred_at))
    assert Vehicle.objects.filter(lead=delivered).count() == 1
    assert VehicleOwnership.objects.count() == 1
    assert plan(Vehicle.objects.get(lead=delivered)) == before


def test_a_step_for_a_consultant_goes_to_who_sold(team):
    step = plan_of(team.dealer).steps.get(performer=Performer.CONSULTANT)
    lead = deliver(team)
    assert ReturnVisit.objects.get(lead=lead, step=step).assignee_id == team.consultant.pk


def test_vin_is_checked_and_unique_at_the_dealer(team, vehicle):
    with pytest.raises(InvalidInput) as bad:
        update_vehicle(vehicle=vehicle, by=team.owner_ops, vin="LSVAU2180N212345")
    assert bad.value.field == "vin"
    with pytest.raises(InvalidInput):
        update_vehicle(vehicle=vehicle, by=team.owner_ops, vin="LSVAU2180N21234IO")
    update_vehicle(vehicle=vehicle, by=team.owner_ops, vin="lsvau2180n2123456", plate="沪A12345")
    assert Vehicle.objects.get(pk=vehicle.pk).vin == "LSVAU2180N2123456"
    other = Vehicle.objects.get(lead=deliver(team))
    with pytest.raises(InvalidInput) as taken:
        update_vehicle(vehicle=other, by=team.owner_ops, vin="LSVAU2180N2123456")
    assert taken.value.code == "vin_taken"
    update_vehicle(vehicle=other, by=team.owner_ops, vin="")  # no VIN yet: several may wait


def test_a_vehicle_changes_hands(team, vehicle):
    buyer = deliver(team).customer
    transfer_vehicle(vehicle=vehicle, to=buyer, by=team.owner_ops)
    history = list(VehicleOwnership.objects.filter(vehicle=vehicle))
    assert [o.customer_id for o in history] == [vehicle.lead.customer_id, buyer.pk]
    assert history[0].ends_at is not None and history[1].ends_at is None
    assert Vehicle.objects.get(pk=vehicle.pk).owner_id == buyer.pk
    assert not ReturnVisit.objects.filter(vehicle=vehicle, status="due").exists()


def test_only_owner_operations_and_managers_change_vehicles(team, vehicle):
    from dcc.errors import NotPermitted

    with pytest.raises(NotPermitted):
        vehicles.update_vehicle(vehicle=vehicle, by=team.consultant, vin="")
