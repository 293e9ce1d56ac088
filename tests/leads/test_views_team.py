"""The supervisors' workbench as a supervisor uses it: the team board's numbers, the defeat
queue, bulk reassignment and leave with a cover; who gets the pages; one dealer's data never
shows at another; and query counts that stay flat as the team grows."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Absence, Dealer, Staff
from accounts.roles import Role
from leads import actions
from leads.models import CallOutcome, Event, EventKind, Lead
from leads.selectors_team import team_board
from leads.stages import Stage
from tests.conftest import Team
from tests.factories import DealerFactory, make_lead, member
from tests.kit import login

pytestmark = pytest.mark.django_db

PAGES = ("/team/", "/team/defeats/", "/team/reassign/", "/team/absences/")
SUPERVISOR_ROLES = ("gm", "sales_manager", "dcc_supervisor", "showroom_manager")


def htmx(client: Client, path: str, data: dict | None = None):
    return client.post(path, data or {}, headers={"HX-Request": "true"})


def contacted(dealer: Dealer, owner: Staff, **fields) -> Lead:
    lead = make_lead(dealer, owner=owner, **fields)
    return actions.log_call(lead=lead, by=owner, outcome=CallOutcome.REACHED)


def defeat_requested(
    dealer: Dealer, owner: Staff, *, by: Staff | None = None, note: str = ""
) -> Lead:
    lead = contacted(dealer, owner)
    return actions.request_defeat(lead=lead, by=by or owner, reason="price", note=note)


def local_input(moment: datetime) -> str:
    """How a datetime-local input sends `moment`."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def events(lead: Lead, kind: EventKind) -> list[Event]:
    return list(Event.objects.filter(lead=lead, kind=kind).order_by("seq"))


# ---------------------------------------------------------------- who gets the pages


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", [role.value for role in Role])
def test_only_supervisors_and_managers_get_the_team_pages(team: Team, path: str, role: str):
    response = login(team.by_role(role)).get(path)
    assert response.status_code == (200 if role in SUPERVISOR_ROLES else 403)


