"""The call center's KPIs, counted from the phone system's call records (and the ledger's
calls): each metric of a morning of calls, by agent, line and hour, the leads behind a number,
the platform answer score's 60/40 formula, and `dcc kpi --by agent`."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from calls import actions
from calls.models import Call, Line, LineKind, PhoneAccount, Seat
from calls.report import Direction, Disposition, HungUpBy
from dcc.phone import mask_phone
from kpi import measures
from kpi.measures import NotThisDimension
from kpi.phone import AnswerScore, Part, platform_answer_score
from kpi.selectors import day_window, kpi_report
from leads import actions as lead_actions
from leads.models import CallOutcome
from tests.calls.reports import HOTLINE, answered, at, missed
from tests.factories import channel, make_lead
from tests.kit import count_queries, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]

CALL_METRICS = [
    "inbound_calls",
    "answered_calls",
    "answer_rate",
    "average_wait",
    "abandoned_calls",
    "details_left_rate",
    "outbound_calls",
    "reach_rate",
    "effective_calls",
    "talk_time",
    "average_talk",
    "calls_before_first_contact",
    "callbacks_on_time",
    "phone_system_share",
]
A, B, C, D, E, F = (f"1390000000{n}" for n in range(1, 7))


@pytest.fixture
def account(team) -> PhoneAccount:
    """The dealer's phone account, two seats and its 400 line (as tests/calls/conftest.py)."""
    account = PhoneAccount.objects.create(dealer=team.dealer, provider="generic")
    Seat.objects.create(account=account, seat="8001", staff=team.dcc_agent)
    Seat.objects.create(account=account, seat="8002", staff=team.dcc_agent_2)
    Line.objects.create(
        dealer=team.dealer,
        number=HOTLINE,
        kind=LineKind.HOTLINE_400,
        channel=channel(team.dealer, "hotline_400"),
        callback_minutes=30,
    )
    return account


def outbound(number: str, *, start, seat="8001", talk: int | None = None):
    """A call the agent at `seat` made: answered with `talk` seconds, else not answered."""
    report = answered(number=number, seat=seat, start=start, direction=Direction.OUTBOUND)
    if talk is not None:
        return replace(
            report,
            talk_seconds=talk,
            ended_at=start + timedelta(seconds=8 + talk),
            raw={"out": report.call_id},
        )
    return replace(
        report,
        answered_at=None,
        talk_seconds=None,
        wait_seconds=None,
        disposition=Disposition.NO_ANSWER,
        hung_up_by=HungUpBy.UNKNOWN,
        raw={"out": report.call_id},
    )


@pytest.fixture
def morning(team, account):
    """A morning on the 400 line (business hours 09:00–18:00; it is 10:00 now):

    inbound  08:00  E  answered by agent 1, waited 8 s, talked 120 s (before opening)
             09:00  A  answered by agent 1, waited 8 s, talked 120 s; a new caller, captured
             09:10  B  answered by agent 2, waited 5 s, talked 30 s; a new caller, not captured
             09:20  C  missed after 40 s in the queue (valid): a callback due 09:50
             09:25  D  missed after 5 s (not valid): a callback due 09:55
    outbound 09:30  F  no answer (F has a lead), then at 09:35 a typed "no answer" on it
             09:40  C  answered, 50 s: closes C's callback on time (D's stays open, late)
             09:45  F  answered, 20 s: F's lead first reached after two calls
    """
    lead_f = make_lead(team.dealer, phone=F, owner=team.dcc_agent, at=at(-150))
    one = actions.receive(account, answered(number=E, start=at(-120)))
    call_a = actions.receive(account, answered(number=A, start=at(-60)))
    two = replace(answered(number=B, seat="8002", start=at(-50)), wait_seconds=5, talk_seconds=30)
    actions.receive(account, two)
    actions.receive(account, missed(number=C, start=at(-40)))
    actions.receive(account, replace(missed(number=D, start=at(-35)), wait_seconds=5))
    actions.receive(account, outbound(F, start=at(-30)))
    lead_f.refresh_from_db()
    lead_actions.log_call(lead=lead_f, by=team.dcc_agent, at=at(-25), outcome=CallOutcome.NO_ANSWER)
    actions.receive(account, outbound(C, start=at(-20), talk=50))
    actions.receive(account, outbound(F, start=at(-15), talk=20))
    actions.capture(call_a, by=team.dcc_agent, name="Ms A")
    assert not one.in_hours and call_a.in_hours
    return lead_f


