"""The consent ledger: the latest statement per customer and purpose holds, nothing said is
unknown, records are never changed; and the dealer's do-not-call list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dcc.errors import InvalidInput
from privacy import consent
from privacy.models import AppendOnly, ConsentRecord, ConsentSource, Purpose
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def customer(team):
    return make_lead(team.dealer).customer


def say(who, given, at, purpose=Purpose.SMS, how=ConsentSource.CALL, by=None):
    return consent.record(customer=who, purpose=purpose, given=given, how=how, at=at, by=by)


def test_a_customer_who_never_said_is_unknown(team):
    assert consent.current(customer(team), Purpose.SMS) is None


def test_the_latest_statement_wins_whatever_order_they_were_recorded_in(team, fixed_clock):
    now = timezone.now()
    ada = customer(team)
    say(ada, True, now - timedelta(days=2))
    say(ada, False, now - timedelta(days=1), by=team.dcc_agent)
    assert consent.current(ada, Purpose.SMS) is False
    # A statement recorded late (an import) but made earlier does not override.
    say(ada, True, now - timedelta(days=3), how=ConsentSource.IMPORT)
    assert consent.current(ada, Purpose.SMS) is False
    say(ada, True, now)
    assert consent.current(ada, Purpose.SMS) is True


def test_purposes_are_separate(team, fixed_clock):
    ada = customer(team)
    say(ada, True, timezone.now(), purpose=Purpose.MARKETING_CALLS)
    assert consent.current(ada, Purpose.MARKETING_CALLS) is True
    assert consent.current(ada, Purpose.SMS) is None


def test_consented_answers_for_many_customers_in_one_query(
    team, fixed_clock, django_assert_num_queries
):
    now = timezone.now()
    yes, withdrew, never, other_purpose = (customer(team) for _ in range(4))
    say(yes, True, now)
    say(withdrew, True, now - timedelta(hours=1))
    say(withdrew, False, now)
    say(other_purpose, True, now, purpose=Purpose.WECHAT)
    with django_assert_num_queries(1):
        got = consent.consented([yes, withdrew, never, other_purpose.pk], Purpose.SMS)
    assert got == {yes.pk}
    assert consent.consented([], Purpose.SMS) == set()


def test_records_are_never_changed_or_deleted(team, fixed_clock):
    record = say(customer(team), True, timezone.now())
    record.given = False
    with pytest.raises(AppendOnly):
        record.save()
    with pytest.raises(AppendOnly):
        record.delete()
    assert ConsentRecord.objects.get(pk=record.pk).given is True


@pytest.mark.parametrize(("field", "value"), [("purpose", "fax"), ("how", "telepathy")])
def test_unknown_purposes_and_ways_are_refused(team, field, value):
    kwargs = {"purpose": Purpose.SMS, "how": ConsentSource.CALL} | {field: value}
    with pytest.raises(InvalidInput) as refused:
        consent.record(customer=customer(team), given=True, **kwargs)
    assert refused.value.field == field
    assert not ConsentRecord.objects.exists()


def test_do_not_call_is_per_dealer_and_by_normalised_number(team, other_team):
    assert not consent.is_do_not_call(team.dealer, "13912345678")
    entry = consent.add_do_not_call(
        dealer=team.dealer, phone="+86 139-1234-5678", reason="asked us", by=team.dcc_agent
    )
    assert (entry.phone, entry.by, entry.reason) == ("13912345678", team.dcc_agent, "asked us")
    assert consent.is_do_not_call(team.dealer, "139 1234 5678")
    assert not consent.is_do_not_call(other_team.dealer, "13912345678")
    # Added twice: one entry, the first kept.
    again = consent.add_do_not_call(dealer=team.dealer, phone="13912345678", reason="again")
    assert again.pk == entry.pk and again.reason == "asked us"
    assert not consent.is_do_not_call(team.dealer, "not a number")
    assert consent.remove_do_not_call(dealer=team.dealer, phone="13912345678")
    assert not consent.is_do_not_call(team.dealer, "13912345678")