@pytest.mark.parametrize("path", PAGES)
def test_signed_out_people_are_sent_to_log_in(db, path: str):
    response = Client().get(path)
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.parametrize("role", ["dcc_agent", "consultant", "owner_ops", "auditor"])
def test_the_line_cannot_decide_defeats_move_leads_or_record_leave(team: Team, role: str):
    lead = defeat_requested(team.dealer, team.dcc_agent)
    client = login(team.by_role(role))
    now = timezone.now()
    posts = [
        (f"/team/defeats/{lead.pk}/approve/", {}),
        ("/team/reassign/", {"leads": [lead.pk], "to": team.dcc_agent_2.pk}),
        (
            "/team/absences/",
            {
                "staff": team.dcc_agent.pk,
                "cover": team.dcc_agent_2.pk,
                "starts_at": local_input(now - timedelta(hours=1)),
                "ends_at": local_input(now + timedelta(days=1)),
            },
        ),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == 403, path
    lead.refresh_from_db()
    assert (lead.defeat_pending, lead.stage, lead.owner) == (True, Stage.CONTACTED, team.dcc_agent)
    assert not Absence.objects.exists()


# ---------------------------------------------------------------- the board


def test_board_numbers_for_a_day_on_the_line(team: Team):
    """One agent with a mixed day, one on leave whose work went to the cover, a consultant with
    a follow-up due tonight, and a manager holding a pool lead."""
    dealer = team.dealer
    dealer.opens_at = dealer.closes_at = time(0, 0)  # open around the clock: SLA = 15 minutes
    dealer.save()
    now = timezone.make_aware(datetime(2025, 6, 10, 15, 0))
    agent, away, cover = team.dcc_agent, team.dcc_agent_2, team.consultant_2
    # Yesterday's lead, never called: an overdue first call, but not one of today's breaches.
    make_lead(dealer, owner=agent, at=now - timedelta(days=2))
    # Today, never called: breached, and its first call is overdue.
    make_lead(dealer, owner=agent, at=now - timedelta(hours=3))
    # Today, called on time; follow-up due tonight.
    on_time = make_lead(dealer, owner=agent, at=now - timedelta(hours=1))
    actions.log_call(
        lead=on_time,
        by=agent,
        outcome=CallOutcome.REACHED,
        at=now - timedelta(minutes=55),
        next_follow_up_at=now + timedelta(hours=2),
    )
    # Today, called late: breached; follow-up in two days.
    late = make_lead(dealer, owner=agent, at=now - timedelta(minutes=30))
    actions.log_call(
        lead=late,
        by=agent,
        outcome=CallOutcome.REACHED,
        at=now - timedelta(minutes=10),
        next_follow_up_at=now + timedelta(days=2),
    )
    # The consultant: an old lead with its follow-up due later today.
    old = make_lead(dealer, owner=team.consultant, at=now - timedelta(days=5))
    actions.log_call(
        lead=old,
        by=team.consultant,
        outcome=CallOutcome.REACHED,
        at=now - timedelta(days=5) + timedelta(minutes=5),
        next_follow_up_at=now + timedelta(minutes=30),
    )
    # On leave: their lead and overdue first call went to the cover.
    make_lead(dealer, owner=away, at=now - timedelta(days=1))
    absence = actions.record_absence(
        dealer=dealer,
        staff=away,
        cover=cover,
        starts_at=now - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=1),
        by=team.dcc_supervisor,
        reason="annual leave",
    )
    # A manager holding a pool lead shows up although not on the line.
    make_lead(dealer, owner=team.sales_manager, at=now - timedelta(days=3))
    # Another dealer's day changes nothing here.
    other = DealerFactory()
    make_lead(other, owner=member(other, Role.DCC_AGENT), at=now - timedelta(hours=2))

    board = team_board(dealer=dealer, now=now)

    numbers = {
        row.staff: (row.open_leads, row.due_today, row.overdue, row.breached_today)
        for row in board.rows
    }
    assert numbers == {
        team.dcc_supervisor: (0, 0, 0, 0),
        agent: (4, 1, 2, 2),
        away: (0, 0, 0, 0),
        team.showroom_manager: (0, 0, 0, 0),
        team.consultant: (1, 1, 0, 0),
        cover: (1, 0, 1, 0),
        team.owner_ops: (0, 0, 0, 0),
        team.sales_manager: (1, 0, 1, 0),
    }
    assert [row.staff for row in board.rows][:3] == [
        team.dcc_supervisor,
        *sorted([agent, away], key=str),
    ]
    rows = {row.staff: row for row in board.rows}
    assert rows[away].absence == absence and rows[away].absence.cover == cover
    assert rows[agent].absence is None
    assert not rows[team.sales_manager].on_line and rows[agent].on_line
    assert board.totals == {"open_leads": 7, "due_today": 2, "overdue": 4, "breached_today": 2}


def test_board_page_shows_load_overdue_in_red_and_who_covers(team: Team):
    dealer = team.dealer
    make_lead(dealer, owner=team.dcc_agent, at=timezone.now() - timedelta(days=2))
    make_lead(dealer, owner=team.dcc_agent_2, at=timezone.now() - timedelta(days=2))
    actions.record_absence(
        dealer=dealer,
        staff=team.dcc_agent_2,
        cover=team.dcc_supervisor,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=3),
        by=team.gm,
    )
    response = login(team.gm).get("/team/")
    assert response.status_code == 200
    rows = {row.staff: row for row in response.context["board"].rows}
    assert (rows[team.dcc_agent].open_leads, rows[team.dcc_agent].overdue) == (1, 1)
    assert (rows[team.dcc_supervisor].open_leads, rows[team.dcc_supervisor].overdue) == (1, 1)
    assert rows[team.dcc_agent_2].open_leads == 0
    html = response.content.decode()
    assert 'class="text-end dcc-overdue">1<' in html
    assert f"cover: {team.dcc_supervisor}" in html
    assert f'href="/team/reassign/?owner={team.dcc_agent.pk}"' in html


def _line(size: int) -> Staff:
    """A dealer with a supervisor and size - 1 agents and consultants, each with work, one on
    leave; returns the supervisor."""
    dealer = DealerFactory()
    supervisor = member(dealer, Role.DCC_SUPERVISOR)
    people = [member(dealer, Role.DCC_AGENT if n % 2 else Role.CONSULTANT) for n in range(size - 1)]
    for person in people:
        make_lead(dealer, owner=person, at=timezone.now() - timedelta(days=1))
        contacted(dealer, person)
    actions.record_absence(
        dealer=dealer,
        staff=people[-1],
        cover=supervisor,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=1),
        by=supervisor,
    )
    return supervisor


