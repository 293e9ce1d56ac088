"""intake.history.replay: a row's lifecycle becomes backdated actions in the order lived, by
the named owner where the stage machine lets them; rows that do not add up are rejected with
the reason and write nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import formats, timezone

from accounts.models import Membership
from accounts.roles import Role
from dcc.errors import NotPermitted
from dcc.phone import normalise_phone
from intake.history import RowRejected, replay
from intake.rows import LeadRow
from kpi.daily import build_daily_report
from kpi.dashboard import lapses
from kpi.measures import Window
from kpi.selectors import day_window, kpi_report
from kpi.supervision import dcc_board
from leads import actions, ledger
from leads.batch import Batch
from leads.decisions import IntakeOutcome
from leads.models import Customer, Event, EventKind, Lead, Task
from leads.selectors_team import team_board
from leads.sla import breached
from leads.stages import Stage
from tests.factories import channel, fresh_mobile, make_lead, member
from tests.kit import login

pytestmark = pytest.mark.django_db

BASE = timezone.now().replace(microsecond=0) - timedelta(days=60)


def day(n: float) -> datetime:
    """`n` days after the history's first day."""
    return BASE + timedelta(days=n)


def lead_row(**fields) -> LeadRow:
    fields.setdefault("phone", normalise_phone(fields.pop("mobile", None) or fresh_mobile()))
    return LeadRow(row_number=fields.pop("row_number", 2), **fields)


def run(team, row: LeadRow, *, importer=None, via: str = "autohome") -> actions.Intake:
    return replay(
        row=row,
        dealer=team.dealer,
        channel=channel(team.dealer, via),
        importer=importer or team.gm,
    )


def history(lead: Lead) -> list[tuple[str, int | None, datetime]]:
    return [
        (event.kind, event.actor_id, event.occurred_at) for event in lead.events.order_by("seq")
    ]


def counts() -> tuple[int, int, int, int, int]:
    return (
        Customer.objects.count(),
        Lead.objects.count(),
        Event.objects.count(),
        Task.objects.count(),
        Membership.objects.exclude(last_assigned_at=None).count(),
    )


# ---------------------------------------------------------------- replayed


def test_a_delivered_lead_replays_every_step_as_its_owner_backdated(team):
    row = lead_row(
        name="王小明",
        car_model="S7",
        owner=team.consultant.username,
        grade="H",
        created_at=day(0),
        contacted_at=day(0.1),
        appointed_at=day(1),
        arrived_at=day(3),
        ordered_at=day(3.2),
        delivered_at=day(20),
        note="老客户介绍",
    )
    intake = run(team, row)
    assert intake.outcome is IntakeOutcome.CREATED
    lead = Lead.objects.get(pk=intake.lead.pk)
    c, gm = team.consultant.pk, team.gm.pk
    assert history(lead) == [
        (EventKind.CREATED, gm, day(0)),
        (EventKind.CALLED, c, day(0.1)),
        (EventKind.GRADED, c, day(0.1)),
        (EventKind.APPOINTMENT_SET, c, day(1)),
        (EventKind.ARRIVED, c, day(3)),
        (EventKind.ORDERED, c, day(3.2)),
        (EventKind.DELIVERED, c, day(20)),
    ]
    assert (lead.stage, lead.owner_id, lead.grade) == (Stage.DELIVERED, c, "H")
    assert lead.created_at == day(0)
    assert lead.first_response_at == day(0.1)
    assert lead.closed_at == day(20)
    # The visit was booked for when the customer came.
    assert lead.events.get(kind=EventKind.APPOINTMENT_SET).data["appointment_at"] == (
        day(3).isoformat()
    )
    assert lead.events.get(kind=EventKind.CREATED).note == "老客户介绍"
    assert lead.customer.name == "王小明"
    assert lead.customer.created_at == day(0)
    assert all(e.recorded_at > day(59) for e in lead.events.all())
    assert ledger.verify().ok