def today(team):
    day = timezone.localdate(at(0))
    return day_window(dealer_ids=[team.dealer.pk], first=day, last=day)


TOTAL = object()


def values(report, key=TOTAL):
    group = report.total if key is TOTAL else next(g for g in report.groups if g.key == key)
    return {name: (v.numerator, v.denominator) for name, v in group.values.items()}


def test_each_call_metric_of_the_morning(team, morning):
    found = values(kpi_report(window=today(team), metrics=CALL_METRICS))
    assert found == {
        "inbound_calls": (5, None),
        "answered_calls": (3, None),
        # In business hours: A, B answered; C waited 40 s; D (5 s) is not valid; E before 09:00.
        "answer_rate": (2, 3),
        # 8 + 8 + 5 + 40 + 5 seconds over the five inbound calls.
        "average_wait": (66, 5),
        "abandoned_calls": (2, None),
        # New callers answered: E, A, B; A left their details.
        "details_left_rate": (1, 3),
        "outbound_calls": (3, None),
        "reach_rate": (2, 3),
        # At least 45 s of talk: E and A (120 s), the call back to C (50 s).
        "effective_calls": (3, None),
        "talk_time": (120 + 120 + 30 + 50 + 20, None),
        "average_talk": (340, 5),
        # First reached today: A (at once) and F (after the system's and the typed attempt).
        "calls_before_first_contact": (2, 2),
        # C called back at 09:40, due 09:50; D's due 09:55 and not called back.
        "callbacks_on_time": (1, 2),
        # In the ledger: A's call, F's three; one of F's was typed.
        "phone_system_share": (3, 4),
    }
    assert kpi_report(window=today(team), metrics=["answer_rate"]).total.values[
        "answer_rate"
    ].value == pytest.approx(2 / 3)


def test_the_effective_call_threshold_is_the_dealers(team, morning):
    team.dealer.effective_call_seconds = 25
    team.dealer.save()
    report = kpi_report(window=today(team), metrics=["effective_calls"])
    assert values(report)["effective_calls"] == (4, None)  # B's 30 s now counts too


def test_staff_ringing_the_hotline_are_not_its_callers(team, morning, account):
    """A consultant testing the 400 line from their mobile, answered or not, counts in no call
    KPI (inbound calls, answer rate, talk time …)."""
    team.consultant.mobile = "13800138000"
    team.consultant.save()
    before = values(kpi_report(window=today(team), metrics=CALL_METRICS))
    actions.receive(account, answered(number="13800138000", start=at(-10)))
    actions.receive(account, missed(number="13800138000", start=at(-5)))
    assert values(kpi_report(window=today(team), metrics=CALL_METRICS)) == before


def test_by_agent_the_call_counts_for_whoever_took_or_made_it(team, morning):
    report = kpi_report(window=today(team), by="agent", metrics=CALL_METRICS)
    first, second = values(report, team.dcc_agent.pk), values(report, team.dcc_agent_2.pk)
    assert first["inbound_calls"] == (2, None) and second["inbound_calls"] == (1, None)
    assert first["outbound_calls"] == (3, None) and first["reach_rate"] == (2, 3)
    assert first["effective_calls"] == (3, None) and second["effective_calls"] == (0, None)
    assert first["callbacks_on_time"] == (1, 1)  # the callback the agent's call closed
    # The missed calls rang at no one's seat.
    assert values(report, None)["abandoned_calls"] == (2, None)
    assert report.total.values["inbound_calls"].numerator == 5


