"""The showroom as a consultant uses it: today's appointments and arrivals, customers by
grade, and the reception check-in (an invited customer's lead is handed to the receiving
consultant and arrives, a stranger becomes a walk-in lead of that consultant)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Absence, Staff
from accounts.roles import Role
from dcc.errors import InvalidInput
from kpi import measures
from kpi.measures import Window
from kpi.registry import View
from leads import actions
from leads.models import CallOutcome, Customer, Event, EventKind, Lead, Task
from leads.stages import Stage
from tests.conftest import Team
from tests.factories import make_lead, member
from tests.kit import login

pytestmark = pytest.mark.django_db

MOBILE = "13812345678"


def section(response, testid: str) -> str:
    html = response.content.decode()
    start = html.index(f'data-testid="{testid}"')
    end = html.index("</section>", start)
    return html[start:end]


def lead_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/leads/(\d+)/"', html)]


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def later_today():
    """A moment still ahead today, however late the test runs."""
    now = timezone.now()
    end = timezone.localtime(now).replace(hour=23, minute=59, second=59, microsecond=0)
    return now + (end - now) / 2


def invited(team: Team, *, owner: Staff | None = None, at=None, **fields) -> Lead:
    """A customer the DCC agent reached and invited to the showroom."""
    owner = owner or team.dcc_agent
    lead = make_lead(team.dealer, owner=owner, **fields)
    lead = actions.log_call(lead=lead, by=owner, outcome=CallOutcome.REACHED, grade="A")
    return actions.book_appointment(lead=lead, by=owner, appointment_at=at or later_today())


def check_in(client: Client, mobile: str, **fields):
    return client.post("/showroom/", {"mobile": mobile, **fields})


def ledger(lead: Lead) -> list[str]:
    return list(Event.objects.filter(lead=lead).order_by("seq").values_list("kind", flat=True))


# ---------------------------------------------------------------- who gets the showroom


@pytest.mark.parametrize("role", ["consultant", "showroom_manager"])
def test_showroom_opens_for_showroom_staff(team: Team, role: str):
    response = login(team.by_role(Role(role))).get("/showroom/")
    assert response.status_code == 200
    assert "Check in a visitor" in response.content.decode()


@pytest.mark.parametrize(
    "role", ["dcc_agent", "dcc_supervisor", "auditor", "headquarters", "owner_ops"]
)
def test_showroom_is_refused_to_others(team: Team, role: str):
    client = login(team.by_role(Role(role)))
    assert client.get("/showroom/").status_code == 403
    assert check_in(client, MOBILE).status_code == 403
    assert Lead.objects.count() == 0


# ---------------------------------------------------------------- today


def test_todays_appointments_of_the_consultant(team: Team):
    today = invited(team, owner=team.consultant, name="今天来", phone=MOBILE)
    tomorrow = invited(team, owner=team.consultant, at=timezone.now() + timedelta(days=1, hours=1))
    colleagues = invited(team, owner=team.consultant_2)

    response = login(team.consultant).get("/showroom/")

    appointments = section(response, "appointments")
    assert lead_ids(appointments) == [today.pk]
    assert "今天来" in appointments
    assert timezone.localtime(today.appointment_at).strftime("%H:%M") in appointments
    assert tomorrow.pk not in lead_ids(appointments)
    assert colleagues.pk not in lead_ids(appointments)


def test_the_showroom_manager_sees_every_appointment_today_with_its_owner(team: Team):
    by_agent = invited(team)
    by_consultant = invited(team, owner=team.consultant)

    appointments = section(login(team.showroom_manager).get("/showroom/"), "appointments")

    assert set(lead_ids(appointments)) == {by_agent.pk, by_consultant.pk}
    assert str(team.dcc_agent) in appointments
    assert str(team.consultant) in appointments


def test_no_appointments_and_no_arrivals_say_so(team: Team):
    html = login(team.consultant).get("/showroom/").content.decode()
    assert "No appointments today." in html
    assert "No arrivals yet today." in html
    assert "No open customers after arrival." in html


# ---------------------------------------------------------------- check-in: invited customer


def test_checking_in_an_invited_customer_hands_the_lead_over_and_arrives(team: Team):
    lead = invited(team, name="王小明", phone=MOBILE)
    client = login(team.consultant)

    response = check_in(client, "+86 138-1234-5678")

    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    assert texts(response) == ["王小明 checked in."]
    lead.refresh_from_db()
    assert lead.owner == team.consultant
    assert lead.stage == Stage.ARRIVED
    assert Lead.objects.count() == 1
    handoff = Event.objects.get(lead=lead, kind=EventKind.HANDED_OFF)
    assert (handoff.actor, handoff.from_owner, handoff.to_owner, handoff.reason) == (
        team.consultant,
        team.dcc_agent,
        team.consultant,
        "arrival",
    )
    arrival = Event.objects.get(lead=lead, kind=EventKind.ARRIVED)
    assert arrival.actor == team.consultant
    assert (arrival.from_stage, arrival.to_stage) == (Stage.APPOINTED, Stage.ARRIVED)
    assert arrival.data["with_appointment"] is True
    assert ledger(lead)[-2:] == [EventKind.HANDED_OFF, EventKind.ARRIVED]
    assert arrival.seq > handoff.seq
    # Every open task now sits with the consultant.
    assert set(
        Task.objects.filter(lead=lead, closed_at__isnull=True).values_list("assignee", flat=True)
    ) <= {team.consultant.pk}


def test_checking_in_an_invited_customer_is_an_arrival_not_a_repeat_enquiry(team: Team):
    lead = invited(team, phone=MOBILE)
    now = timezone.now()
    window = Window(
        (team.dealer.pk,), now - timedelta(days=1), now + timedelta(days=1), View.PERIOD
    )

    check_in(login(team.consultant), MOBILE, car_model="汉 EV")

    lead.refresh_from_db()
    assert lead.touch_count == 0
    assert lead.last_touched_at is None
    assert EventKind.TOUCHED not in ledger(lead)
    assert measures.counts("touches", window, None) == {None: 0}
    assert lead.car_model == "汉 EV"  # what the customer came to see is kept on the lead


def test_after_check_in_the_consultant_works_the_lead_and_the_agent_can_still_read_it(
    team: Team,
):
    lead = invited(team, phone=MOBILE)
    client = login(team.consultant)
    check_in(client, MOBILE)

    page = client.get(f"/leads/{lead.pk}/")
    assert page.status_code == 200
    assert 'data-testid="stage">Arrived<' in page.content.decode()
    assert 'data-action="test_drive"' in page.content.decode()
    agent_view = login(team.dcc_agent).get(f"/leads/{lead.pk}/")
    assert agent_view.status_code == 200  # the agent who invited keeps the record
    assert "data-action=" not in agent_view.content.decode()


def test_an_arrival_shows_under_arrived_today_and_by_grade(team: Team):
    lead = invited(team, name="王小明", phone=MOBILE)
    client = login(team.consultant)
    check_in(client, MOBILE)

    response = client.get("/showroom/")

    assert lead_ids(section(response, "arrivals")) == [lead.pk]
    assert lead.pk not in lead_ids(section(response, "appointments"))
    by_grade = section(response, "by-grade")
    assert lead_ids(by_grade) == [lead.pk]
    assert "badge-grade-A" in by_grade
    assert lead.pk not in lead_ids(section(login(team.consultant_2).get("/showroom/"), "arrivals"))
    manager = login(team.showroom_manager).get("/showroom/")
    assert lead_ids(section(manager, "arrivals")) == [lead.pk]


def test_an_invited_customer_arriving_without_an_appointment_is_handed_over_too(team: Team):
    lead = make_lead(team.dealer, owner=team.dcc_agent, phone=MOBILE)

    check_in(login(team.consultant), MOBILE)

    lead.refresh_from_db()
    assert (lead.owner, lead.stage) == (team.consultant, Stage.ARRIVED)
    arrival = Event.objects.get(lead=lead, kind=EventKind.ARRIVED)
    assert arrival.data["with_appointment"] is False
    assert Event.objects.get(lead=lead, kind=EventKind.HANDED_OFF).reason == "arrival"


def test_a_consultants_own_invited_customer_arrives_without_a_handoff(team: Team):
    lead = invited(team, owner=team.consultant, phone=MOBILE)

    check_in(login(team.consultant), MOBILE)

    lead.refresh_from_db()
    assert (lead.owner, lead.stage) == (team.consultant, Stage.ARRIVED)
    assert not Event.objects.filter(lead=lead, kind=EventKind.HANDED_OFF).exists()


# ---------------------------------------------------------------- check-in: stranger


def test_checking_in_a_stranger_creates_a_walk_in_lead_owned_by_the_consultant(team: Team):
    client = login(team.consultant)

    response = check_in(client, MOBILE, name="李雷", car_model="唐 DM-i", note="自己来的")

    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    assert texts(response) == ["李雷 checked in."]
    assert lead.channel.code == "walk_in"
    assert (lead.owner, lead.created_by, lead.stage) == (
        team.consultant,
        team.consultant,
        Stage.ARRIVED,
    )
    assert lead.car_model == "唐 DM-i"
    assert lead.customer.name == "李雷"
    assert ledger(lead) == [EventKind.CREATED, EventKind.ARRIVED]
    arrival = Event.objects.get(lead=lead, kind=EventKind.ARRIVED)
    assert (arrival.actor, arrival.note) == (team.consultant, "自己来的")
    assert lead_ids(section(client.get("/showroom/"), "arrivals")) == [lead.pk]


def test_a_stranger_without_a_name_is_named_by_the_number(team: Team):
    response = check_in(login(team.consultant), MOBILE)
    assert texts(response) == [f"{MOBILE} checked in."]


def test_a_customer_whose_lead_is_closed_returns_as_a_new_walk_in(team: Team):
    old = make_lead(team.dealer, owner=team.dcc_agent, phone=MOBILE)
    actions.invalidate_lead(lead=old, by=team.dcc_agent, reason="no_intent")

    check_in(login(team.consultant), MOBILE)

    new = Lead.objects.exclude(pk=old.pk).get()
    assert new.customer_id == old.customer_id
    assert (new.channel.code, new.owner, new.stage) == ("walk_in", team.consultant, "arrived")
    old.refresh_from_db()
    assert (old.stage, old.owner) == (Stage.INVALID, team.dcc_agent)


def test_another_dealers_customer_is_a_stranger_here(team: Team, other_team: Team):
    theirs = make_lead(other_team.dealer, phone=MOBILE)

    check_in(login(team.consultant), MOBILE)

    mine = Lead.objects.get(dealer=team.dealer)
    assert mine.channel.code == "walk_in"
    theirs.refresh_from_db()
    assert theirs.stage == Stage.NEW and theirs.owner != team.consultant


def test_a_showroom_manager_checking_in_a_stranger_hands_the_walk_in_to_a_consultant(team: Team):
    response = check_in(login(team.showroom_manager), MOBILE, name="李雷")

    lead = Lead.objects.get()
    assert lead.owner in (team.consultant, team.consultant_2)
    assert (lead.created_by, lead.stage) == (team.showroom_manager, Stage.ARRIVED)
    assert texts(response) == [f"李雷 checked in and handed to {lead.owner}."]
    assert response["Location"] == f"/leads/{lead.pk}/"


# ---------------------------------------------------------------- check-in: who receives


def away(staff: Staff, team: Team) -> None:
    now = timezone.now()
    Absence.objects.create(
        dealer=team.dealer,
        staff=staff,
        cover=team.showroom_manager,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        created_by=team.showroom_manager,
    )


def test_reception_hands_invited_customers_to_consultants_in_turn_not_to_itself(team: Team):
    first, second = invited(team, name="甲"), invited(team, name="乙")
    reception = login(team.showroom_manager)

    check_in(reception, first.customer.phone)
    check_in(reception, second.customer.phone)

    first.refresh_from_db()
    second.refresh_from_db()
    assert {first.owner, second.owner} == {team.consultant, team.consultant_2}
    for lead in (first, second):
        assert lead.stage == Stage.ARRIVED
        handoff = Event.objects.get(lead=lead, kind=EventKind.HANDED_OFF)
        assert (handoff.actor, handoff.from_owner, handoff.to_owner, handoff.reason) == (
            team.showroom_manager,
            team.dcc_agent,
            lead.owner,
            "arrival",
        )
        assert Event.objects.get(lead=lead, kind=EventKind.ARRIVED).actor == team.showroom_manager
        assert set(
            Task.objects.filter(lead=lead, closed_at__isnull=True).values_list(
                "assignee", flat=True
            )
        ) <= {lead.owner.pk}


def test_consultants_on_leave_or_gone_do_not_receive_customers(team: Team):
    away(team.consultant, team)
    gone = member(team.dealer, Role.CONSULTANT, is_active=False)
    reception = login(team.showroom_manager)

    leads = [invited(team) for _ in range(3)]
    for lead in leads:
        check_in(reception, lead.customer.phone)

    owners = {Lead.objects.get(pk=lead.pk).owner for lead in leads}
    assert owners == {team.consultant_2}
    assert gone not in owners


def test_the_form_offers_the_consultants_on_duty_and_the_named_one_receives(team: Team):
    away(team.consultant_2, team)
    third = member(team.dealer, Role.CONSULTANT)
    reception = login(team.showroom_manager)

    offered = reception.get("/showroom/").context["form"].fields["consultant"].queryset
    assert set(offered) == {team.consultant, third}

    lead = invited(team, phone=MOBILE)
    response = check_in(reception, MOBILE, consultant=third.pk)

    lead.refresh_from_db()
    assert (lead.owner, lead.stage) == (third, Stage.ARRIVED)
    assert texts(response) == [f"{lead.customer.name or MOBILE} checked in and handed to {third}."]


def test_a_consultant_on_leave_cannot_be_named(team: Team):
    away(team.consultant_2, team)
    lead = invited(team, phone=MOBILE)

    response = check_in(login(team.showroom_manager), MOBILE, consultant=team.consultant_2.pk)

    assert response.status_code == 422
    assert response.context["form"].errors["consultant"]
    lead.refresh_from_db()
    assert (lead.owner, lead.stage) == (team.dcc_agent, Stage.APPOINTED)
    with pytest.raises(InvalidInput) as refused:
        actions.check_in_visitor(
            dealer=team.dealer, phone=MOBILE, by=team.showroom_manager, consultant=team.dcc_agent
        )
    assert refused.value.field == "consultant"
    lead.refresh_from_db()
    assert (lead.owner, lead.stage) == (team.dcc_agent, Stage.APPOINTED)


def test_a_customer_already_with_a_consultant_on_duty_stays_with_them(team: Team):
    lead = invited(team, owner=team.consultant_2, phone=MOBILE)

    check_in(login(team.showroom_manager), MOBILE)

    lead.refresh_from_db()
    assert (lead.owner, lead.stage) == (team.consultant_2, Stage.ARRIVED)
    assert not Event.objects.filter(lead=lead, kind=EventKind.HANDED_OFF).exists()


def test_a_colleagues_customer_returning_is_a_touch_and_no_dead_end(team: Team):
    first = check_in(login(team.consultant_2), MOBILE)
    assert first.status_code == 302
    lead = Lead.objects.get()

    response = login(team.consultant).post("/showroom/", {"mobile": MOBILE}, follow=True)

    lead.refresh_from_db()
    assert lead.owner == team.consultant_2  # not silently taken over
    assert lead.touch_count == 1
    assert response.status_code == 200


# ---------------------------------------------------------------- check-in errors


@pytest.mark.parametrize(
    ("mobile", "message"),
    [
        ("1381234", "A mobile number has 11 digits, but 7 digits were given."),
        ("400 800 1234", None),  # a company service number
        ("", "This field is required."),
    ],
)
def test_a_bad_number_is_explained_on_the_mobile_field(team: Team, mobile, message):
    response = check_in(login(team.consultant), mobile)

    assert response.status_code == 422
    errors = response.context["form"].errors["mobile"]
    assert errors
    if message:
        assert errors == [message]
    assert errors[0] in response.content.decode().replace("&#x27;", "'")
    assert Lead.objects.count() == 0
    assert Customer.objects.count() == 0


# ---------------------------------------------------------------- query count


def showroom_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/showroom/")
    assert response.status_code == 200
    return len(queries)


def test_showroom_query_count_does_not_grow_with_the_day(team: Team):
    client = login(team.showroom_manager)

    def fill(n: int) -> None:
        for i in range(n):
            consultant = (team.consultant, team.consultant_2)[i % 2]
            invited(team, owner=consultant)
            actions.check_in_visitor(
                dealer=team.dealer, phone=f"137{i + n:08d}", by=consultant, name="客"
            )

    fill(3)
    showroom_queries(client)
    small = showroom_queries(client)
    fill(15)
    large = showroom_queries(client)
    assert large == small