def test_steps_the_owner_may_not_do_are_recorded_by_the_importer(team):
    """A DCC agent books the visit; the showroom's steps need a manager."""
    row = lead_row(
        owner=team.dcc_agent.username,
        created_at=day(0),
        contacted_at=day(0.5),
        appointed_at=day(1),
        arrived_at=day(2),
        ordered_at=day(2),
    )
    lead = run(team, row, importer=team.sales_manager).lead
    agent, manager = team.dcc_agent.pk, team.sales_manager.pk
    assert history(lead) == [
        (EventKind.CREATED, manager, day(0)),
        (EventKind.CALLED, agent, day(0.5)),
        (EventKind.APPOINTMENT_SET, agent, day(1)),
        (EventKind.ARRIVED, manager, day(2)),
        (EventKind.ORDERED, manager, day(2)),
    ]
    lead.refresh_from_db()
    assert (lead.stage, lead.owner_id) == (Stage.ORDERED, agent)
    assert ledger.verify().ok


def test_a_defeat_is_requested_by_the_owner_and_approved_by_the_importer(team):
    row = lead_row(
        owner=team.dcc_agent.username,
        grade="B",
        created_at=day(0),
        contacted_at=day(1),
        defeated_at=day(9),
        defeat_reason="price",
    )
    lead = run(team, row).lead
    lead.refresh_from_db()
    agent, gm = team.dcc_agent.pk, team.gm.pk
    assert history(lead) == [
        (EventKind.CREATED, gm, day(0)),
        (EventKind.CALLED, agent, day(1)),
        (EventKind.GRADED, agent, day(1)),
        (EventKind.DEFEAT_REQUESTED, agent, day(9)),
        (EventKind.DEFEAT_APPROVED, gm, day(9)),
    ]
    assert (lead.stage, lead.exit_reason, lead.defeat_pending) == (Stage.DEFEATED, "price", False)
    assert not Task.objects.filter(lead=lead, closed_at=None).exists()
    assert ledger.verify().ok


def test_an_invalid_lead_is_closed_when_it_was_last_worked(team):
    row = lead_row(
        owner=team.dcc_agent.username,
        created_at=day(0),
        contacted_at=day(2),
        invalid_reason="No buying intent",  # the label is as good as the code
    )
    lead = run(team, row).lead
    lead.refresh_from_db()
    assert [kind for kind, _actor, _at in history(lead)] == [
        EventKind.CREATED,
        EventKind.CALLED,
        EventKind.INVALIDATED,
    ]
    invalidated = lead.events.get(kind=EventKind.INVALIDATED)
    assert (invalidated.actor_id, invalidated.occurred_at) == (team.dcc_agent.pk, day(2))
    assert (lead.stage, lead.exit_reason) == (Stage.INVALID, "no_intent")


def test_the_owner_may_be_named_by_mobile(team):
    agent = member(team.dealer, Role.DCC_AGENT, mobile="138 0013 8000")
    lead = run(team, lead_row(owner="+86 13800138000", created_at=day(0))).lead
    assert lead.owner_id == agent.pk
    assert lead.events.get().to_owner_id == agent.pk


def test_without_an_owner_the_rules_assign_and_the_importer_records_the_steps(team):
    lead = run(team, lead_row(created_at=day(0), contacted_at=day(1), grade="A")).lead
    lead.refresh_from_db()
    assert lead.owner_id in (team.dcc_agent.pk, team.dcc_agent_2.pk)
    assert [actor for _kind, actor, _at in history(lead)] == [team.gm.pk] * 3
    assert lead.events.get(kind=EventKind.CREATED).data["by_rules"] is True


def test_a_grade_without_a_call_is_the_grade_the_lead_was_entered_with(team):
    lead = run(team, lead_row(owner=team.dcc_agent.username, created_at=day(0), grade="C")).lead
    lead.refresh_from_db()
    assert history(lead) == [
        (EventKind.CREATED, team.gm.pk, day(0)),
        (EventKind.GRADED, team.dcc_agent.pk, day(0)),
    ]
    assert (lead.stage, lead.grade) == (Stage.NEW, "C")


