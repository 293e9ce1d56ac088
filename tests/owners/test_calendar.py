"""Scheduling and the visit list at every instant where calendars go wrong (each weekday, the
ends of a month and a year, the early hours in Shanghai when the UTC date is yesterday)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads import actions
from leads.sla import in_business_hours
from owners.models import ReturnVisit
from tests.kit import login

pytestmark = pytest.mark.django_db


def test_visits_fall_in_business_hours_and_in_the_right_section(team, calendar_day):
    now = timezone.now()
    sold = now - timedelta(days=3, minutes=10)
    lead = actions.check_in_visitor(
        dealer=team.dealer, phone="13912340001", by=team.consultant, at=sold
    )
    lead = actions.record_order(lead=lead, by=team.consultant, at=sold + timedelta(minutes=2))
    lead = actions.record_delivery(lead=lead, by=team.consultant, at=sold + timedelta(minutes=4))
    delivered = sold + timedelta(minutes=4)
    visits = list(ReturnVisit.objects.filter(lead=lead).select_related("step"))
    assert visits
    for visit in visits:
        assert visit.due_at >= delivered + timedelta(hours=visit.step.offset_hours)
        assert in_business_hours(team.dealer, visit.due_at) == visit.due_at

    answer = login(team.gm).get("/visits/")
    assert answer.status_code == 200
    today = timezone.localdate(now)
    for key, _title, rows, _count in answer.context["sections"]:
        for visit in rows:
            day = timezone.localdate(visit.due_at)
            if key == "overdue":
                assert visit.due_at < now
            elif key == "today":
                assert visit.due_at >= now and day == today
            else:
                assert today < day < today + timedelta(days=7)
