"""The audit group's pages: who opens which (one table), another dealer's audits 404, the
forms working through the pages, the pages in Chinese, and their query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.roles import Role
from audit import sources
from audit.actions import ensure_form
from audit.models import Audit
from calls.models import Recording
from leads.stages import Stage
from tests.audit.conftest import WEEK, during, recorded_call
from tests.kit import login

pytestmark = pytest.mark.django_db
WEEK_QUERY = f"?week={WEEK.isoformat()}"


# Who opens which page at their own dealer: 200, or refused (403).
AUDIT_GROUP = {
    Role.AUDITOR,
    Role.GM,
    Role.SALES_MANAGER,
    Role.DCC_SUPERVISOR,
    Role.SHOWROOM_MANAGER,
}
DECIDERS = {Role.GM, Role.SALES_MANAGER, Role.DCC_SUPERVISOR}
PAGES = {
    "workbench": (lambda a: reverse("audit_workbench"), AUDIT_GROUP | {Role.HEADQUARTERS}),
    "task": (
        lambda a: reverse("audit_task", args=[a["call_task"].pk]),
        AUDIT_GROUP | {Role.HEADQUARTERS},
    ),
    "appeals": (lambda a: reverse("audit_appeals"), DECIDERS),
    "mine": (lambda a: reverse("audit_mine"), set(Role) - {Role.HEADQUARTERS}),
}


@pytest.mark.parametrize("role", list(Role), ids=[str(r) for r in Role])
def test_each_role_opens_exactly_its_pages(team, audited, role):
    client = login(team.by_role(role))
    for name, (url, allowed) in PAGES.items():
        status = client.get(url(audited)).status_code
        if role in allowed:
            assert status == 200, f"{role} {name}: {status}"
        else:
            assert status in (403, 404), f"{role} {name}: {status}"


def test_another_dealers_audits_are_not_found(team, other_team, audited):
    for person in (other_team.auditor, other_team.gm):
        client = login(person)
        assert client.get(reverse("audit_task", args=[audited["call_task"].pk])).status_code == 404
        audit = audited["audit"]
        assert client.post(reverse("audit_overturn", args=[audit.pk])).status_code == 404
    decide = reverse("audit_decide", args=[audited["audit"].appeal.pk])
    assert login(other_team.gm).post(decide, {"decision": "upheld"}).status_code == 404
    assert (
        login(other_team.dcc_agent)
        .post(reverse("audit_appeal", args=[audited["audit"].pk]), {"reason": "x"})
        .status_code
        == 404
    )


def test_headquarters_reads_but_does_not_act(team, audited):
    client = login(team.headquarters)
    page = client.get(reverse("audit_task", args=[audited["call_task"].pk])).content.decode()
    assert "Save the audit" not in page
    assert client.post(reverse("audit_draw"), {"week": WEEK.isoformat()}).status_code == 403
    assert client.post(reverse("audit_overturn", args=[audited["audit"].pk])).status_code == 403


def test_an_audit_page_shows_the_call_and_scores_it(team, audited):
    task = audited["call_task"]
    client = login(team.auditor)
    page = client.get(reverse("audit_task", args=[task.pk])).content.decode()
    recording = Recording.objects.get(call_id=task.item_id)
    assert reverse("call_recording", args=[recording.pk]) in page  # the calls' player
    assert "139****2222" in page and "13911112222" not in page  # the customer masked
    assert "Thank you for calling" in page  # the default inbound script applied
    form = ensure_form(team.dealer, sources.CALL)
    data = {"form": form.pk, "result": "pass", "finding": "规范"}
    data |= {f"item_{item.pk}": item.points for item in form.items.all()}
    response = client.post(reverse("audit_task", args=[task.pk]), data)
    assert response.status_code == 302
    assert Audit.objects.get(task=task).total_percent == 100


def test_a_missing_required_score_is_shown_in_place(team, audited):
    task = audited["call_task"]
    form = ensure_form(team.dealer, sources.CALL)
    response = login(team.auditor).post(
        reverse("audit_task", args=[task.pk]), {"form": form.pk, "result": "pass"}
    )
    assert response.status_code == 422 and not Audit.objects.filter(task=task).exists()


def test_overturn_appeal_and_decision_through_the_pages(team, audited):
    audit, lead = audited["audit"], audited["lead"]
    login(team.dcc_supervisor).post(
        reverse("audit_overturn", args=[audit.pk]), {"to": team.consultant_2.pk, "note": "再跟"}
    )
    lead.refresh_from_db()
    assert (lead.stage, lead.owner_id) == (Stage.CONTACTED, team.consultant_2.pk)
    login(team.gm).post(
        reverse("audit_decide", args=[audit.appeal.pk]), {"decision": "granted", "corrected": "85"}
    )
    audit.refresh_from_db()
    assert audit.score == 85
    page = login(team.consultant).get(reverse("audit_mine")).content.decode()
    assert "客户已在别家提车" in page and "85.0 %" in page


def test_the_draw_through_the_workbench(team, account):
    recorded_call(account, during(WEEK, 3))
    client = login(team.auditor)
    response = client.post(reverse("audit_draw"), {"week": WEEK.isoformat()}, follow=True)
    assert "Drew 1 items" in response.content.decode()
    again = client.post(reverse("audit_draw"), {"week": WEEK.isoformat()}, follow=True)
    assert "was drawn already" in again.content.decode()


def test_the_pages_speak_chinese(team, audited):
    client = login(team.auditor, language="zh-hans")
    page = client.get(reverse("audit_workbench") + WEEK_QUERY).content.decode()
    assert "监察" in page and "抽样" in page
    task = client.get(reverse("audit_task", args=[audited["call_task"].pk])).content.decode()
    assert "问候" in task
    mine = login(team.consultant, language="zh-hans").get(reverse("audit_mine")).content.decode()
    assert "我的监察结果" in mine and "申诉" in mine