def test_a_plain_row_for_a_customer_with_an_open_lead_is_a_touch(team):
    mobile = fresh_mobile()
    open_lead = make_lead(team.dealer, phone=mobile, at=day(0))
    intake = run(
        team,
        lead_row(mobile=mobile, created_at=day(5), owner=team.consultant.username),
        via="douyin",
    )
    assert intake.outcome is IntakeOutcome.TOUCHED
    assert intake.lead.pk == open_lead.pk
    touch = open_lead.events.get(kind=EventKind.TOUCHED)
    assert (touch.occurred_at, touch.actor_id, touch.data["channel"]) == (
        day(5),
        team.gm.pk,
        "douyin",
    )
    open_lead.refresh_from_db()
    assert open_lead.owner_id != team.consultant.pk  # the open lead keeps its owner


def test_a_customer_whose_lead_is_closed_gets_a_new_lead_with_history(team):
    mobile = fresh_mobile()
    old = make_lead(team.dealer, phone=mobile, at=day(0))
    actions.invalidate_lead(lead=old, by=old.owner, reason="no_intent", at=day(1))
    row = lead_row(mobile=mobile, created_at=day(10), contacted_at=day(11))
    intake = run(team, row)
    assert intake.outcome is IntakeOutcome.CREATED
    assert intake.lead.pk != old.pk
    assert intake.lead.customer_id == old.customer_id


# ---------------------------------------------------------------- rejected


def rejects(**fields) -> dict:
    return {"created_at": day(0), **fields}


INCONSISTENT = {
    "ordered before created": (
        rejects(contacted_at=day(1), arrived_at=day(2), ordered_at=day(-1)),
        "ordered_at",
        "is before Created at",
    ),
    "arrived before contacted": (
        rejects(contacted_at=day(3), arrived_at=day(2)),
        "arrived_at",
        "is before Contacted at",
    ),
    "delivered without ordered": (
        rejects(arrived_at=day(1), delivered_at=day(2)),
        "ordered_at",
        "Delivered, but “Ordered at” is empty",
    ),
    "ordered without arrived": (
        rejects(contacted_at=day(1), ordered_at=day(2)),
        "arrived_at",
        "Ordered, but “Arrived at” is empty",
    ),
    "defeated and delivered": (
        rejects(
            arrived_at=day(1),
            ordered_at=day(2),
            delivered_at=day(3),
            defeated_at=day(4),
            defeat_reason="price",
        ),
        "defeated_at",
        "Both delivered and defeated",
    ),
    "defeated before the last step": (
        rejects(contacted_at=day(5), defeated_at=day(4), defeat_reason="price"),
        "defeated_at",
        "is before Contacted at",
    ),
    "invalid after an appointment": (
        rejects(contacted_at=day(1), appointed_at=day(2), invalid_reason="no_intent"),
        "invalid_reason",
        "Marked invalid, but also “Appointment made at”",
    ),
    "invalid and defeated": (
        rejects(
            contacted_at=day(1),
            defeated_at=day(2),
            defeat_reason="price",
            invalid_reason="no_intent",
        ),
        "invalid_reason",
        "Marked invalid, but also “Defeated at”",
    ),
    "defeat without reason": (
        rejects(contacted_at=day(1), defeated_at=day(2)),
        "defeat_reason",
        "A defeat needs its reason",
    ),
    "unknown defeat reason": (
        rejects(contacted_at=day(1), defeated_at=day(2), defeat_reason="weather"),
        "defeat_reason",
        "“weather” is not one of this dealer's defeat reasons",
    ),
    "defeat reason without a defeat": (
        rejects(contacted_at=day(1), defeat_reason="price"),
        "defeated_at",
        "A defeat reason, but “Defeated at” is empty",
    ),
    "defeated before any contact": (
        rejects(defeated_at=day(2), defeat_reason="price"),
        "contacted_at",
        "the customer was never contacted",
    ),
    "unknown invalid reason": (
        rejects(invalid_reason="bored"),
        "invalid_reason",
        "“bored” is not one of this dealer's invalid reasons",
    ),
    "created in the future": (
        {"created_at": timezone.now() + timedelta(hours=2)},
        "created_at",
        "is in the future",
    ),
    "delivered in the future": (
        rejects(
            arrived_at=day(1), ordered_at=day(2), delivered_at=timezone.now() + timedelta(days=1)
        ),
        "delivered_at",
        "is in the future",
    ),
    "history without created_at": (
        {"contacted_at": day(1)},
        "created_at",
        "needs “Created at”",
    ),
    "unknown owner": (
        rejects(owner="nobody-here"),
        "owner",
        "“nobody-here”",
    ),
    "not a grade": (
        rejects(grade="X"),
        "grade",
        "not a grade",
    ),
}