def test_board_runs_the_same_queries_for_3_and_12_people():
    """Its absolute count is a baseline: tests/leads/query_counts.json."""
    counts = {}
    for size in (3, 12):
        client = login(_line(size))
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/team/")
        assert len(response.context["board"].rows) == size
        counts[size] = len(queries)
    assert counts[3] == counts[12]


# ---------------------------------------------------------------- defeat approval


def test_defeat_queue_lists_requester_reason_time_and_note(team: Team):
    lead = defeat_requested(team.dealer, team.dcc_agent, note="bought a rival SUV")
    response = login(team.dcc_supervisor).get("/team/defeats/")
    [request] = response.context["requests"]
    assert request.lead == lead and request.requested_by == team.dcc_agent
    assert request.requested_at is not None
    html = response.content.decode()
    assert f'id="defeat-{lead.pk}"' in html
    assert "Price" in html and "bought a rival SUV" in html and str(team.dcc_agent) in html
    assert 'data-testid="pending-count">1<' in html


def test_approving_closes_the_lead_as_defeated_and_writes_the_event(team: Team):
    lead = defeat_requested(team.dealer, team.dcc_agent)
    client = login(team.dcc_supervisor)
    response = htmx(client, f"/team/defeats/{lead.pk}/approve/", {"note": "confirmed by phone"})
    assert response.status_code == 200
    assert 'data-outcome="approve"' in response.content.decode()
    lead.refresh_from_db()
    assert (lead.stage, lead.defeat_pending, lead.exit_reason) == (Stage.DEFEATED, False, "price")
    [approved] = events(lead, EventKind.DEFEAT_APPROVED)
    assert (approved.actor, approved.note) == (team.dcc_supervisor, "confirmed by phone")
    assert client.get("/team/defeats/").context["requests"] == []


def pending_badge(html: str) -> str:
    """The out-of-band count of waiting requests in an htmx answer ("" when none wait)."""
    found = re.search(
        r'<template><span id="pending-defeats" hx-swap-oob="true">(.*?)</template>', html, re.S
    )
    assert found, "the answer carries no count for the tab"
    number = re.search(r'data-testid="pending-count">(\d+)<', found.group(1))
    return number.group(1) if number else ""


def test_a_decision_updates_the_tabs_count_of_waiting_requests_at_once(team: Team):
    first = defeat_requested(team.dealer, team.dcc_agent)
    second = defeat_requested(team.dealer, team.dcc_agent_2)
    third = defeat_requested(team.dealer, team.consultant)
    client = login(team.dcc_supervisor)
    page = client.get("/team/defeats/").content.decode()
    assert '<span id="pending-defeats">' in page and 'data-testid="pending-count">3<' in page

    assert pending_badge(htmx(client, f"/team/defeats/{first.pk}/approve/").content.decode()) == "2"
    assert pending_badge(htmx(client, f"/team/defeats/{second.pk}/reject/").content.decode()) == "1"
    # Decided by someone else meanwhile: the refusal brings the count as it stands too.
    actions.approve_defeat(lead=third, by=team.gm)
    refused = htmx(client, f"/team/defeats/{third.pk}/approve/")
    assert refused.status_code == 409
    assert pending_badge(refused.content.decode()) == ""


def test_rejecting_without_javascript_keeps_the_lead_and_returns_to_the_queue(team: Team):
    lead = defeat_requested(team.dealer, team.consultant)
    client = login(team.showroom_manager)
    response = client.post(f"/team/defeats/{lead.pk}/reject/", {"note": "call again"})
    assert response.status_code == 302 and response["Location"] == "/team/defeats/"
    assert any("Defeat rejected" in text for text in texts(response))
    lead.refresh_from_db()
    assert (lead.stage, lead.defeat_pending, lead.owner) == (
        Stage.CONTACTED,
        False,
        team.consultant,
    )
    [rejected] = events(lead, EventKind.DEFEAT_REJECTED)
    assert (rejected.actor, rejected.note) == (team.showroom_manager, "call again")


