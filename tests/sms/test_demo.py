"""The demo's text messages: templates, yesterday's messages in the outbox (reminders and an
offer only to those who agreed), a receipt that failed, an R reply that opted its customer
out; a second run changes none of it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from privacy.consent import consented
from privacy.models import Purpose
from sms.models import Kind, Message, Reply, Status, Template

pytestmark = pytest.mark.django_db


def test_the_demo_leaves_messages_in_the_outbox():
    out = io.StringIO()
    call_command("demo", leads=80, stdout=out)
    assert "text messages in the outbox" in out.getvalue()
    assert Template.objects.filter(kind=Kind.MARKETING).exists()
    offers = Message.objects.filter(kind=Kind.MARKETING)
    assert offers.exists() and Message.objects.filter(kind=Kind.NOTIFICATION).exists()
    # Every offer went to a customer who had agreed (the one who replied R has withdrawn since).
    opted_out = set(Reply.objects.filter(opted_out=True).values_list("customer_id", flat=True))
    agreed = consented(offers.values_list("customer_id", flat=True), Purpose.SMS)
    assert set(offers.values_list("customer_id", flat=True)) == agreed | opted_out
    assert opted_out and not opted_out & agreed
    assert Message.objects.filter(status=Status.FAILED).count() >= 1
    before = Message.objects.count(), Reply.objects.count()
    call_command("demo", leads=80, stdout=io.StringIO())
    assert (Message.objects.count(), Reply.objects.count()) == before
