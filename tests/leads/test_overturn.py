"""An exit found wrong by an audit: the lead is followed up again by whom it belonged to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dcc.errors import NotPermitted, TransitionNotAllowed
from leads import actions
from leads.models import EventKind, HandoffReason
from leads.stages import Stage
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def defeated(team):
    at = timezone.now() - timedelta(hours=3)
    lead = make_lead(team.dealer, owner=team.consultant, at=at)
    lead = actions.log_call(lead=lead, by=team.consultant, outcome="reached", at=at)
    lead = actions.request_defeat(lead=lead, by=team.consultant, reason="price", at=at)
    return actions.approve_defeat(lead=lead, by=team.sales_manager, at=at)


def test_an_overturned_defeat_returns_to_its_owner_with_the_audit_in_its_history(team):
    lead = actions.overturn_exit(lead=defeated(team), by=team.auditor, audit=42, note="仍想买车")
    assert (lead.stage, lead.owner_id, lead.exit_reason) == (
        Stage.CONTACTED,
        team.consultant.pk,
        "",
    )
    event = lead.events.get(kind=EventKind.OVERTURNED)
    assert (event.from_stage, event.to_stage, event.reason) == ("defeated", "contacted", "price")
    assert event.data == {"audit": 42, "from": "defeated"}
    assert lead.tasks.filter(closed_at=None, assignee=team.consultant).exists()


def test_the_supervisor_may_name_who_takes_it(team):
    lead = actions.overturn_exit(
        lead=defeated(team), by=team.sales_manager, audit=7, to=team.consultant_2
    )
    assert lead.owner_id == team.consultant_2.pk
    handed = lead.events.get(kind=EventKind.HANDED_OFF)
    assert handed.reason == HandoffReason.AUDIT


def test_only_an_exit_is_overturned_and_only_by_the_audit_group_or_a_supervisor(team):
    lead = defeated(team)
    with pytest.raises(NotPermitted):
        actions.overturn_exit(lead=lead, by=team.consultant, audit=1)
    open_lead = make_lead(team.dealer, owner=team.dcc_agent)
    with pytest.raises(TransitionNotAllowed):
        actions.overturn_exit(lead=open_lead, by=team.auditor, audit=1)
