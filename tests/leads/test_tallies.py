"""`dcc ledger tallies`: the leads' milestones and daily tallies checked against the ledger,
and rebuilt from it when they drifted."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone

from leads import actions
from leads.models import CallOutcome, DailyTally, Lead
from tests.factories import make_lead
from tests.intake.test_history import import_both_ways, lead_row, this_morning

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()


def run(*args: str) -> str:
    out, err = StringIO(), StringIO()
    try:
        call_command("ledger", "tallies", *args, stdout=out, stderr=err)
    except CommandError as error:
        return f"{err.getvalue()}FAILED: {error}"
    return out.getvalue()


def test_tallies_follow_the_actions_and_drift_is_found_and_rebuilt(team):
    created = datetime(2026, 3, 2, 23, 30, tzinfo=ZONE)  # late evening: the dealer's day
    lead = make_lead(team.dealer, by=team.gm, owner=team.dcc_agent, at=created)
    lead = actions.log_call(
        lead=lead,
        by=team.dcc_agent,
        outcome=CallOutcome.REACHED,
        at=created + timedelta(hours=1),
    )
    day = DailyTally.objects.get(dealer=team.dealer, day="2026-03-02")
    next_day = DailyTally.objects.get(dealer=team.dealer, day="2026-03-03")
    assert (day.leads, day.valid, day.contacted, day.cohort_contacted) == (1, 1, 0, 1)
    assert (next_day.leads, next_day.contacted) == (0, 1)
    assert run().startswith("OK")

    DailyTally.objects.filter(pk=day.pk).update(leads=5)
    Lead.objects.filter(pk=lead.pk).update(first_contacted_at=None)
    report = run("--dealer", team.dealer.code)
    assert f"lead {lead.pk}: first_contacted_at is None" in report
    assert "2026-03-02: tallied" in report and "'leads': 5" in report
    assert "FAILED: 2 difference(s)" in report
    assert DailyTally.objects.get(pk=day.pk).leads == 5  # checking changed nothing

    assert "Rebuilt from the ledger: 1 leads" in run("--rebuild")
    assert run().startswith("OK")
    assert Lead.objects.get(pk=lead.pk).first_contacted_at == created + timedelta(hours=1)
    assert DailyTally.objects.get(dealer=team.dealer, day="2026-03-02").leads == 1


def test_an_invalidated_lead_moves_from_valid_to_invalid_on_its_creation_day(team):
    created = datetime(2026, 4, 1, 10, tzinfo=ZONE)
    lead = make_lead(team.dealer, by=team.gm, owner=team.dcc_agent, at=created)
    actions.invalidate_lead(
        lead=lead, by=team.dcc_agent, reason="no_intent", at=created + timedelta(days=3)
    )
    day = DailyTally.objects.get(dealer=team.dealer, day="2026-04-01")
    assert (day.leads, day.valid, day.invalid, day.cohort_closed) == (1, 0, 1, 1)
    assert DailyTally.objects.get(dealer=team.dealer, day="2026-04-04").closed == 1
    assert run().startswith("OK")


@pytest.mark.usefixtures("office_hours")
def test_leads_with_an_sla_are_tallied_and_the_migration_counts_those_already_there(team):
    """A lead imported past its deadline with no first response in its history has no SLA:
    it is a lead of its day, not one with an SLA, nor on time even once called."""
    imported = import_both_ways(team, lead_row(created_at=this_morning(9)))
    actions.log_call(lead=imported[0], by=team.gm, outcome=CallOutcome.REACHED)
    answered = make_lead(team.dealer, owner=team.dcc_agent, at=this_morning(9, 30))
    actions.log_call(
        lead=answered, by=team.dcc_agent, outcome=CallOutcome.REACHED, at=this_morning(9, 35)
    )
    make_lead(team.dealer, owner=team.dcc_agent, at=this_morning(9))  # left uncalled
    today = DailyTally.objects.get(dealer=team.dealer, day=timezone.localdate())
    assert (today.leads, today.with_sla, today.on_time) == (4, 2, 1)
    assert run().startswith("OK")

    # Tallies written before the column: the migration fills it from the leads.
    DailyTally.objects.update(with_sla=0)
    assert "FAILED" in run()
    migration = import_module("leads.migrations.0009_daily_tally_with_sla")
    migration.count_leads_with_sla(apps, None)
    assert run().startswith("OK")
