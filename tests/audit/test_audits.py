"""Audits: the form's versions, the scoring and its total, overturning a defeat or an invalid
mark, the one appeal and the supervisor's decision, every step in the lead's ledger, and the
results on the scorecards."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from audit import actions, sources
from audit.actions import draw_sample, ensure_form, save_form, submit_audit
from audit.models import AppealDecision, AuditResult, AuditTask, TaskStatus
from audit.selectors import scores_by_person
from dcc.errors import Conflict, InvalidInput, NotPermitted
from kpi.models import ScoreEvent
from kpi.scorecards import scorecards, set_point_rule
from leads.models import EventKind, HandoffReason
from leads.stages import Stage
from tests.audit.conftest import WEEK, defeated, during, invalidated
from tests.kit import assert_recorded

pytestmark = pytest.mark.django_db


def full_marks(form) -> dict[int, int]:
    return {item.pk: item.points for item in form.items.all()}


@pytest.fixture
def drawn(team):
    """A defeat of consultant 1's and an invalid mark of agent 1's in WEEK, drawn."""
    defeated(team, team.consultant, during(WEEK, 1))
    invalidated(team, team.dcc_agent, during(WEEK, 2))
    draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=3)
    return {task.source: task for task in AuditTask.objects.select_related("lead")}


def test_the_default_forms_have_the_check_items(team):
    call = ensure_form(team.dealer, sources.CALL)
    texts = [item.text for item in call.items.all()]
    assert texts[0] == "Greeting and introduction" and len(texts) == 6
    assert [item.link for item in call.items.all()].count("script") == 1
    assert sum(item.points for item in call.items.all()) == 100
    assert ensure_form(team.dealer, sources.CALL).pk == call.pk  # made once


def test_a_changed_form_is_a_new_version_and_a_started_audit_keeps_its_own(team, drawn):
    shown = ensure_form(team.dealer, sources.DEFEAT)
    newer = save_form(
        dealer=team.dealer, by=team.auditor, source=sources.DEFEAT,
        items=[("回访客户核实战败原因", 50, True, ""), ("跟进次数足够", 50, False, "")],
    )  # fmt: skip
    assert (shown.version, newer.version) == (1, 2)
    shown.refresh_from_db()
    assert not shown.is_current and newer.is_current
    # The auditor opened the task before the change: the audit is scored on version 1.
    audit = submit_audit(
        task=drawn[sources.DEFEAT], by=team.auditor, form=shown,
        scores=full_marks(shown), result=AuditResult.PASS,
    )  # fmt: skip
    assert audit.form.version == 1 and audit.total_percent == 100
    assert ensure_form(team.dealer, sources.DEFEAT).pk == newer.pk


def test_the_total_counts_the_items_scored_and_leaves_out_what_does_not_apply(team, drawn):
    form = save_form(
        dealer=team.dealer, by=team.auditor, source=sources.DEFEAT,
        items=[("a", 10, True, ""), ("b", 20, True, ""), ("c", 30, False, "")],
    )  # fmt: skip
    a, b, c = form.items.all()
    assert actions.total_percent(form.items.all(), {a.pk: 10, b.pk: 5, c.pk: None}) == Decimal(
        "50.0"
    )
    assert actions.total_percent(form.items.all(), {a.pk: 7, b.pk: 20, c.pk: 0}) == Decimal("45.0")
    with pytest.raises(InvalidInput, match="required"):
        actions.total_percent(form.items.all(), {a.pk: 10, c.pk: 30})
    with pytest.raises(InvalidInput, match="0 to 10"):
        actions.total_percent(form.items.all(), {a.pk: 11, b.pk: 0})


def test_an_audit_closes_its_task_and_is_noted_on_the_lead(team, drawn):
    task = drawn[sources.INVALID]
    form = ensure_form(team.dealer, sources.INVALID)
    audit = submit_audit(
        task=task, by=team.auditor, form=form, scores={form.items.get().pk: 40},
        result=AuditResult.FAIL, finding="号码可拨通",
    )  # fmt: skip
    assert (audit.total_percent, audit.score, audit.person) == (40, 40, team.dcc_agent)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert_recorded(
        task.lead, EventKind.AUDITED, by=team.auditor, stage=Stage.INVALID, note="号码可拨通",
        data={"audit": audit.pk, "step": "audited", "source": "invalid", "score": "40.0",
              "result": "fail"},
    )  # fmt: skip
    with pytest.raises(Conflict, match="audited already"):
        submit_audit(task=task, by=team.auditor, form=form, scores={}, result="pass")


def test_nobody_audits_their_own_work_nor_do_others_than_the_audit_group(team, drawn):
    task = drawn[sources.DEFEAT]
    form = ensure_form(team.dealer, sources.DEFEAT)
    for person in (team.consultant, team.dcc_agent, team.headquarters):
        with pytest.raises(NotPermitted):
            submit_audit(task=task, by=person, form=form, scores=full_marks(form), result="pass")


def test_an_overturned_defeat_returns_to_its_owner_with_the_audit_in_its_history(team, drawn):
    task = drawn[sources.DEFEAT]
    form = ensure_form(team.dealer, sources.DEFEAT)
    audit = submit_audit(
        task=task, by=team.auditor, form=form, scores={i.pk: 0 for i in form.items.all()},
        result=AuditResult.OVERTURN, finding="客户说还没买车",
    )  # fmt: skip
    actions.overturn(audit=audit, by=team.auditor, note="仍想买车")
    lead = task.lead
    lead.refresh_from_db()
    assert (lead.stage, lead.owner_id) == (Stage.CONTACTED, team.consultant.pk)
    assert_recorded(
        lead, EventKind.OVERTURNED, by=team.auditor, stage=("defeated", "contacted"),
        data={"audit": audit.pk, "from": "defeated"},
    )  # fmt: skip
    assert lead.events.filter(kind=EventKind.AUDITED, data__audit=audit.pk).exists()
    with pytest.raises(Conflict):
        actions.overturn(audit=audit, by=team.auditor)


def test_an_invalid_mark_overturned_goes_to_whom_the_supervisor_names(team, drawn):
    task = drawn[sources.INVALID]
    form = ensure_form(team.dealer, sources.INVALID)
    audit = submit_audit(
        task=task, by=team.auditor, form=form, scores=full_marks(form), result="overturn"
    )
    with pytest.raises(NotPermitted, match="supervisor"):
        actions.overturn(audit=audit, by=team.auditor, to=team.dcc_agent_2)
    actions.overturn(audit=audit, by=team.dcc_supervisor, to=team.dcc_agent_2)
    lead = task.lead
    lead.refresh_from_db()
    assert (lead.stage, lead.owner_id) == (Stage.CONTACTED, team.dcc_agent_2.pk)
    handed = lead.events.get(kind=EventKind.HANDED_OFF, reason=HandoffReason.AUDIT)
    assert handed.from_owner_id == team.dcc_agent.pk


def test_a_call_audit_cannot_overturn(team, account):
    from tests.audit.conftest import recorded_call

    recorded_call(account, during(WEEK, 1))
    draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor)
    task = AuditTask.objects.get(source=sources.CALL)
    form = ensure_form(team.dealer, sources.CALL)
    with pytest.raises(InvalidInput):
        submit_audit(
            task=task, by=team.auditor, form=form, scores=full_marks(form), result="overturn"
        )
    audit = submit_audit(
        task=task, by=team.auditor, form=form, scores=full_marks(form), result="pass"
    )
    assert audit.lead is None  # a call without a lead: the audit is its own record


def test_an_audit_is_appealed_once_and_a_supervisor_decides(team, drawn):
    task = drawn[sources.INVALID]
    form = ensure_form(team.dealer, sources.INVALID)
    audit = submit_audit(
        task=task, by=team.auditor, form=form, scores={form.items.get().pk: 50}, result="fail"
    )
    with pytest.raises(NotPermitted):
        actions.appeal(audit=audit, by=team.dcc_agent_2, reason="not mine")
    with pytest.raises(InvalidInput):
        actions.appeal(audit=audit, by=team.dcc_agent, reason="  ")
    made = actions.appeal(audit=audit, by=team.dcc_agent, reason="空号，拨了三次")
    assert_recorded(task.lead, EventKind.AUDITED, by=team.dcc_agent, note="空号，拨了三次",
                    data={"audit": audit.pk, "step": "appealed"})  # fmt: skip
    with pytest.raises(Conflict, match="once"):
        actions.appeal(audit=audit, by=team.dcc_agent, reason="again")
    for person in (team.auditor, team.consultant, team.showroom_manager, team.headquarters):
        with pytest.raises(NotPermitted):
            actions.decide_appeal(appeal=made, by=person, decision="upheld")
    with pytest.raises(InvalidInput):
        actions.decide_appeal(appeal=made, by=team.dcc_supervisor, decision="granted")
    actions.decide_appeal(
        appeal=made, by=team.dcc_supervisor, decision=AppealDecision.GRANTED,
        corrected_percent=Decimal("90"), note="录音证实是空号",
    )  # fmt: skip
    audit.refresh_from_db()
    assert (audit.total_percent, audit.score, audit.result) == (50, 90, AuditResult.PASS)
    assert_recorded(task.lead, EventKind.AUDITED, by=team.dcc_supervisor, note="录音证实是空号",
                    data={"audit": audit.pk, "step": "granted", "score": "90.0"})  # fmt: skip
    with pytest.raises(Conflict):
        actions.decide_appeal(appeal=made, by=team.gm, decision="upheld")


def test_an_upheld_appeal_keeps_the_score(team, drawn):
    form = ensure_form(team.dealer, sources.DEFEAT)
    audit = submit_audit(
        task=drawn[sources.DEFEAT], by=team.auditor, form=form,
        scores={i.pk: i.points // 2 for i in form.items.all()}, result="fail",
    )  # fmt: skip
    made = actions.appeal(audit=audit, by=team.consultant, reason="客户确实买了别家")
    actions.decide_appeal(appeal=made, by=team.sales_manager, decision="upheld")
    audit.refresh_from_db()
    assert (audit.score, audit.result) == (50, AuditResult.FAIL)


def test_audit_results_feed_the_scorecards(team, drawn):
    form = ensure_form(team.dealer, sources.INVALID)
    submit_audit(
        task=drawn[sources.INVALID], by=team.auditor, form=form,
        scores={form.items.get().pk: 60}, result="fail",
    )  # fmt: skip
    month = date(2026, 11, 1)
    card = {c.person.pk: c for c in scorecards(dealer=team.dealer, month=month)}[team.dcc_agent.pk]
    assert (card.audits, card.audit_score) == (1, Decimal("60.0"))
    assert card.counts[ScoreEvent.AUDIT_FAILED] == 1 and card.counts[ScoreEvent.AUDIT_PASSED] == 0
    before = card.points
    set_point_rule(
        dealer=team.dealer, by=team.gm, role="dcc_agent", event=ScoreEvent.AUDIT_FAILED, points=-3
    )
    card = {c.person.pk: c for c in scorecards(dealer=team.dealer, month=month)}[team.dcc_agent.pk]
    # The dealer's first rule replaces the defaults: only the audit's −3 is left.
    assert card.points == -3 and before >= 0
    october = {c.person.pk: c for c in scorecards(dealer=team.dealer, month=date(2026, 10, 1))}
    assert october[team.dcc_agent.pk].audit_score is None
    found = scores_by_person([team.dealer.pk], during(WEEK, 0, 0), during(WEEK, 14, 0))
    assert found[team.dcc_agent.pk].average == Decimal("60.0")
