"""Sending: a message from a lead joins its ledger without the number or text; a bulk send to
a segment sends what its preview promised; reminders and notices go by themselves once;
receipts and replies come back; an R reply opts the number out; an erasure blanks the
messages and keeps their count."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from dcc.errors import InvalidInput, NotPermitted
from leads import actions
from leads.models import Event, EventKind
from privacy import consent
from privacy.holdings import holdings
from privacy.models import ConsentRecord, ConsentSource, Purpose
from sms.models import Message, Reply, Status, Trigger
from sms.rules import Skip
from sms.segments import Segment
from sms.sending import (
    preview_bulk,
    receive_reply,
    record_report,
    send_bulk,
    send_due_notices,
    send_to_lead,
)
from tests.factories import make_lead
from tests.kit import assert_recorded
from tests.sms.conftest import agree

pytestmark = pytest.mark.django_db


def local(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def test_a_message_from_the_lead_is_in_its_ledger_without_number_or_text(team, lead, notice):
    message = send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    assert message.text.startswith("【星河4S店】王先生您好")
    assert (message.status, message.trigger, message.phone) == (
        Status.DELIVERED,
        Trigger.MANUAL,
        lead.customer.phone,
    )
    event = assert_recorded(
        lead,
        EventKind.SMS,
        by=team.dcc_agent,
        data={
            "message": message.pk,
            "template": notice.pk,
            "type": "notification",
            "trigger": "manual",
            "status": "delivered",
        },
    )
    stored = json.dumps(event.data, ensure_ascii=False) + event.note
    assert lead.customer.phone not in stored and "王先生" not in stored


def test_who_may_send_from_a_lead(team, lead, notice):
    for person in (team.consultant, team.headquarters, team.auditor, team.dcc_agent_2):
        with pytest.raises(NotPermitted):
            send_to_lead(lead=lead, template=notice, by=person)
    send_to_lead(lead=lead, template=notice, by=team.dcc_supervisor)


def test_another_dealers_template_is_refused(team, other_team, lead, notice):
    notice.dealer = other_team.dealer
    notice.save()
    with pytest.raises(InvalidInput) as refused:
        send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    assert refused.value.field == "template"


def _segment_of_five(team):
    """Five leads of interest in 瑶光: two consented, one consented then withdrew, two never
    said; plus one for another model."""
    leads = [
        make_lead(team.dealer, by=team.dcc_agent, car_model="瑶光", name=f"客户{n}")
        for n in range(5)
    ]
    agree(leads[0])
    agree(leads[1])
    agree(leads[2])
    consent.record(
        customer=leads[2].customer,
        purpose=Purpose.SMS,
        given=False,
        how=ConsentSource.CALL,
        at=timezone.now() + timedelta(seconds=1),
    )
    make_lead(team.dealer, by=team.dcc_agent, car_model="星越")
    return leads


def test_a_bulk_send_sends_what_its_preview_promised(team, offer, fixed_clock):
    fixed_clock.move_to(local("2026-11-18 10:00"))
    leads = _segment_of_five(team)
    fixed_clock.shift(timedelta(seconds=5))
    segment = Segment(car_model="瑶光", stages=("new",))
    preview = preview_bulk(dealer=team.dealer, segment=segment, template=offer)
    assert (preview.found, preview.send, dict(preview.skipped)) == (5, 2, {Skip.NO_CONSENT: 3})
    outcome = send_bulk(
        dealer=team.dealer, segment=segment, template=offer, by=team.marketing_manager
    )
    assert (outcome.sent, outcome.failed) == (2, 0)
    sent_to = set(Message.objects.values_list("customer_id", flat=True))
    assert sent_to == {leads[0].customer_id, leads[1].customer_id}
    assert Event.objects.filter(kind=EventKind.SMS).count() == 2
    # Again the same day: the day's marketing message was had.
    fixed_clock.shift(timedelta(hours=1))
    again = preview_bulk(dealer=team.dealer, segment=segment, template=offer)
    assert (again.send, again.skipped[Skip.LIMIT], again.skipped[Skip.NO_CONSENT]) == (0, 2, 3)
    # At night: quiet hours, before the limits are even asked.
    fixed_clock.move_to(local("2026-11-19 21:30"))
    night = preview_bulk(dealer=team.dealer, segment=segment, template=offer)
    assert (night.send, night.skipped[Skip.QUIET_HOURS]) == (0, 2)


def test_only_marketing_and_supervisors_send_to_a_segment(team, offer):
    with pytest.raises(NotPermitted):
        send_bulk(dealer=team.dealer, segment=Segment(), template=offer, by=team.dcc_agent)


def test_a_segment_of_owners_and_members(team, offer, fixed_clock):
    fixed_clock.move_to(local("2026-11-18 10:00") - timedelta(days=3))
    owner = actions.check_in_visitor(dealer=team.dealer, phone="13955556666", by=team.consultant)
    owner = actions.record_order(lead=owner, by=team.consultant, car_model="瑶光")
    owner = actions.record_delivery(lead=owner, by=team.consultant)
    make_lead(team.dealer, by=team.dcc_agent, car_model="瑶光")
    fixed_clock.move_to(local("2026-11-18 10:00"))
    agree(owner)
    preview = preview_bulk(dealer=team.dealer, segment=Segment(owners_only=True), template=offer)
    assert (preview.found, preview.send) == (1, 1)


def _appointed(team, at: datetime):
    lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.dcc_agent, name="李女士")
    return actions.book_appointment(lead=lead, by=team.dcc_agent, appointment_at=at)


def test_reminders_go_the_day_before_once_and_not_at_night(team, notice, sms_settings, fixed_clock):
    sms_settings.reminder_template = notice
    sms_settings.save()
    fixed_clock.move_to(local("2026-11-18 07:30"))
    tomorrow = _appointed(team, local("2026-11-19 10:00"))
    _appointed(team, local("2026-11-20 10:00"))  # the day after: not yet
    assert send_due_notices() == (0, 0)  # quiet hours: held for the morning
    fixed_clock.move_to(local("2026-11-18 08:05"))
    assert send_due_notices() == (1, 0)
    assert send_due_notices() == (0, 0)  # once
    message = Message.objects.get()
    assert (message.lead_id, message.trigger) == (tomorrow.pk, Trigger.REMINDER)
    assert "2026-11-19 10:00" in message.text
    assert_recorded(tomorrow, EventKind.SMS, by=None)


def test_the_tick_texts_the_reminders(team, notice, sms_settings, fixed_clock):
    sms_settings.reminder_template = notice
    sms_settings.save()
    fixed_clock.move_to(local("2026-11-18 10:00"))
    _appointed(team, local("2026-11-19 15:00"))
    call_command("tick", stdout=(out := __import__("io").StringIO()))
    assert "1 appointment reminder(s)" in out.getvalue()


def test_a_receipt_marks_the_message(team, lead, notice):
    message = send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    assert record_report(
        dealer=team.dealer,
        provider_id=message.provider_id,
        delivered=False,
        error="MK:0001",
        at=timezone.now(),
    )
    message.refresh_from_db()
    assert (message.status, message.error) == (Status.FAILED, "MK:0001")
    assert not record_report(
        dealer=team.dealer, provider_id="nope", delivered=True, at=timezone.now()
    )


@pytest.mark.parametrize("text", ["R", " td ", "退订"])
def test_an_opt_out_reply_withdraws_consent_to_marketing_sms(team, lead, offer, text, fixed_clock):
    agree(lead)
    fixed_clock.shift(timedelta(seconds=1))
    reply = receive_reply(
        dealer=team.dealer, phone=lead.customer.phone, content=text, at=timezone.now()
    )
    assert reply.opted_out
    assert consent.current(lead.customer, Purpose.SMS) is False
    record = ConsentRecord.objects.filter(customer=lead.customer).latest("at")
    assert (record.how, record.evidence, record.by) == (ConsentSource.REPLY, text.strip(), None)
    assert_recorded(
        lead, EventKind.SMS, by=None, data={"reply": reply.pk, "direction": "in", "opted_out": True}
    )


def test_another_reply_changes_nothing(team, lead, fixed_clock):
    agree(lead)
    reply = receive_reply(
        dealer=team.dealer, phone=lead.customer.phone, content="好的，谢谢", at=timezone.now()
    )
    assert not reply.opted_out
    assert consent.current(lead.customer, Purpose.SMS) is True


def test_a_reply_from_an_unknown_number_is_kept(team):
    reply = receive_reply(dealer=team.dealer, phone="13900001111", content="R", at=timezone.now())
    assert (reply.customer, reply.opted_out) == (None, False)


def test_export_and_erasure_of_a_customers_messages(team, lead, notice):
    send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    receive_reply(dealer=team.dealer, phone=lead.customer.phone, content="R", at=timezone.now())
    section = next(h for h in holdings() if h.key == "sms")
    rows = section.export(lead.customer)
    assert [row["direction"] for row in rows] == ["out", "in"]
    assert rows[0]["phone"] == lead.customer.phone and "王先生" in rows[0]["text"]
    assert section.erase(lead.customer) == 2
    assert Message.objects.get().phone == Message.objects.get().text == ""
    assert Reply.objects.get().content == ""
    assert section.remains(lead.customer) == 1