def test_by_line_and_by_hour(team, morning, account):
    line = Line.objects.get(dealer=team.dealer, number=HOTLINE)
    by_line = kpi_report(window=today(team), by="line", metrics=["inbound_calls", "answer_rate"])
    assert [(g.label, values(by_line, g.key)["inbound_calls"]) for g in by_line.groups] == [
        (HOTLINE, (5, None))
    ]
    assert by_line.groups[0].key == line.pk
    by_hour = kpi_report(window=today(team), by="hour", metrics=["inbound_calls"])
    assert {g.label: g.values["inbound_calls"].numerator for g in by_hour.groups} == {
        "08:00–09:00": 1,
        "09:00–10:00": 4,
    }
    # Without metrics named, by line is every metric that has lines: the call metrics.
    keys = {m.key for m in kpi_report(window=today(team), by="line").metrics}
    assert "inbound_calls" in keys and "lead_volume" not in keys


def test_lead_metrics_refuse_line_and_hour_cleanly(team, morning):
    with pytest.raises(NotThisDimension):
        kpi_report(window=today(team), by="line", metrics=["lead_volume"])
    with pytest.raises(CommandError, match="cannot be cut by hour"):
        call_command("kpi", "--dealer", team.dealer.code, "--from", "2026-11-18",
                     "--to", "2026-11-18", "--by", "hour", "--metric", "lead_volume")  # fmt: skip
    client = login(team.gm)
    query = {"dealer": team.dealer.code, "from": "2026-11-18", "to": "2026-11-18"}
    answer = client.get("/api/v1/kpi", {**query, "by": "line", "metric": "contact_rate"})
    assert answer.status_code == 422 and answer.json()["field"] == "by"
    answer = client.get("/api/v1/kpi", {**query, "by": "line"})
    assert answer.status_code == 200
    assert answer.json()["total"]["metrics"]["inbound_calls"]["numerator"] == 5
    drill = {**query, "measure": "leads", "by": "hour", "group": "9"}
    assert client.get("/api/v1/kpi/leads", drill).status_code == 422
    assert client.get("/dashboard/leads/", drill).status_code == 400


def test_the_leads_behind_a_call_number(team, morning):
    """Drill-down: the leads of the calls counted (a call without a lead has none to show)."""
    window = today(team)
    lead_a = Call.objects.get(number=A).lead
    new_with_details = set(measures.lead_ids("new_callers_with_details", window, None, None))
    assert new_with_details == {lead_a.pk}
    outbound = set(measures.lead_ids("outbound_calls", window, "agent", team.dcc_agent.pk))
    assert outbound == {morning.pk}
    attempts = set(measures.lead_ids("attempts_before_contact", window, None, None))
    assert attempts == {morning.pk}
    client = login(team.gm)
    day = "2026-11-18"
    page = client.get(
        "/dashboard/leads/",
        {"measure": "inbound_answered", "from": day, "to": day, "by": "hour", "group": "9"},
    )
    assert page.status_code == 200
    assert f"/leads/{lead_a.pk}/" in page.content.decode()


def test_dcc_kpi_by_agent_shows_the_call_kpis(team, morning, capsys):
    day = timezone.localdate(at(0)).isoformat()
    call_command("kpi", "--dealer", team.dealer.code, "--from", day, "--to", day,
                 "--by", "agent")  # fmt: skip
    table = capsys.readouterr().out
    header = table.splitlines()[0]
    for key in ("inbound_calls", "answer_rate", "effective_calls", "callbacks_on_time"):
        assert key in header
    agent_row = next(line for line in table.splitlines() if str(team.dcc_agent) in line)
    assert "66.7% (2/3)" in agent_row  # the agent's reach rate
    call_command("kpi", "--dealer", team.dealer.code, "--from", day, "--to", day,
                 "--by", "agent", "--format", "json")  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert printed["total"]["metrics"]["answer_rate"]["numerator"] == 2
    assert printed["metrics"]["average_wait"]["unit"] == "seconds"


# ---------------------------------------------------------------- the platform answer score