def test_a_supervisor_cannot_approve_their_own_request(team: Team):
    lead = defeat_requested(team.dealer, team.dcc_agent, by=team.dcc_supervisor)
    client = login(team.dcc_supervisor)
    response = htmx(client, f"/team/defeats/{lead.pk}/approve/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "approved by someone other than who requested it" in html
    assert f'id="defeat-{lead.pk}"' in html and "Approve" in html  # the row stays actionable
    # Without JavaScript the same refusal comes back as a message.
    response = client.post(f"/team/defeats/{lead.pk}/approve/")
    assert response.status_code == 302
    assert any("someone other than who requested it" in text for text in texts(response))
    lead.refresh_from_db()
    assert lead.defeat_pending and not events(lead, EventKind.DEFEAT_APPROVED)
    # Another supervisor may.
    assert htmx(login(team.sales_manager), f"/team/defeats/{lead.pk}/approve/").status_code == 200
    lead.refresh_from_db()
    assert lead.stage == Stage.DEFEATED


def test_a_request_decided_meanwhile_says_so_in_its_row(team: Team):
    lead = defeat_requested(team.dealer, team.dcc_agent)
    actions.reject_defeat(lead=lead, by=team.gm)
    response = htmx(login(team.dcc_supervisor), f"/team/defeats/{lead.pk}/approve/")
    assert response.status_code == 409
    assert "No defeat request is pending" in response.content.decode()
    assert not events(lead, EventKind.DEFEAT_APPROVED)


def test_defeat_queue_runs_the_same_queries_for_1_and_6_requests(team: Team):
    """Its absolute count is a baseline: tests/leads/query_counts.json."""
    client = login(team.sales_manager)
    counts = {}
    for size in (1, 6):
        Lead.objects.filter(defeat_pending=True).update(defeat_pending=False)
        for _ in range(size):
            defeat_requested(team.dealer, team.dcc_agent)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/team/defeats/")
        assert len(response.context["requests"]) == size
        counts[size] = len(queries)
    assert counts[1] == counts[6]


# ---------------------------------------------------------------- reassignment


def test_bulk_reassignment_moves_exactly_the_ticked_leads(team: Team):
    agent, target = team.dcc_agent, team.dcc_agent_2
    first, second, untouched = (contacted(team.dealer, agent) for _ in range(3))
    elsewhere = contacted(team.dealer, team.consultant)
    client = login(team.dcc_supervisor)

    page = client.get(f"/team/reassign/?owner={agent.pk}")
    assert set(page.context["rows"]) == {first, second, untouched}
    page = client.get(f"/team/reassign/?owner={agent.pk}&stage=new")
    assert page.context["rows"] == []

    path = f"/team/reassign/?owner={agent.pk}"
    response = client.post(path, {"leads": [first.pk, second.pk], "to": target.pk, "note": "N"})
    assert response.status_code == 302 and response["Location"] == path
    assert f"2 leads moved to {target}." in texts(response)
    owners = dict(Lead.objects.values_list("pk", "owner"))
    assert owners[first.pk] == owners[second.pk] == target.pk
    assert owners[untouched.pk] == agent.pk and owners[elsewhere.pk] == team.consultant.pk
    for lead in (first, second):
        [moved] = events(lead, EventKind.HANDED_OFF)
        assert (moved.actor, moved.from_owner, moved.to_owner, moved.reason, moved.note) == (
            team.dcc_supervisor,
            agent,
            target,
            "reassign",
            "N",
        )
    assert not events(untouched, EventKind.HANDED_OFF)


def test_a_refused_lead_is_reported_and_the_others_still_move(team: Team):
    target = team.dcc_agent_2
    movable = contacted(team.dealer, team.dcc_agent)
    already_theirs = contacted(team.dealer, target)
    response = login(team.sales_manager).post(
        "/team/reassign/", {"leads": [movable.pk, already_theirs.pk], "to": target.pk}
    )
    assert response.status_code == 302
    messages = texts(response)
    assert f"1 lead moved to {target}." in messages
    assert any(str(already_theirs) in text and "already owns" in text for text in messages)
    movable.refresh_from_db()
    assert movable.owner == target
    assert len(events(movable, EventKind.HANDED_OFF)) == 1
    assert not events(already_theirs, EventKind.HANDED_OFF)


def test_reassignment_needs_ticked_leads_and_a_target(team: Team):
    lead = contacted(team.dealer, team.dcc_agent)
    response = login(team.dcc_supervisor).post("/team/reassign/", {})
    assert response.status_code == 422
    assert "Tick the leads to move." in response.content.decode()
    assert set(response.context["form"].errors) == {"leads", "to"}
    lead.refresh_from_db()
    assert lead.owner == team.dcc_agent


def test_people_on_leave_are_not_offered_as_targets(team: Team):
    actions.record_absence(
        dealer=team.dealer,
        staff=team.dcc_agent_2,
        cover=team.dcc_agent,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=1),
        by=team.gm,
    )
    form = login(team.gm).get("/team/reassign/").context["form"]
    targets = set(form.fields["to"].queryset)
    assert team.dcc_agent in targets and team.dcc_agent_2 not in targets
    assert team.auditor not in targets and team.headquarters not in targets