@pytest.mark.parametrize(
    ("fields", "field", "message"), INCONSISTENT.values(), ids=INCONSISTENT.keys()
)
def test_a_row_that_does_not_add_up_is_rejected_and_writes_nothing(team, fields, field, message):
    fields.setdefault("owner", team.dcc_agent.username)
    before = counts()
    with pytest.raises(RowRejected) as caught:
        run(team, lead_row(**fields))
    assert caught.value.field == field
    assert message in caught.value.message
    assert counts() == before


def test_history_for_a_customer_with_an_open_lead_is_rejected_not_touched(team):
    mobile = fresh_mobile()
    open_lead = make_lead(team.dealer, phone=mobile, at=day(0))
    before = counts()
    with pytest.raises(RowRejected) as caught:
        run(team, lead_row(mobile=mobile, created_at=day(3), contacted_at=day(4)))
    assert caught.value.field == "mobile"
    assert "History for a customer with an open lead" in caught.value.message
    assert counts() == before
    open_lead.refresh_from_db()
    assert (open_lead.touch_count, open_lead.last_event_seq) == (0, 1)


@pytest.mark.parametrize("owner", [None, "gm"], ids=["no owner", "the importer"])
def test_a_defeat_needs_an_owner_other_than_the_importer(team, owner):
    row = lead_row(
        owner=getattr(team, owner).username if owner else "",
        created_at=day(0),
        contacted_at=day(1),
        defeated_at=day(2),
        defeat_reason="price",
    )
    before = counts()
    with pytest.raises(RowRejected) as caught:
        run(team, row)
    assert caught.value.field == "owner"
    assert "approved by you" in caught.value.message
    assert counts() == before


def test_a_step_refused_half_way_leaves_nothing_behind(team):
    """A DCC supervisor may book and check in, but only the showroom's managers record orders
    of others' leads: the lead, its call and arrival are undone with the refused order."""
    row = lead_row(
        owner=team.dcc_agent.username,
        created_at=day(0),
        contacted_at=day(1),
        arrived_at=day(2),
        ordered_at=day(3),
    )
    before = counts()
    with pytest.raises(RowRejected) as caught:
        run(team, row, importer=team.dcc_supervisor)
    assert caught.value.field == "ordered_at"
    assert "Cannot record “Ordered at”: You may not “Record order”" in caught.value.message
    assert counts() == before
    assert ledger.verify().ok


@pytest.mark.parametrize("role", ["dcc_agent", "consultant", "marketing_manager", "auditor"])
def test_only_supervisors_and_managers_import(team, role):
    before = counts()
    with pytest.raises(NotPermitted):
        run(team, lead_row(created_at=day(0)), importer=getattr(team, role))
    assert counts() == before


def test_history_leaves_no_overdue_flood_only_one_follow_up_for_an_open_lead(team):
    """Tasks that fell due months ago are nobody's work today: an imported open lead gets
    one follow-up due now; an old delivery owes no return visit any more."""
    still_open = run(
        team,
        lead_row(owner=team.dcc_agent.username, grade="B", created_at=day(0), contacted_at=day(1)),
    ).lead
    tasks = Task.objects.filter(lead=still_open, closed_at=None)
    assert [(t.kind, t.assignee_id) for t in tasks] == [("follow_up", team.dcc_agent.pk)]
    assert tasks.get().due_at >= timezone.now() - timedelta(minutes=1)
    delivered = run(
        team,
        lead_row(
            owner=team.consultant.username,
            created_at=day(0),
            contacted_at=day(1),
            appointed_at=day(2),
            arrived_at=day(3),
            ordered_at=day(4),
            delivered_at=day(20),
        ),
    ).lead
    assert not Task.objects.filter(lead=delivered, closed_at=None).exists()
    assert ledger.verify().ok


