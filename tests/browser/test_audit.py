"""The customer audit group in a real browser, in Chinese: the auditor draws last week's
sample, scores a recorded call against the script that applied, and overturns a defeat after
calling the customer back, which returns the lead to the consultant who had it."""

from __future__ import annotations

import pytest

from audit import sources
from audit.actions import set_plan
from audit.models import Audit, AuditTask
from leads.models import EventKind, Lead
from leads.stages import Stage
from tests.audit.conftest import WEEK, defeated, during, recorded_call
from tests.calls.reports import phone_account
from tests.conftest import OFFICE_HOURS_NOW

pytestmark = pytest.mark.browser


def test_the_auditor_draws_scores_a_call_and_overturns_a_defeat(open_session, team, fixed_clock):
    fixed_clock.move_to(OFFICE_HOURS_NOW)  # Wednesday 18 November; WEEK is the week before
    account = phone_account(team)
    call = recorded_call(account, during(WEEK, 1))
    lost = defeated(team, team.consultant, during(WEEK, 2))
    for source in (sources.CALL, sources.DEFEAT):  # all of it, so the test knows what is drawn
        set_plan(dealer=team.dealer, by=team.auditor, source=source, share_percent=100,
                 min_per_person=1)  # fmt: skip

    auditor = open_session(team.auditor, language="zh-hans")
    auditor.goto("/audit/")
    draw = auditor.page.locator("form[action='/audit/draw/']")
    draw.locator("input[name=week]").fill(WEEK.isoformat())
    draw.get_by_role("button", name="抽样").click()
    auditor.page.wait_for_url(f"**/audit/?week={WEEK.isoformat()}")
    auditor.screenshot("audit-workbench-zh-hans")
    tasks = {task.source: task for task in AuditTask.objects.filter(sample__week=WEEK)}
    assert set(tasks) == {sources.CALL, sources.DEFEAT}

    # The call, against the script that applied: every check item but one fully met.
    auditor.goto(f"/audit/tasks/{tasks[sources.CALL].pk}/")
    assert auditor.page.get_by_test_id("script").inner_text().strip()
    assert "139****2222" in auditor.page.content() and "13911112222" not in auditor.page.content()
    scoring = auditor.page.locator("form", has=auditor.page.locator("input[name=form]"))
    items = scoring.locator("input[name^=item_]")
    for n in range(items.count()):
        field = items.nth(n)
        field.fill(field.get_attribute("max") or "1")
    items.first.fill("0")  # no greeting
    scoring.locator("select[name=result]").select_option("pass")
    scoring.locator("textarea[name=finding], input[name=finding]").fill("未按话术问候")
    auditor.screenshot("audit-call-zh-hans")
    scoring.get_by_role("button", name="保存监察").click()
    auditor.page.get_by_test_id("audit-result").wait_for()
    audit = Audit.objects.get(task=tasks[sources.CALL])
    assert 0 < audit.total_percent < 100 and audit.person_id == call.agent_id

    # The defeat: the customer, called back, still wants a car.
    auditor.goto(f"/audit/tasks/{tasks[sources.DEFEAT].pk}/")
    scoring = auditor.page.locator("form", has=auditor.page.locator("input[name=form]"))
    items = scoring.locator("input[name^=item_]")
    for n in range(items.count()):
        items.nth(n).fill("0")
    scoring.locator("select[name=result]").select_option("overturn")
    scoring.locator("textarea[name=finding], input[name=finding]").fill("回访客户仍想买车")
    scoring.get_by_role("button", name="保存监察").click()
    auditor.page.get_by_role("button", name="推翻").click()
    auditor.page.get_by_text("已推翻：线索重新跟进。").wait_for()
    auditor.screenshot("audit-overturned-zh-hans")

    lead = Lead.objects.get(pk=lost.pk)
    assert (lead.stage, lead.owner_id) == (Stage.CONTACTED, team.consultant.pk)
    overturned = lead.events.get(kind=EventKind.OVERTURNED)
    assert overturned.data["audit"] == Audit.objects.get(task=tasks[sources.DEFEAT]).pk
    consultant = open_session(team.consultant, language="zh-hans")
    consultant.goto(f"/leads/{lead.pk}/")
    assert "监察推翻" in consultant.page.locator("main").inner_text()
