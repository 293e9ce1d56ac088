"""The audit group's KPIs: a week of work drawn in full, some of it audited and a defeat
overturned — coverage, the average score and the overturns, per person audited, with the leads
behind them and `dcc kpi --metric …`."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from audit import actions, sources
from audit.models import Audit, AuditResult, AuditTask
from calls import actions as call_actions
from kpi.counting import lead_ids
from kpi.selectors import day_window, kpi_report
from leads.models import Team, TeamKind
from leads.setup.defaults import set_up_dealer
from tests.audit.conftest import WEEK, defeated, during, invalidated, recorded_call
from tests.calls.reports import answered, phone_account
from tests.factories import make_lead
from tests.kit import count_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("office_hours")]

AUDIT_METRICS = ["audit_coverage", "audit_score", "defeats_overturned", "overturn_rate"]


def november(team):
    return day_window(dealer_ids=[team.dealer.pk], first=date(2026, 11, 1), last=date(2026, 11, 30))


def audit(task: AuditTask, by, *, missed: tuple[int, ...] = (), result=AuditResult.PASS) -> Audit:
    """`task` audited with full marks but for the items at the positions `missed` (from 1)."""
    form = actions.ensure_form(task.dealer, task.source)
    marks = {item.pk: 0 if item.position in missed else item.points for item in form.items.all()}
    return actions.submit_audit(task=task, by=by, form=form, scores=marks, result=result)


@pytest.fixture
def audited_week(team):
    """In WEEK, drawn in full: agent 1's four recorded calls (two on leads) and an invalid mark;
    consultant 1's two approved defeats (a call without a recording is not work to audit).
    Audited: the first call on a lead (100 %), a call without a lead (60 %: two items of 20
    points missed), the first defeat (0 %, overturned)."""
    account = phone_account(team)
    leads = [make_lead(team.dealer, owner=team.dcc_agent, at=during(WEEK, 0, 9)) for _ in "ab"]
    calls = [recorded_call(account, during(WEEK, n, 10), lead=lead) for n, lead in enumerate(leads)]
    calls += [recorded_call(account, during(WEEK, 3 + n, 11)) for n in range(2)]
    call_actions.receive(account, answered(seat="8001", start=during(WEEK, 4, 15)))
    defeats = [defeated(team, team.consultant, during(WEEK, 1 + n, 14)) for n in range(2)]
    invalid = invalidated(team, team.dcc_agent, during(WEEK, 2, 16))
    for code in sources.SOURCES:
        actions.set_plan(
            dealer=team.dealer, by=team.auditor, source=code, share_percent=100, min_per_person=0
        )
    actions.draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=7)
    call_tasks = {t.item_id: t for t in AuditTask.objects.filter(source=sources.CALL)}
    assert len(call_tasks) == 4
    audit(call_tasks[calls[0].pk], team.auditor)
    audit(call_tasks[calls[2].pk], team.auditor, missed=(2, 3))
    defeat_task = AuditTask.objects.get(source=sources.DEFEAT, lead=defeats[0])
    overturned = audit(defeat_task, team.auditor, missed=(1, 2), result=AuditResult.OVERTURN)
    actions.overturn(audit=overturned, by=team.auditor)
    return {"leads": leads, "defeats": defeats, "invalid": invalid}


TOTAL = object()


def values(report, key=TOTAL) -> dict[str, tuple]:
    group = report.total if key is TOTAL else next(g for g in report.groups if g.key == key)
    return {name: (v.numerator, v.denominator) for name, v in group.values.items()}


def test_coverage_score_and_overturns_of_the_week(team, audited_week):
    found = values(kpi_report(window=november(team), metrics=AUDIT_METRICS))
    assert found == {
        # Work: four recorded calls, two defeats, an invalid mark; audited: two calls, a defeat.
        "audit_coverage": (3, 7),
        "audit_score": (Decimal("160.0"), 3),
        "defeats_overturned": (1, None),
        "overturn_rate": (1, 1),
    }
    score = kpi_report(window=november(team), metrics=["audit_score"]).total
    assert score.values["audit_score"].value == Decimal("53.33")


def test_by_the_person_audited(team, audited_week):
    report = kpi_report(window=november(team), by="agent", metrics=AUDIT_METRICS)
    assert values(report, team.dcc_agent.pk) == {
        "audit_coverage": (2, 5),
        "audit_score": (Decimal("160.0"), 2),
        "defeats_overturned": (0, None),
        "overturn_rate": (0, 0),
    }
    assert values(report, team.consultant.pk) == {
        "audit_coverage": (1, 2),
        "audit_score": (Decimal("0.0"), 1),
        "defeats_overturned": (1, None),
        "overturn_rate": (1, 1),
    }
    assert {g.label for g in report.groups} == {str(team.dcc_agent), str(team.consultant)}


def test_by_the_team_of_the_person_audited(team, audited_week):
    set_up_dealer(team.dealer)  # the default teams, everyone in theirs from the start
    dcc = Team.objects.get(dealer=team.dealer, kind=TeamKind.DCC)
    showroom = Team.objects.get(dealer=team.dealer, kind=TeamKind.SHOWROOM)
    report = kpi_report(window=november(team), by="team", metrics=["audit_coverage"])
    assert {g.key: values(report, g.key)["audit_coverage"] for g in report.groups} == {
        dcc.pk: (2, 5),
        showroom.pk: (1, 2),
    }


def test_the_leads_behind_the_audit_numbers(team, audited_week):
    week = audited_week
    window = november(team)
    lead, other = week["leads"]
    first_defeat, second_defeat = week["defeats"]
    assert set(lead_ids("audit_work_audited", window, None, None)) == {lead.pk, first_defeat.pk}
    assert set(lead_ids("audit_work", window, None, None)) == {
        lead.pk, other.pk, first_defeat.pk, second_defeat.pk, week["invalid"].pk,
    }  # fmt: skip
    assert set(lead_ids("audit_work", window, "agent", team.consultant.pk)) == {
        first_defeat.pk,
        second_defeat.pk,
    }
    assert set(lead_ids("defeats_overturned", window, None, None)) == {first_defeat.pk}
    assert set(lead_ids("audits", window, "agent", team.dcc_agent.pk)) == {lead.pk}


def test_a_source_the_dealer_does_not_sample_is_not_work_to_audit(team, audited_week):
    actions.set_plan(
        dealer=team.dealer, by=team.auditor, source=sources.INVALID, share_percent=10,
        min_per_person=1, is_active=False,
    )  # fmt: skip
    found = values(kpi_report(window=november(team), metrics=["audit_coverage"]))
    assert found == {"audit_coverage": (3, 6)}


def test_the_week_before_has_no_audit_work(team, audited_week):
    october = day_window(
        dealer_ids=[team.dealer.pk], first=date(2026, 10, 1), last=date(2026, 10, 31)
    )
    assert values(kpi_report(window=october, metrics=AUDIT_METRICS)) == {
        "audit_coverage": (0, 0),
        "audit_score": (0, 0),
        "defeats_overturned": (0, None),
        "overturn_rate": (0, 0),
    }


def test_an_audit_report_makes_as_many_queries_however_much_was_audited(team, audited_week):
    def report():
        return kpi_report(window=november(team), by="agent", metrics=AUDIT_METRICS)

    before = count_queries(report)
    second = AuditTask.objects.get(source=sources.DEFEAT, lead=audited_week["defeats"][1])
    audit(second, team.auditor)
    assert count_queries(report) == before


def test_dcc_kpi_prints_the_audit_metrics(team, audited_week, capsys):
    november_ = ("--dealer", team.dealer.code, "--from", "2026-11-01", "--to", "2026-11-30")
    call_command("kpi", *november_, "--by", "person", "--metric", "audit_coverage",
                 "--metric", "audit_score")  # fmt: skip
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if str(team.consultant) in line)
    assert "50.0% (1/2)" in row and "0.0 (0/1)" in row
    call_command("kpi", *november_, "--metric", "defeats_overturned", "--format", "json")
    printed = json.loads(capsys.readouterr().out)
    assert printed["total"]["metrics"]["defeats_overturned"]["value"] == 1
