"""Defeat (战败) in a real browser: the consultant who owns an arrived lead asks for it to be
closed as defeated, the form refusing in place until a reason is chosen; the showroom
manager approves it from the defeat queue; the lead page and its timeline then say who did
what and when. The requester cannot approve their own request."""

from __future__ import annotations

import pytest

from leads import actions
from leads.models import CallOutcome, Event, Lead
from tests.factories import make_lead

pytestmark = pytest.mark.browser


def _act(page, action: str):
    """Open an action's panel on the lead page and return it."""
    panel = page.locator(f"details[data-action='{action}']")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    return panel


def _arrived_lead(team) -> Lead:
    """A lead the DCC agent reached and handed to the consultant, who checked it in."""
    lead = make_lead(
        team.dealer, by=team.platform_specialist, owner=team.dcc_agent, name="赵敏", car_model="S7"
    )
    lead = actions.log_call(lead=lead, by=team.dcc_agent, outcome=CallOutcome.REACHED)
    lead = actions.hand_off(lead=lead, by=team.dcc_agent, to=team.consultant)
    return actions.record_arrival(lead=lead, by=team.consultant)


def _post_from_page(page, path: str) -> int:
    """POST `path` from inside the page, with the page's own session and CSRF token, as a
    hand-made request would; return the HTTP status."""
    return page.evaluate(
        """async (path) => {
            const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const response = await fetch(path, {
                method: "POST",
                headers: {"X-CSRFToken": token, "HX-Request": "true"},
                body: new URLSearchParams({note: ""}),
            });
            return response.status;
        }""",
        path,
    )


def test_consultant_requests_defeat_and_manager_approves(open_session, team):
    lead = _arrived_lead(team)
    consultant = open_session(team.consultant)
    consultant.goto(f"/leads/{lead.pk}/")
    page = consultant.page
    page.get_by_test_id("stage").get_by_text("Arrived").wait_for()
    # Approval is a supervisor's: the owner is never offered it.
    assert page.locator("details[data-action='approve_defeat']").count() == 0
    assert page.locator("details[data-action='reject_defeat']").count() == 0

    # Without a reason: the error appears next to the Reason field, in place, nothing written.
    events_before = Event.objects.filter(lead=lead).count()
    page.evaluate("window.__notReloaded = true")
    panel = _act(page, "request_defeat")
    panel.get_by_label("Note").fill("客户嫌贵")
    panel.get_by_role("button", name="Request defeat").click()
    panel = page.locator("details[data-action='request_defeat']")
    reason_field = panel.locator("div.mb-2", has=page.get_by_label("Reason"))
    error = reason_field.get_by_role("alert")
    error.wait_for()
    assert error.inner_text().strip() == "This field is required."
    assert panel.get_attribute("open") is not None
    assert panel.get_by_label("Reason").get_attribute("aria-invalid") == "true"
    assert panel.get_by_label("Note").input_value() == "客户嫌贵"
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    assert Event.objects.filter(lead=lead).count() == events_before
    lead.refresh_from_db()
    assert (lead.defeat_pending, lead.exit_reason) == (False, "")
    consultant.screenshot("defeat-request-error")

    panel.get_by_label("Reason").select_option(label="Price")
    panel.get_by_role("button", name="Request defeat").click()
    page.locator("#lead-body .badge", has_text="Defeat requested").wait_for()
    page.locator("[data-testid='timeline'] li[data-kind='defeat_requested']").wait_for()
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    assert page.get_by_test_id("stage").inner_text().strip() == "Arrived"
    # Still nothing to approve for the requester, and a hand-made request is refused.
    assert page.locator("details[data-action='approve_defeat']").count() == 0
    assert page.locator("details[data-action='request_defeat']").count() == 0
    assert _post_from_page(page, f"/leads/{lead.pk}/act/approve_defeat/") in (403, 409)
    assert _post_from_page(page, f"/team/defeats/{lead.pk}/approve/") == 403
    lead.refresh_from_db()
    assert (lead.stage, lead.defeat_pending, lead.exit_reason) == ("arrived", True, "price")
    consultant.screenshot("defeat-requested")

    manager = open_session(team.showroom_manager)
    manager.goto("/team/defeats/")
    manager.page.get_by_test_id("pending-count").get_by_text("1").wait_for()
    row = manager.page.locator(f"#defeat-{lead.pk}")
    cells = row.locator("td").all_inner_texts()
    assert "赵敏" in cells[0]
    assert cells[1].strip() == "Arrived"
    assert cells[2].strip() == str(team.consultant)  # owner
    assert cells[3].strip() == str(team.consultant)  # requested by
    assert cells[4].strip() == "Price"
    assert cells[5].strip() not in ("", "—")  # requested at
    assert "客户嫌贵" in cells[6]
    manager.screenshot("defeats-queue")
    row.get_by_label("Note on the decision").fill("同意")
    row.get_by_role("button", name="Approve").click()
    manager.page.locator(f"#defeat-{lead.pk}[data-outcome='approve']").wait_for()
    assert "Defeat approved" in manager.page.locator(f"#defeat-{lead.pk}").inner_text()
    manager.screenshot("defeats-approved")

    lead.refresh_from_db()
    assert (lead.stage, lead.defeat_pending, lead.exit_reason) == ("defeated", False, "price")
    for session in (manager, consultant):
        session.goto(f"/leads/{lead.pk}/")
        session.page.get_by_test_id("stage").get_by_text("Defeated").wait_for()
        timeline = session.page.get_by_test_id("timeline")
        kinds = timeline.locator("li").evaluate_all("items => items.map(i => i.dataset.kind)")
        assert kinds[:2] == ["defeat_approved", "defeat_requested"]
        requested = timeline.locator("li[data-kind='defeat_requested']")
        approved = timeline.locator("li[data-kind='defeat_approved']")
        assert "Defeat requested" in requested.inner_text()
        assert str(team.consultant) in requested.inner_text()
        assert "Reason: Price" in requested.inner_text()
        assert "客户嫌贵" in requested.inner_text()
        assert "Defeat approved" in approved.inner_text()
        assert str(team.showroom_manager) in approved.inner_text()
        assert "Arrived → Defeated" in approved.inner_text()
        assert "同意" in approved.inner_text()
        for item in (requested, approved):
            assert item.locator(".when").inner_text().strip()
        # A closed lead offers neither another request nor an approval.
        assert session.page.locator("details[data-action='request_defeat']").count() == 0
        assert session.page.locator("details[data-action='approve_defeat']").count() == 0
    manager.screenshot("lead-defeated-manager")
