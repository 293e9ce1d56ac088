"""Who may be sent a message now: consent for marketing, quiet hours in the dealer's time,
the per-number limits."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from dcc.errors import Conflict
from sms import rules
from sms.models import Kind, Message
from sms.rules import Skip
from sms.sending import send_to_lead
from tests.factories import make_lead
from tests.sms.conftest import agree

pytestmark = pytest.mark.django_db


def local(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


@pytest.mark.parametrize(
    ("clock", "quiet"),
    [
        ("2026-11-18 20:59", False),
        ("2026-11-18 21:00", True),
        ("2026-11-18 23:30", True),
        ("2026-11-19 00:00", True),
        ("2026-11-19 07:59", True),
        ("2026-11-19 08:00", False),
        ("2026-11-19 12:00", False),
    ],
)
def test_quiet_hours_run_from_nine_in_the_evening_to_eight_in_the_morning(
    sms_settings, clock, quiet
):
    assert rules.in_quiet_hours(sms_settings, local(clock)) is quiet


def test_quiet_hours_within_one_day(sms_settings):
    sms_settings.quiet_from, sms_settings.quiet_until = (
        datetime(2000, 1, 1, 12, 0).time(),
        datetime(2000, 1, 1, 14, 0).time(),
    )
    assert not rules.in_quiet_hours(sms_settings, local("2026-11-18 11:59"))
    assert rules.in_quiet_hours(sms_settings, local("2026-11-18 12:00"))
    assert not rules.in_quiet_hours(sms_settings, local("2026-11-18 14:00"))


def test_marketing_waits_for_the_morning_a_persons_notification_does_not(
    team, lead, offer, notice, fixed_clock
):
    agree(lead)
    fixed_clock.move_to(local("2026-11-18 21:00"))
    with pytest.raises(Conflict) as refused:
        send_to_lead(lead=lead, template=offer, by=team.dcc_agent)
    assert refused.value.code == Skip.QUIET_HOURS
    # The appointment confirmed on a late call goes at once.
    assert send_to_lead(lead=lead, template=notice, by=team.dcc_agent).status == "delivered"
    fixed_clock.move_to(local("2026-11-19 08:00"))
    assert send_to_lead(lead=lead, template=offer, by=team.dcc_agent).status == "delivered"


def test_what_the_system_sends_by_itself_waits_for_the_morning_too(sms_settings, lead):
    customers = [lead.customer]
    at = local("2026-11-18 22:00")
    manual = rules.screen(settings=sms_settings, kind=Kind.NOTIFICATION, customers=customers, at=at)
    automatic = rules.screen(
        settings=sms_settings, kind=Kind.NOTIFICATION, customers=customers, at=at, automatic=True
    )
    assert manual[lead.customer_id] is None
    assert automatic[lead.customer_id] == Skip.QUIET_HOURS


def test_marketing_needs_consent_and_a_withdrawal_ends_it(team, lead, offer, fixed_clock):
    with pytest.raises(Conflict) as refused:
        send_to_lead(lead=lead, template=offer, by=team.dcc_agent)
    assert refused.value.code == Skip.NO_CONSENT
    agree(lead)
    fixed_clock.shift(timedelta(seconds=1))
    agree(lead, given=False)
    with pytest.raises(Conflict):
        send_to_lead(lead=lead, template=offer, by=team.dcc_agent)
    assert not Message.objects.exists()


def test_one_message_a_minute_to_a_number(team, lead, notice, fixed_clock):
    send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    fixed_clock.shift(timedelta(seconds=59))
    with pytest.raises(Conflict) as refused:
        send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    assert refused.value.code == Skip.LIMIT
    fixed_clock.shift(timedelta(seconds=2))
    send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    assert Message.objects.filter(customer=lead.customer).count() == 2


def test_one_marketing_message_a_day_to_a_number(team, lead, offer, notice, fixed_clock):
    fixed_clock.move_to(local("2026-11-18 10:00"))
    agree(lead)
    send_to_lead(lead=lead, template=offer, by=team.dcc_agent)
    fixed_clock.move_to(local("2026-11-18 20:00"))
    with pytest.raises(Conflict) as refused:
        send_to_lead(lead=lead, template=offer, by=team.dcc_agent)
    assert refused.value.code == Skip.LIMIT
    send_to_lead(lead=lead, template=notice, by=team.dcc_agent)  # notifications still go
    fixed_clock.move_to(local("2026-11-19 08:00"))  # a new day in the dealer's time
    send_to_lead(lead=lead, template=offer, by=team.dcc_agent)


def test_the_daily_cap_counts_every_kind(team, lead, notice, sms_settings, fixed_clock):
    sms_settings.messages_per_day = 2
    sms_settings.save()
    fixed_clock.move_to(local("2026-11-18 09:00"))
    for _ in range(2):
        send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
        fixed_clock.shift(timedelta(minutes=5))
    with pytest.raises(Conflict):
        send_to_lead(lead=lead, template=notice, by=team.dcc_agent)


def test_a_landline_takes_no_sms(team, notice):
    lead = make_lead(team.dealer, by=team.dcc_agent, owner=team.dcc_agent, phone="01088886666")
    with pytest.raises(Conflict) as refused:
        send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    assert refused.value.code == Skip.NO_MOBILE


def test_a_segment_is_screened_in_a_few_queries(team, sms_settings, django_assert_max_num_queries):
    leads = [make_lead(team.dealer, by=team.dcc_agent) for _ in range(12)]
    for each in leads[:5]:
        agree(each)
    customers = [each.customer for each in leads]
    with django_assert_max_num_queries(2):
        reasons = rules.screen(
            settings=sms_settings, kind=Kind.MARKETING, customers=customers, at=timezone.now()
        )
    assert sum(reason is None for reason in reasons.values()) == 5
    assert list(reasons.values()).count(Skip.NO_CONSENT) == 7


def test_an_erased_customer_is_sent_nothing(team, lead, notice):
    from privacy.rights import erase

    erase(lead.customer, by=team.gm, confirmed=True)
    lead.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        send_to_lead(lead=lead, template=notice, by=team.dcc_agent)
    assert refused.value.code == Skip.NO_MOBILE