def test_the_platform_answer_score_reproduces_a_worked_example(team, account):
    """The 60/40 formula, worked by hand. On the 400 line:

    the previous 15 days, 09:00–18:00:
      day −1, 10:00  answered                           valid, answered
      day −3, 11:00  answered                           valid, answered
      day −5, 15:00  answered                           valid, answered
      day −7, 16:00  missed after 40 s                  valid
      day −9, 12:00  missed after 5 s                   not valid
      day −2, 19:00  missed after 40 s                  after 18:00: not counted
      day −16, 10:00 missed after 40 s                  before the 15 days: not counted
      → 3 answered of 4 valid = 75 %
    today:
      09:10  answered                                   valid, answered
      09:20  missed after 12 s                          valid
      → 1 of 2 = 50 %
    score = 75 % × 0.6 + 50 % × 0.4 = 45 % + 20 % = 65 %

    A call on another kind of line (a platform's number) does not count for the 400 line."""
    day = timezone.localdate(at(0))

    def moment(days_before: int, hour: int, minute: int = 0):
        return at(0).replace(hour=hour - 8, minute=minute) - timedelta(days=days_before)

    for days_before, hour in ((1, 10), (3, 11), (5, 15)):
        actions.receive(account, answered(number=A, start=moment(days_before, hour)))
    actions.receive(account, missed(number=B, start=moment(7, 16)))
    actions.receive(account, replace(missed(number=B, start=moment(9, 12)), wait_seconds=5))
    actions.receive(account, missed(number=B, start=moment(2, 19)))
    actions.receive(account, missed(number=B, start=moment(16, 10)))
    actions.receive(account, answered(number=A, start=moment(0, 9, 10)))
    actions.receive(account, replace(missed(number=C, start=moment(0, 9, 20)), wait_seconds=12))
    Line.objects.create(
        dealer=team.dealer,
        number="01012345678",
        kind=LineKind.PLATFORM,
        channel=channel(team.dealer, "autohome"),
    )
    platform = replace(missed(number=D, start=moment(0, 9, 30)), line_number="01012345678")
    actions.receive(account, platform)

    score = platform_answer_score(team.dealer, day)
    assert (score.past, score.today) == (Part(3, 4), Part(1, 2))
    assert score.score == Decimal("0.6500")
    # Every line: today's platform call is valid and missed too.
    assert platform_answer_score(team.dealer, day, line_kind=None).today == Part(1, 3)


def test_no_calls_score_full_marks(team, account):
    score = platform_answer_score(team.dealer, timezone.localdate(at(0)))
    assert score == AnswerScore(score.day, Part(0, 0), Part(0, 0))
    assert score.score == Decimal(1)
    only_today = AnswerScore(score.day, Part(0, 0), Part(1, 4))
    assert only_today.score == Decimal("0.7000")  # 100 % × 0.6 + 25 % × 0.4


# ---------------------------------------------------------------- the DCC board


def test_the_dcc_board_shows_the_phones_now(team, morning, account):
    ringing = replace(
        answered(number="13900000009", seat="8002", start=at(-1)),
        ended_at=None,
        talk_seconds=None,
        disposition=None,
        raw={"now": 1},
    )
    actions.receive(account, ringing)
    html = login(team.dcc_supervisor).get("/dashboard/dcc/").content.decode()
    assert 'data-testid="on-call"' in html and str(team.dcc_agent_2) in html
    assert 'data-testid="missed-today">2<' in html
    assert 'data-testid="longest-wait">40' in html
    assert 'data-testid="callbacks"' in html and mask_phone(D) in html  # D's, late
    assert mask_phone(C) not in html  # C's was called back


def test_the_phones_on_the_board_cost_the_same_queries_however_many(team, morning, account):
    client = login(team.dcc_supervisor)
    few = count_queries(lambda: client.get("/dashboard/dcc/"))
    for n in range(3):
        number = f"1380000000{n}"
        actions.receive(account, missed(number=number, start=at(-5 + n)))
        ringing = replace(
            answered(number=number, seat="8001", start=at(-1)),
            ended_at=None,
            talk_seconds=None,
            disposition=None,
            raw={"ringing": n},
        )
        actions.receive(account, ringing)
    assert count_queries(lambda: client.get("/dashboard/dcc/")) == few
