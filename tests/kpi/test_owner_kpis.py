"""Owner operations' KPIs: a November of two deliveries — their return visits per plan step, the
questionnaires' satisfaction per factor and NPS, complaints, members, referrals and an owner
event — counted exactly, by step, factor, person and referrer, with the leads behind each
number and `dcc kpi --metric …`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from kpi.counting import lead_ids
from kpi.measures import NotThisDimension
from kpi.selectors import day_window, kpi_report
from leads import actions
from leads.models import Lead
from owners import visits as visit_actions
from owners.models import (
    Complaint,
    ComplaintCategory,
    ComplaintSource,
    ComplaintStatus,
    EventGuest,
    Invitation,
    Member,
    OwnerEvent,
    OwnerEventKind,
    PointsEntry,
    PointsKind,
    Referral,
    ReferralSource,
    ReferralStatus,
    ReturnVisit,
    Severity,
    Vehicle,
    VisitStatus,
)
from owners.questionnaires import FACTORS
from tests.factories import fresh_mobile
from tests.kit import count_queries, login
from tests.owners.conftest import deliver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
OWNER_METRICS = [
    "step_visits_on_time",
    "visit_reach_rate",
    "satisfaction",
    "nps",
    "complaints",
    "complaints_on_time",
    "complaint_close_time",
    "members",
    "members_joined",
    "active_members",
    "active_member_rate",
    "referrals",
    "referred_orders",
    "referral_share",
    "event_attendance",
    "event_orders",
]
DAY = 24  # hours


def at(day: int, hour: int = 10) -> datetime:
    """That day of November 2026 (it is the 18th, 10:00 now), in Shanghai."""
    return datetime(2026, 11, day, hour, tzinfo=SHANGHAI)


def november(team):
    return day_window(dealer_ids=[team.dealer.pk], first=at(1).date(), last=at(30).date())


def scores(low_key: str, low: int, rest: int, nps: int) -> dict:
    """Answers to the default questionnaire: every factor `rest`, `low_key` `low`."""
    answers = {key: (low if key == low_key else rest) for key, _label in FACTORS}
    return answers | {"nps": nps, "referral": "yes"}


def step(lead: Lead, hours: int) -> ReturnVisit:
    return ReturnVisit.objects.get(lead=lead, step__offset_hours=hours)


def reach(visit: ReturnVisit, when: datetime, answers: dict | None = None) -> None:
    visit_actions.attempt_visit(
        visit=visit, by=visit.assignee, reached=True, answers=answers, at=when
    )


def vehicle_of(lead: Lead) -> Vehicle:
    return Vehicle.objects.get(lead=lead)


def walk_in_order(team, when: datetime) -> Lead:
    """A walk-in who ordered at `when`."""
    lead = actions.check_in_visitor(
        dealer=team.dealer, phone=fresh_mobile(), by=team.consultant, at=when - timedelta(hours=1)
    )
    return actions.record_order(lead=lead, by=team.consultant, car_model="Model Y", at=when)


@dataclass
class November:
    sale_a: Lead
    sale_b: Lead
    referred: Lead  # named by A's owner, ordered
    guest: Lead  # brought by A's owner to the event, ordered
    void: Lead  # its referral made void, ordered
    named: Lead  # named by B's owner, not ordered


@pytest.fixture
def owners_november(team) -> November:
    """Two deliveries, A on the 2nd and B on the 9th, and their plan's visits that fell due by
    now (the 30-day visits fall due in December):

    A  24 h  reached an hour before it was due          (on time)
       72 h  reached two hours late: factors 5, salesperson 4; NPS 8 (passive)
      168 h  unreachable a day after it was due
    B  24 h  reached half an hour before it was due     (on time)
       72 h  reached an hour before it was due: factors 3; NPS 3 (detractor)
      168 h  due on the 16th, not made yet

    Complaints: one resolved two hours after opening on the 4th and confirmed a day after
    opening (on time, 1 day to close); one opened on the 6th, escalated, confirmed three days
    after opening (late, 3 days); one opened yesterday afternoon, its deadline still to come.

    Members: A's owner since October, active (redeemed and earned points this month); B's owner
    joined on the 5th, only adjusted by staff since. Referrals: A's owner referred a lead named
    on the 3rd (ordered on the 10th) and brought a guest to the owner event of the 14th (ordered
    on the 16th); B's owner named a lead on the 5th (not ordered); a void referral's lead
    ordered on the 11th. The event: both owners signed up, A's was checked in.
    """
    sale_a = deliver(team, at=at(2))
    sale_b = deliver(team, at=at(9))
    reach(step(sale_a, DAY), step(sale_a, DAY).due_at - timedelta(hours=1))
    reach(
        step(sale_a, 3 * DAY),
        step(sale_a, 3 * DAY).due_at + timedelta(hours=2),
        scores("salesperson", 4, 5, nps=8),
    )
    late = step(sale_a, 7 * DAY)
    ReturnVisit.objects.filter(pk=late.pk).update(
        status=VisitStatus.UNREACHABLE, completed_at=late.due_at + timedelta(days=1)
    )
    reach(step(sale_b, DAY), step(sale_b, DAY).due_at - timedelta(minutes=30))
    reach(
        step(sale_b, 3 * DAY),
        step(sale_b, 3 * DAY).due_at - timedelta(hours=1),
        scores("salesperson", 3, 3, nps=3),
    )

    def complaint(opened: datetime, **fields) -> Complaint:
        return Complaint.objects.create(
            dealer=team.dealer,
            customer=sale_a.customer,
            lead=sale_a,
            source=ComplaintSource.CALL,
            category=ComplaintCategory.SALESPERSON,
            severity=Severity.HIGH,
            description="…",
            deadline=opened + timedelta(hours=24),
            opened_at=opened,
            **fields,
        )

    complaint(
        at(4),
        handler=team.owner_ops,
        about=team.consultant,
        status=ComplaintStatus.CONFIRMED,
        resolved_at=at(4, 12),
        closed_at=at(5),
    )
    complaint(
        at(6),
        handler=team.sales_manager,
        about=team.consultant_2,
        level=1,
        status=ComplaintStatus.CONFIRMED,
        resolved_at=at(8),
        closed_at=at(9),
    )
    complaint(at(17, 15), handler=team.owner_ops, about=None)

    owner_a, owner_b = sale_a.customer, sale_b.customer
    # The cards and purchase points the deliveries gave: replaced by these, dated by hand.
    Member.objects.filter(dealer=team.dealer).delete()
    member_a = Member.objects.create(
        dealer=team.dealer,
        customer=owner_a,
        vehicle=vehicle_of(sale_a),
        card_number="A1",
        joined_at=datetime(2026, 10, 1, tzinfo=SHANGHAI),
        active_at=at(12),
    )
    member_b = Member.objects.create(
        dealer=team.dealer,
        customer=owner_b,
        vehicle=vehicle_of(sale_b),
        card_number="B1",
        joined_at=at(5),
        active_at=at(6),
    )
    Member.objects.create(
        dealer=team.dealer,
        customer=walk_in_order(team, datetime(2026, 10, 20, 10, tzinfo=SHANGHAI)).customer,
        card_number="C1",
        joined_at=datetime(2026, 12, 1, tzinfo=SHANGHAI),
        active_at=datetime(2026, 12, 1, tzinfo=SHANGHAI),
    )
    for member, kind, points, when in (
        (member_a, PointsKind.PURCHASE, 1000, datetime(2026, 10, 1, tzinfo=SHANGHAI)),
        (member_a, PointsKind.REDEEMED, -200, at(10)),
        (member_a, PointsKind.EVENT, 100, at(14)),
        (member_b, PointsKind.ADJUSTMENT, 50, at(6)),
    ):
        PointsEntry.objects.create(
            dealer=team.dealer, member=member, at=when, kind=kind, points=points, usable_after=0
        )

    referred = walk_in_order(team, at(10))
    guest = walk_in_order(team, at(16))
    void = walk_in_order(team, at(11))
    named = actions.check_in_visitor(
        dealer=team.dealer, phone=fresh_mobile(), by=team.consultant, at=at(5)
    )
    event = OwnerEvent.objects.create(
        dealer=team.dealer,
        title="Autumn drive",
        kind=OwnerEventKind.SELF_DRIVE,
        starts_at=at(14),
        ends_at=at(14, 17),
        capacity=20,
    )
    for lead, referrer, source, when, status in (
        (referred, owner_a, ReferralSource.LEAD, at(3), ReferralStatus.CREDITED),
        (guest, owner_a, ReferralSource.EVENT, at(14), ReferralStatus.CREDITED),
        (named, owner_b, ReferralSource.LEAD, at(5), ReferralStatus.NAMED),
        (void, owner_b, ReferralSource.LEAD, at(4), ReferralStatus.VOID),
    ):
        Referral.objects.create(
            dealer=team.dealer,
            lead=lead,
            referrer=referrer,
            source=source,
            event=event if source == ReferralSource.EVENT else None,
            named_at=when,
            status=status,
        )
    invitation_a = Invitation.objects.create(
        dealer=team.dealer,
        event=event,
        customer=owner_a,
        code="INV-A",
        invited_at=at(1),
        signed_up_at=at(2),
        checked_in_at=at(14, 9),
    )
    Invitation.objects.create(
        dealer=team.dealer,
        event=event,
        customer=owner_b,
        code="INV-B",
        invited_at=at(1),
        signed_up_at=at(3),
    )
    EventGuest.objects.create(
        dealer=team.dealer, invitation=invitation_a, phone=guest.customer.phone, lead=guest,
        added_at=at(14),
    )  # fmt: skip
    return November(sale_a, sale_b, referred, guest, void, named)


TOTAL = object()


def values(report, key=TOTAL) -> dict[str, tuple]:
    group = report.total if key is TOTAL else next(g for g in report.groups if g.key == key)
    return {name: (v.numerator, v.denominator) for name, v in group.values.items()}


def test_each_owner_metric_of_november(team, owners_november):
    found = values(kpi_report(window=november(team), metrics=OWNER_METRICS))
    assert found == {
        # Due by now: three steps of each delivery; on time: both 24 h calls, B's 3DC.
        "step_visits_on_time": (3, 6),
        # Ended: five (A's 168 h unreachable); reached: four.
        "visit_reach_rate": (4, 5),
        # A's 3DC: seven 5s and a 4; B's: eight 3s.
        "satisfaction": (39 + 24, 16),
        # A passive (8), B a detractor (3): 0 − 1 over two answers.
        "nps": (-1, 2),
        "complaints": (3, None),
        # Judged: the first two (the third's deadline is tomorrow); on time: the first.
        "complaints_on_time": (1, 2),
        "complaint_close_time": (1 * 86400 + 3 * 86400, 2),
        # At the end of November: A's and B's owners (C's joins in December).
        "members": (2, None),
        "members_joined": (1, None),
        "active_members": (1, None),
        "active_member_rate": (1, 2),
        # Named this month and not void: the referred lead, the guest, B's named lead.
        "referrals": (3, None),
        "referred_orders": (2, None),
        # Orders this month: A, B, the referred lead, the guest, the void referral's lead.
        "referral_share": (2, 5),
        "event_attendance": (1, 2),
        "event_orders": (1, None),
    }
    nps = kpi_report(window=november(team), metrics=["nps"]).total.values["nps"]
    assert nps.value == pytest.approx(-0.5)


def test_return_visits_by_plan_step_are_labelled_and_drilled(team, owners_november):
    n = owners_november
    report = kpi_report(
        window=november(team), by="step", metrics=["step_visits_on_time", "visit_reach_rate"]
    )
    assert {g.key: values(report, g.key)["step_visits_on_time"] for g in report.groups} == {
        24: (2, 2),
        72: (1, 2),
        168: (0, 2),
    }
    labels = {g.key: g.label for g in report.groups}
    assert labels[24] == "24 h after delivery · Thank-you call"
    assert labels[72] == "3 days after delivery · 3-day visit (3DC)"
    assert labels[168] == "7 days after delivery · Sales manager's checklist call"
    with translation.override("zh-hans"):
        chinese = kpi_report(window=november(team), by="step", metrics=["step_visits_on_time"])
        assert {g.key: g.label for g in chinese.groups}[168] == "交车后 7 天 · 销售经理检查回访"
    assert values(report, 168)["visit_reach_rate"] == (0, 1)
    window = november(team)
    assert set(lead_ids("step_visits_on_time", window, "step", 72)) == {n.sale_b.pk}
    assert set(lead_ids("step_visits_due", window, "step", 168)) == {n.sale_a.pk, n.sale_b.pk}
    assert set(lead_ids("step_visits_due", window, None, None)) == {n.sale_a.pk, n.sale_b.pk}


def test_satisfaction_per_factor_and_nps_leads(team, owners_november):
    n = owners_november
    report = kpi_report(window=november(team), by="factor", metrics=["satisfaction"])
    per_factor = {g.key: values(report, g.key)["satisfaction"] for g in report.groups}
    assert per_factor == {
        key: ((4 + 3, 2) if key == "salesperson" else (5 + 3, 2)) for key, _label in FACTORS
    }
    assert values(report)["satisfaction"] == (63, 16)
    assert {g.key: g.label for g in report.groups}["deal_terms"] == "Deal terms"
    window = november(team)
    assert set(lead_ids("satisfaction_answers", window, "factor", "salesperson")) == {
        n.sale_a.pk,
        n.sale_b.pk,
    }
    assert set(lead_ids("nps_detractors", window, None, None)) == {n.sale_b.pk}
    assert set(lead_ids("nps_points", window, None, None)) == {n.sale_b.pk}
    with pytest.raises(NotThisDimension):
        kpi_report(window=window, by="factor", metrics=["nps"])


def test_by_person_visits_count_for_their_assignee_complaints_for_handler_and_subject(
    team, owners_november
):
    n = owners_november
    window = november(team)
    three_day = step(n.sale_a, 3 * DAY).assignee_id
    report = kpi_report(window=window, by="agent", metrics=["step_visits_on_time", "complaints"])
    assert values(report, step(n.sale_a, DAY).assignee_id)["step_visits_on_time"] == (2, 2)
    assert values(report, three_day)["step_visits_on_time"][1] == 2
    handlers = kpi_report(window=window, by="agent", metrics=["complaints_on_time"])
    assert values(handlers, team.owner_ops.pk)["complaints_on_time"] == (1, 1)
    assert values(handlers, team.sales_manager.pk)["complaints_on_time"] == (0, 1)
    about = kpi_report(window=window, by="consultant", metrics=["complaints"])
    assert {g.label: values(about, g.key)["complaints"] for g in about.groups} == {
        str(team.consultant): (1, None),
        str(team.consultant_2): (1, None),
        "Nobody": (1, None),
    }
    teams = kpi_report(window=window, by="team", metrics=["step_visits_on_time"])
    assert sum(g.values["step_visits_on_time"].denominator for g in teams.groups) == 6


def test_referrers_members_and_events_lead_to_the_sales(team, owners_november):
    n = owners_november
    window = november(team)
    report = kpi_report(window=window, by="referrer", metrics=["referrals", "referred_orders"])
    assert {g.key: values(report, g.key) for g in report.groups} == {
        n.sale_a.customer_id: {"referrals": (2, None), "referred_orders": (2, None)},
        n.sale_b.customer_id: {"referrals": (1, None), "referred_orders": (0, None)},
    }
    assert {g.label for g in report.groups} == {"王先生"}  # the owners' names
    assert set(lead_ids("referred_orders", window, "referrer", n.sale_a.customer_id)) == {
        n.referred.pk,
        n.guest.pk,
    }
    assert set(lead_ids("event_orders", window, None, None)) == {n.guest.pk}
    assert set(lead_ids("active_members", window, None, None)) == {n.sale_a.pk}
    assert set(lead_ids("members", window, None, None)) == {n.sale_a.pk, n.sale_b.pk}
    assert set(lead_ids("event_attended", window, None, None)) == {n.sale_a.pk}
    assert set(lead_ids("event_signups", window, None, None)) == {n.sale_a.pk, n.sale_b.pk}
    with pytest.raises(NotThisDimension):
        kpi_report(window=window, by="referrer", metrics=["complaints"])
    with pytest.raises(NotThisDimension):  # a stock has no months
        kpi_report(window=window, by="month", metrics=["members"])


def test_the_cohort_view_counts_owner_work_as_the_period_does(team, owners_november):
    period = values(kpi_report(window=november(team), metrics=OWNER_METRICS))
    cohort_window = day_window(
        dealer_ids=[team.dealer.pk], first=at(1).date(), last=at(30).date(), view="cohort"
    )
    cohort = values(kpi_report(window=cohort_window, metrics=OWNER_METRICS))
    # But orders, which follow the leads created in November (the October walk-in aside).
    followed = {"referred_orders", "referral_share", "event_orders"}
    assert {k: v for k, v in cohort.items() if k not in followed} == {
        k: v for k, v in period.items() if k not in followed
    }
    assert cohort["referral_share"] == (2, 5)


def test_a_report_of_every_owner_metric_makes_as_many_queries_however_much_there_is(
    team, owners_november
):
    def report():
        return kpi_report(window=november(team), by="agent", metrics=OWNER_METRICS)

    before = count_queries(report)
    deliver(team, at=at(3))
    deliver(team, at=at(4))
    assert count_queries(report) == before


def test_dcc_kpi_prints_the_owner_metrics(team, owners_november, capsys):
    november_ = ("--dealer", team.dealer.code, "--from", "2026-11-01", "--to", "2026-11-30")
    call_command("kpi", *november_, "--by", "step", "--metric", "step_visits_on_time")
    table = capsys.readouterr().out
    assert "step_visits_on_time" in table.splitlines()[0]
    row = next(line for line in table.splitlines() if "3-day visit (3DC)" in line)
    assert "50.0% (1/2)" in row
    call_command("kpi", *november_, "--metric", "nps", "--metric", "complaint_close_time",
                 "--format", "json")  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert printed["total"]["metrics"]["nps"]["value"] == -0.5
    assert printed["total"]["metrics"]["complaint_close_time"]["value"] == 2 * 86400
    with pytest.raises(CommandError, match="cannot be cut by step"):
        call_command("kpi", *november_, "--by", "step", "--metric", "complaints")


def test_the_dashboard_drills_down_to_a_steps_leads(team, owners_november):
    n = owners_november
    client = login(team.gm)
    query = {
        "measure": "step_visits_due",
        "from": "2026-11-01",
        "to": "2026-11-30",
        "by": "step",
        "group": "168",
    }
    page = client.get("/dashboard/leads/", query)
    assert page.status_code == 200
    shown = page.content.decode()
    assert f"/leads/{n.sale_a.pk}/" in shown and f"/leads/{n.sale_b.pk}/" in shown
    answer = client.get(
        "/api/v1/kpi",
        {"dealer": team.dealer.code, "from": "2026-11-01", "to": "2026-11-30", "by": "factor",
         "metric": "satisfaction"},
    )  # fmt: skip
    assert answer.status_code == 200
    groups = {g["key"]: g for g in answer.json()["groups"]}
    assert groups["salesperson"]["metrics"]["satisfaction"]["numerator"] == 7


def test_the_api_drills_down_by_step_and_refuses_what_is_no_step(team, owners_november):
    n = owners_november
    client = login(team.gm)
    query = {"dealer": team.dealer.code, "from": "2026-11-01", "to": "2026-11-30",
             "measure": "step_visits_due", "by": "step"}  # fmt: skip
    answer = client.get("/api/v1/kpi/leads", {**query, "group": "168"})
    assert answer.status_code == 200
    assert set(answer.json()["leads"]) == {n.sale_a.pk, n.sale_b.pk}
    assert client.get("/api/v1/kpi/leads", {**query, "group": "3DC"}).status_code == 422
    factor = {**query, "measure": "satisfaction_answers", "by": "factor", "group": "nonsense"}
    assert client.get("/api/v1/kpi/leads", factor).json()["leads"] == []