# ---------------------------------------------------------------- first-response SLA


def this_morning(hour: int, minute: int = 0) -> datetime:
    """Today at `hour` in Shanghai: the clock stands at 10:00, autohome gives 15 minutes."""
    return timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)


def import_both_ways(team, row: LeadRow) -> list[Lead]:
    """The row imported one by one through the actions and in a batch through the batch
    (with another number): both leads."""
    made = [run(team, row).lead]
    again = LeadRow(**{**row.__dict__, "phone": normalise_phone(fresh_mobile())})
    batch = Batch(team.dealer)
    batch.begin(phones=[again.phone.number], external_ids=[], size=1)
    replay(
        row=again,
        dealer=team.dealer,
        channel=channel(team.dealer, "autohome"),
        importer=team.gm,
        batch=batch,
    )
    batch.write()
    made.append(Lead.objects.get(customer__phone=again.phone.number))
    return made


def late_for(team, lead: Lead) -> dict[str, int]:
    """Each place that says who is behind on first responses, for the lead's owner."""
    now = timezone.now()
    start = this_morning(0)
    window = Window((team.dealer.pk,), start, start + timedelta(days=1))
    board = {row.staff.pk: row.breached_today for row in team_board(dealer=team.dealer).rows}
    behind = {row.person: row.late for row in lapses(dealer=team.dealer, window=window)}
    report = build_daily_report(dealer=team.dealer, day=start.date(), now=now)
    return {
        "breached": Lead.objects.filter(pk=lead.pk).filter(breached(now)).count(),
        "board": board.get(lead.owner_id, 0),
        "lapses": behind.get(str(lead.owner), 0),
        "daily": int(lead.pk in report["sla_breaches"]),
    }


NOT_LATE = {"breached": 0, "board": 0, "lapses": 0, "daily": 0}


@pytest.mark.usefixtures("office_hours")
def test_an_imported_lead_past_its_deadline_without_a_first_response_is_nobodys_breach(team):
    for lead in import_both_ways(team, lead_row(created_at=this_morning(9), grade="B")):
        assert lead.owner in (team.dcc_agent, team.dcc_agent_2)  # received today, by the rules
        assert late_for(team, lead) == NOT_LATE
        # Nor when its new owner calls the customer now.
        called = actions.log_call(lead=lead, by=lead.owner, outcome="reached")
        assert late_for(team, called) == NOT_LATE
        page = login(lead.owner).get(f"/leads/{lead.pk}/").content.decode()
        assert 'data-testid="no-sla"' in page


@pytest.mark.usefixtures("office_hours")
def test_a_plain_imported_lead_past_its_deadline_is_nobodys_breach(team):
    for lead in import_both_ways(team, lead_row(created_at=this_morning(9))):
        assert late_for(team, lead) == NOT_LATE
        assert not Task.objects.filter(lead=lead, closed_at=None, due_at__lt=this_morning(9, 30))


@pytest.mark.usefixtures("office_hours")
def test_the_queue_shows_an_imported_lead_past_its_deadline_without_a_countdown(team):
    """Its owner still has to call it, but no clock runs red for a deadline nobody could meet."""
    for lead in import_both_ways(team, lead_row(created_at=this_morning(9))):
        page = login(lead.owner).get("/queue/").content.decode()
        new_leads = page.split('data-testid="new-leads"', 1)[1].split("</ul>", 1)[0]
        item = next(part for part in new_leads.split("<li")[1:] if f"/leads/{lead.pk}/" in part)
        assert 'data-testid="no-sla"' in item
        assert "dcc-countdown" not in item
        assert "row-overdue" not in item


