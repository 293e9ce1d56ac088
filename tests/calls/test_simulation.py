"""dcc phone simulate: a day of the demo's phone system through the real push address."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from calls.models import Call, Callback, Recording
from leads import actions
from leads.models import CallOutcome, Event, EventKind
from tests.factories import make_lead


def test_a_simulated_day_lands_as_calls_with_callbacks_and_playable_recordings(
    team, settings, tmp_path
):
    settings.DCC_RECORDING_DIR = tmp_path
    yesterday = timezone.localdate() - timedelta(days=1)
    due = timezone.localtime().replace(hour=11, minute=0) - timedelta(days=1)
    for _ in range(6):  # contacted earlier, with a follow-up due yesterday morning
        lead = make_lead(team.dealer, owner=team.dcc_agent, at=due - timedelta(days=2))
        actions.log_call(
            lead=lead,
            by=team.dcc_agent,
            outcome=CallOutcome.REACHED,
            at=due - timedelta(days=2),
            next_follow_up_at=due,
        )
    fresh = make_lead(team.dealer, owner=team.dcc_agent)
    out = StringIO()
    call_command(
        "phone", "simulate", "--dealer", team.dealer.code, "--day", str(yesterday), stdout=out
    )
    assert "pushes" in out.getvalue()
    calls = Call.objects.filter(dealer=team.dealer)
    assert calls.filter(direction="inbound").count() >= 20
    assert calls.filter(disposition="answered").exists()
    missed = calls.filter(direction="inbound").exclude(disposition="answered")
    assert missed.exists() and Callback.objects.filter(dealer=team.dealer).exists()
    # Every answered call has its recording, stored: the player plays something.
    kept = Recording.objects.filter(call__dealer=team.dealer)
    assert kept.count() == calls.filter(disposition="answered").count()
    assert all((tmp_path / r.path).stat().st_size > 1000 for r in kept)
    # Outbound calls to the agent's leads are in their ledgers.
    assert Event.objects.filter(
        lead__dealer=team.dealer, kind=EventKind.CALLED, data__has_key="call_id"
    ).exists()
    # A lead still new is left for the demo's visitors to call.
    assert not Event.objects.filter(lead=fresh, kind=EventKind.CALLED).exists()
    # Played again, the same day is the same calls.
    before = calls.count()
    call_command(
        "phone", "simulate", "--dealer", team.dealer.code, "--day", str(yesterday), stdout=out
    )
    assert calls.count() == before


def test_an_unknown_dealer_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No dealer has the code"):
        call_command("phone", "simulate", "--dealer", "NOPE")
