"""Calls as records: pushes merged into one call in any order, matched to the customer and the
lead, the called event in the ledger, callbacks opened by misses and closed by reached calls,
and an unknown caller's details captured into a lead."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from calls import actions
from calls.models import BlockedNumber, Call, Callback
from calls.report import CallReport, Direction, Disposition, HungUpBy, Phase
from dcc.errors import InvalidInput, NotPermitted
from leads.models import CustomerPhone, Event, EventKind, Lead, TaskKind
from leads.stages import Stage
from tests.calls.reports import CALLER, answered, at, missed
from tests.factories import make_lead
from tests.kit import assert_recorded


def test_an_answered_call_from_a_known_customer_lands_on_their_open_lead(team, account):
    lead = make_lead(team.dealer, phone=CALLER)
    call = actions.receive(account, answered("A1"))
    assert (call.customer_id, call.lead_id, call.agent_id) == (
        lead.customer_id,
        lead.pk,
        team.dcc_agent.pk,
    )
    assert call.line.channel.code == "hotline_400"
    assert (call.wait_seconds, call.talk_seconds, call.hung_up_by) == (8, 120, "customer")
    assert_recorded(
        lead,
        EventKind.CALLED,
        by=team.dcc_agent,
        stage=(Stage.NEW, Stage.CONTACTED),
        at=at(0) + timedelta(seconds=8),
    )
    event = Event.objects.filter(lead=lead).last()
    assert event.data["call_id"] == "A1"
    assert event.data["duration_seconds"] == 120
    lead.refresh_from_db()
    # It counts for the first-response SLA and closes the first-call task, as a typed call does.
    assert lead.first_response_at == at(0) + timedelta(seconds=8)
    assert not lead.tasks.filter(kind=TaskKind.FIRST_CALL, closed_at__isnull=True).exists()


def test_a_second_number_of_the_customer_finds_them(team, account):
    lead = make_lead(team.dealer, phone=CALLER)
    CustomerPhone.objects.create(dealer=team.dealer, customer=lead.customer, phone="13922223333")
    call = actions.receive(account, answered(number="+86 139 2222 3333"))
    assert call.number == "13922223333"
    assert call.lead_id == lead.pk


def test_a_customer_without_an_open_lead_gets_the_call_on_their_latest(team, account):
    lead = make_lead(team.dealer, phone=CALLER)
    Lead.objects.filter(pk=lead.pk).update(stage=Stage.DELIVERED, closed_at=at(-600))
    call = actions.receive(account, answered())
    assert call.lead_id == lead.pk
    event = Event.objects.filter(lead=lead).last()
    assert event.kind == EventKind.CALLED
    assert Lead.objects.get(pk=lead.pk).stage == Stage.DELIVERED  # only recorded


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_the_same_call_pushed_in_any_order_and_again_is_one_call(team, account, order):
    lead = make_lead(team.dealer, phone=CALLER)
    ringing = replace(
        answered("S1"),
        phase=Phase.RINGING,
        answered_at=None,
        ended_at=None,
        talk_seconds=None,
        disposition=None,
        hung_up_by=HungUpBy.UNKNOWN,
        raw={"ringing": 1},
    )
    recording = CallReport(
        provider="generic",
        call_id="S1",
        phase=Phase.RECORDING,
        direction=Direction.INBOUND,
        recording_urls=("https://recordings.example.com/S1.mp3",),
        raw={"record": 1},
    )
    pushes = [ringing, answered("S1"), recording]
    for index in order:
        actions.receive(account, pushes[index])
    actions.receive(account, pushes[order[0]])  # pushed again
    call = Call.objects.get()
    assert call.disposition == Disposition.ANSWERED
    assert (call.rang_at, call.talk_seconds) == (at(0), 120)
    assert call.recordings.count() == 1
    assert len(call.pushes) == 3
    assert Event.objects.filter(lead=lead, kind=EventKind.CALLED).count() == 1


def test_a_missed_call_leaves_one_callback_however_often_it_rings(team, account, calendar_day):
    first = actions.receive(account, missed("M1", start=at(0)))
    actions.receive(account, missed("M2", start=at(5)))
    actions.receive(account, missed("M2", start=at(5)))  # a push repeated is not another miss
    callback = Callback.objects.get()
    assert (callback.number, callback.missed_count) == (CALLER, 2)
    assert callback.due_at == at(30)  # the line's 30 business minutes
    assert callback.last_missed_at == at(5)
    assert first.callback_id == callback.pk
    assert not Event.objects.filter(kind=EventKind.CALLED).exists()


def test_a_missed_call_after_closing_falls_due_the_next_business_morning(
    team, account, calendar_day
):
    evening = timezone.localtime(at(0)).replace(hour=20)
    actions.receive(account, missed(start=evening))
    due = timezone.localtime(Callback.objects.get().due_at)
    assert due.date() == evening.date() + timedelta(days=1)
    assert due.hour * 60 + due.minute > 8 * 60


def test_the_first_reached_call_to_the_number_closes_its_callback(team, account):
    actions.receive(account, missed(start=at(0)))
    no_answer = replace(
        answered(direction=Direction.OUTBOUND, start=at(10)),
        disposition=Disposition.NO_ANSWER,
        answered_at=None,
        talk_seconds=0,
    )
    actions.receive(account, no_answer)
    assert Callback.objects.get().closed_at is None  # not reached yet
    back = actions.receive(account, answered(direction=Direction.OUTBOUND, start=at(20)))
    callback = Callback.objects.get()
    assert callback.closed_by_id == back.pk
    assert callback.closed_at == back.answered_at


def test_a_missed_call_later_answered_by_transfer_is_answered_and_owes_no_callback(team, account):
    lead = make_lead(team.dealer, phone=CALLER)
    actions.receive(account, missed("T1"))
    actions.receive(account, answered("T1", seat="8002"))
    call = Call.objects.get()
    assert call.disposition == Disposition.ANSWERED
    assert call.agent_id == team.dcc_agent_2.pk
    assert Callback.objects.get().closed_by_id == call.pk
    assert Event.objects.filter(lead=lead, kind=EventKind.CALLED).count() == 1
    # The other order: the answered push first, the missed one late.
    actions.receive(account, answered("T2", start=at(60)))
    actions.receive(account, missed("T2", start=at(60)))
    assert Call.objects.get(call_id="T2").disposition == Disposition.ANSWERED
    assert not Callback.objects.filter(closed_at__isnull=True).exists()


def test_staff_and_blocked_numbers_never_become_leads_or_callbacks(team, account):
    team.dcc_agent.mobile = "13955556666"
    team.dcc_agent.save()
    BlockedNumber.objects.create(dealer=team.dealer, number="13977778888")
    staff_call = actions.receive(account, missed(number="13955556666"))
    blocked = actions.receive(account, answered(number="13977778888"))
    assert (staff_call.not_a_lead, blocked.not_a_lead) == ("staff", "blocked")
    assert not Callback.objects.exists()
    with pytest.raises(InvalidInput):
        actions.capture(blocked, by=team.dcc_agent, name="推销")
    assert not Lead.objects.exists()


def test_an_unknown_caller_is_captured_into_a_lead_linked_to_the_call(team, account):
    call = actions.receive(account, answered("U1"))
    assert call.customer_id is None and call.lead_id is None
    visit = at(60 * 24 * 2)
    lead = actions.capture(
        call, by=team.dcc_agent, name="李先生", car_model="瑶光", grade="A", appointment_at=visit
    )
    call.refresh_from_db()
    assert (call.lead_id, call.captured, call.in_ledger) == (lead.pk, True, True)
    lead.refresh_from_db()
    assert (lead.owner_id, lead.channel.code, lead.grade) == (team.dcc_agent.pk, "hotline_400", "A")
    assert lead.customer.name == "李先生"
    assert lead.stage == Stage.APPOINTED
    kinds = list(Event.objects.filter(lead=lead).order_by("seq").values_list("kind", flat=True))
    assert kinds == ["created", "graded", "called", "appointment_set"]


def test_only_the_person_who_took_the_call_captures_it_once(team, account):
    call = actions.receive(account, answered())
    with pytest.raises(NotPermitted):
        actions.capture(call, by=team.dcc_agent_2, name="李先生")
    actions.capture(call, by=team.dcc_agent, name="李先生")
    with pytest.raises(InvalidInput):
        actions.capture(call, by=team.dcc_agent, name="李先生")