# ---------------------------------------------------------------- absences


def test_recording_an_absence_moves_open_leads_to_the_cover(team: Team):
    away, cover = team.dcc_agent, team.dcc_agent_2
    called = contacted(team.dealer, away)
    fresh = make_lead(team.dealer, owner=away)
    client = login(team.dcc_supervisor)
    now = timezone.now()
    response = client.post(
        "/team/absences/",
        {
            "staff": away.pk,
            "cover": cover.pk,
            "starts_at": local_input(now - timedelta(minutes=5)),
            "ends_at": local_input(now + timedelta(days=2)),
            "reason": "annual leave",
        },
    )
    assert response.status_code == 302, response.content
    assert any(str(cover) in text for text in texts(response))
    for lead in (called, fresh):
        lead.refresh_from_db()
        assert lead.owner == cover
        [moved] = events(lead, EventKind.HANDED_OFF)
        assert (moved.from_owner, moved.to_owner, moved.reason) == (away, cover, "absence")
    page = client.get("/team/absences/")
    [absence] = page.context["absences"]
    assert (absence.staff, absence.cover, absence.reason) == (away, cover, "annual leave")
    assert "Away now" in page.content.decode()


def test_absence_errors_land_on_the_right_field(team: Team):
    client = login(team.gm)
    now = timezone.now()
    data = {
        "staff": team.consultant.pk,
        "cover": team.consultant.pk,
        "starts_at": local_input(now + timedelta(days=1)),
        "ends_at": local_input(now + timedelta(days=2)),
    }
    response = client.post("/team/absences/", data)
    assert response.status_code == 422
    assert response.context["form"].errors == {"cover": ["Somebody else must cover."]}

    data.update(cover=team.consultant_2.pk, ends_at=local_input(now))
    response = client.post("/team/absences/", data)
    assert response.status_code == 422
    assert response.context["form"].errors == {"ends_at": ["The absence must end after it starts."]}
    assert not Absence.objects.exists()


def test_an_upcoming_absence_is_listed_and_moves_nothing_yet(team: Team):
    lead = contacted(team.dealer, team.consultant)
    now = timezone.now()
    response = login(team.showroom_manager).post(
        "/team/absences/",
        {
            "staff": team.consultant.pk,
            "cover": team.consultant_2.pk,
            "starts_at": local_input(now + timedelta(days=3)),
            "ends_at": local_input(now + timedelta(days=5)),
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == team.consultant
    page = login(team.showroom_manager).get("/team/absences/")
    assert "Upcoming" in page.content.decode()


# ---------------------------------------------------------------- one dealer at a time


def test_another_dealers_people_and_leads_never_appear(team: Team, other_team: Team):
    theirs = defeat_requested(other_team.dealer, other_team.dcc_agent)
    their_open = contacted(other_team.dealer, other_team.dcc_agent)
    ours = defeat_requested(team.dealer, team.dcc_agent)
    client = login(team.gm)

    board = client.get("/team/").context["board"]
    assert {row.staff.pk for row in board.rows}.isdisjoint(
        {other_team.dcc_agent.pk, other_team.dcc_supervisor.pk}
    )
    assert [r.lead for r in client.get("/team/defeats/").context["requests"]] == [ours]
    assert ours in client.get("/team/reassign/").context["rows"]
    page = client.get(f"/team/reassign/?owner={other_team.dcc_agent.pk}")
    assert theirs not in page.context["rows"] and their_open not in page.context["rows"]

    # Acting on their ids: not found, or refused, and nothing changes.
    assert htmx(client, f"/team/defeats/{theirs.pk}/approve/").status_code == 404
    response = client.post("/team/reassign/", {"leads": [their_open.pk], "to": team.dcc_agent_2.pk})
    assert response.status_code == 422
    now = timezone.now()
    response = client.post(
        "/team/absences/",
        {
            "staff": other_team.dcc_agent.pk,
            "cover": team.dcc_agent_2.pk,
            "starts_at": local_input(now),
            "ends_at": local_input(now + timedelta(days=1)),
        },
    )
    assert response.status_code == 422 and "staff" in response.context["form"].errors
    for lead in (theirs, their_open):
        lead.refresh_from_db()
        assert lead.owner == other_team.dcc_agent
    assert theirs.defeat_pending
    assert not Absence.objects.exists()