@pytest.mark.usefixtures("office_hours")
def test_the_lead_page_names_the_day_of_a_deadline_that_was_not_today(team):
    def due(lead: Lead) -> str:
        page = " ".join(login(team.dcc_agent).get(f"/leads/{lead.pk}/").content.decode().split())
        return page.split("First response", 1)[1].split("</dd>", 1)[0]

    today = make_lead(team.dealer, owner=team.dcc_agent, at=this_morning(9))
    assert f"due {timezone.localtime(today.sla_deadline):%H:%M} ·" in due(today)
    yesterday = make_lead(team.dealer, owner=team.dcc_agent, at=this_morning(9) - timedelta(days=1))
    deadline = timezone.localtime(yesterday.sla_deadline)
    assert f"due {formats.date_format(deadline, 'SHORT_DATETIME_FORMAT')} ·" in due(yesterday)


@pytest.mark.usefixtures("office_hours")
def test_an_imported_lead_is_judged_by_the_first_response_in_its_history(team):
    on_time_row = lead_row(created_at=this_morning(9), contacted_at=this_morning(9, 10))
    for lead in import_both_ways(team, on_time_row):
        assert late_for(team, lead) == NOT_LATE
    late_row = lead_row(created_at=this_morning(9), contacted_at=this_morning(9, 40))
    for lead in import_both_ways(team, late_row):
        assert late_for(team, lead)["breached"] == 1
        assert late_for(team, lead)["daily"] == 1


@pytest.mark.usefixtures("office_hours")
def test_an_imported_lead_still_within_its_deadline_keeps_its_sla(team):
    for lead in import_both_ways(team, lead_row(created_at=timezone.now() - timedelta(minutes=5))):
        assert lead.sla_deadline > timezone.now()
        assert late_for(team, lead) == NOT_LATE
    # A lead that came in live at nine and was never called is late, for whoever has it.
    live = make_lead(team.dealer, owner=team.dcc_agent, at=this_morning(9))
    assert late_for(team, live)["breached"] == 1


def first_response_on_time(team) -> dict[int, tuple[int, int]]:
    """Each DCC agent's leads answered in time, of those with an SLA, today: as the KPI report
    by agent counts them, checked against the DCC board."""
    window = day_window(
        dealer_ids=[team.dealer.pk], first=timezone.localdate(), last=timezone.localdate()
    )
    report = kpi_report(window=window, by="agent", metrics=["first_response_on_time"])
    rates = {
        group.key: (value.numerator, value.denominator)
        for group in report.groups
        if (value := group.values["first_response_on_time"]).denominator
    }
    board = {
        row.agent.pk: (row.today.on_time, row.today.with_sla)
        for row in dcc_board(dealer=team.dealer).agents
    }
    assert {agent: rates.get(agent, (0, 0)) for agent in board} == board
    # The dealer's whole day reads the daily tallies: the same leads.
    total = kpi_report(window=window, metrics=["first_response_on_time"]).total
    on_time = total.values["first_response_on_time"]
    on_time_total = sum(numerator for numerator, _ in rates.values())
    with_sla_total = sum(denominator for _, denominator in rates.values())
    assert (on_time.numerator, on_time.denominator) == (on_time_total, with_sla_total)
    return rates


@pytest.mark.usefixtures("office_hours")
def test_an_imported_lead_past_its_deadline_leaves_its_agents_first_response_rate_alone(team):
    agents = (team.dcc_agent, team.dcc_agent_2)
    for agent in agents:  # each answered a live lead in time this morning
        lead = make_lead(team.dealer, owner=agent, at=this_morning(9, 30))
        actions.log_call(lead=lead, by=agent, outcome="reached", at=this_morning(9, 35))
    for lead in import_both_ways(team, lead_row(created_at=this_morning(9))):
        assert lead.owner in agents  # received today, with nobody's answer in its history
    assert first_response_on_time(team) == {agent.pk: (1, 1) for agent in agents}
    # A live lead its agent left uncalled past its deadline does lower the rate.
    make_lead(team.dealer, owner=team.dcc_agent, at=this_morning(9))
    rates = first_response_on_time(team)
    assert rates == {team.dcc_agent.pk: (1, 2), team.dcc_agent_2.pk: (1, 1)}
