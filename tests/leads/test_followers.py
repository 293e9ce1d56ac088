"""leads.followers: what other apps do when the ledger records something runs in the same
write, from either executor, once per event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from leads import actions, followers
from leads.batch import Batch
from leads.models import EventKind, Lead
from leads.stages import Stage
from tests.factories import channel

pytestmark = pytest.mark.django_db
PHONE = "13912340000"


@pytest.fixture
def told(monkeypatch) -> list[tuple[int, str, str]]:
    """A follower of deliveries that notes (lead, its stage as stored, the entry's kind)."""
    monkeypatch.setattr(followers, "_FOLLOWERS", followers.defaultdict(list))
    seen: list[tuple[int, str, str]] = []

    def note(lead: Lead, entry) -> None:
        stored = Lead.objects.get(pk=lead.pk)
        seen.append((lead.pk, stored.stage, entry.kind))

    followers.follow(EventKind.DELIVERED, note)
    followers.follow(EventKind.DELIVERED, note)  # registered twice (ready() run again): once
    return seen


def sold(team, executor, at):
    lead = executor.check_in_visitor(dealer=team.dealer, phone=PHONE, by=team.consultant, at=at)
    lead = executor.record_order(lead=lead, by=team.consultant, at=at + timedelta(minutes=1))
    return executor.record_delivery(lead=lead, by=team.consultant, at=at + timedelta(minutes=2))


def test_a_live_delivery_tells_its_followers_once_after_it_is_stored(team, told):
    lead = sold(team, actions, timezone.now() - timedelta(hours=1))
    assert told == [(lead.pk, Stage.DELIVERED, EventKind.DELIVERED)]


def test_a_follower_that_fails_undoes_the_delivery(team, told):
    def refuse(lead, entry):
        raise RuntimeError("the vehicle could not be stored")

    followers.follow(EventKind.DELIVERED, refuse)
    at = timezone.now() - timedelta(hours=1)
    lead = actions.check_in_visitor(dealer=team.dealer, phone=PHONE, by=team.consultant, at=at)
    lead = actions.record_order(lead=lead, by=team.consultant, at=at + timedelta(minutes=1))
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.record_delivery(lead=lead, by=team.consultant, at=at + timedelta(minutes=2))
    assert Lead.objects.get(pk=lead.pk).stage == Stage.ORDERED
    assert not lead.events.filter(kind=EventKind.DELIVERED).exists()


def test_a_batch_tells_the_followers_of_what_it_wrote(team, told):
    batch = Batch(team.dealer)
    batch.begin(phones=[PHONE], external_ids=[(channel(team.dealer).pk, "")], size=4)
    with batch.row():
        sold(team, batch, timezone.now() - timedelta(hours=1))
    assert told == []  # nothing is stored before the batch is written
    batch.write()
    lead = Lead.objects.get(customer__phone=PHONE)
    assert told == [(lead.pk, Stage.DELIVERED, EventKind.DELIVERED)]
