"""Every main page, opened by a role that works there, on a phone (375 px) and a desktop
(1440 px), in Chinese and English: it loads, runs without JavaScript errors, does not scroll
sideways, names every visible form control, and leaves a screenshot
`<page>-<lang>-<width>.png` in var/screenshots/ for a person to look at.

One logged-in session per role and width; the language is switched by its cookie. Every
problem found is collected, so one run lists them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.conf import settings
from django.utils import timezone

from leads import actions
from leads.models import CallOutcome, Channel, Lead
from owners import events
from owners.models import Invitation
from tests.factories import make_lead

pytestmark = pytest.mark.browser

LANGUAGES = ("zh-hans", "en")

# Visible inputs, selects and textareas with no accessible name from a <label> (for= or
# wrapping), aria-label or aria-labelledby. A placeholder or a title is not a label.
UNLABELLED_CONTROLS = """() => {
    const shown = (el) => el.getClientRects().length > 0
        && getComputedStyle(el).visibility !== "hidden";
    const text = (el) => (el ? el.textContent.trim() : "");
    const named = (el) => (el.getAttribute("aria-label") || "").trim()
        || (el.getAttribute("aria-labelledby") || "").split(/\\s+/)
            .some((id) => text(document.getElementById(id)))
        || Array.from(el.labels || []).some((label) => text(label));
    return Array.from(document.querySelectorAll("input, select, textarea"))
        .filter((el) => el.type !== "hidden" && shown(el) && !named(el))
        .map((el) => el.outerHTML.slice(0, 160));
}"""

# What sticks out past the right edge of the page: elements not inside a sideways scroller,
# and absolutely positioned ones (which escape a scroller without a positioned ancestor).
STICKING_OUT = """() => {
    const escapes = (el) => {
        if (["absolute", "fixed"].includes(getComputedStyle(el).position)) return true;
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
            if (getComputedStyle(up).overflowX !== "visible") return false;
        }
        return true;
    };
    return Array.from(document.querySelectorAll("body *"))
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5 && escapes(el))
        .slice(0, 4)
        .map((el) => `<${el.tagName.toLowerCase()} class="${el.className}">`
            + ` ${el.textContent.trim().slice(0, 30)} (right edge at`
            + ` ${Math.round(el.getBoundingClientRect().right)} px)`);
}"""
FITS = "document.documentElement.scrollWidth <= window.innerWidth"


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # attribute of the `team` fixture
    path: str
    open_details: bool = False  # also check the action forms folded in <details>


def _prepare(team) -> dict[str, int]:
    """A working day at the dealer: new, contacted and appointed leads in the DCC queue, a
    customer in the showroom, a defeat waiting for approval, an agent on leave."""
    now = timezone.now()
    agent, consultant = team.dcc_agent, team.consultant
    make_lead(team.dealer, by=team.platform_specialist, owner=agent, name="王一鸣", car_model="S7")
    follow = make_lead(
        team.dealer,
        by=team.platform_specialist,
        owner=agent,
        name="王二小",
        at=now - timedelta(hours=3),
    )
    actions.log_call(
        lead=follow,
        by=agent,
        outcome=CallOutcome.REACHED,
        grade="B",
        next_follow_up_at=now - timedelta(hours=1),
        at=now - timedelta(hours=2),  # set before it fell due
        note="客户说下周再联系，想先比较几家4S店的报价和金融方案。",
    )
    booked = make_lead(
        team.dealer,
        by=team.platform_specialist,
        owner=agent,
        name="欧阳娜娜",
        car_model="S7 四驱长续航版",
        channel_code="directory_12114",
    )
    booked = actions.log_call(
        lead=booked, by=agent, outcome=CallOutcome.REACHED, duration_seconds=245, grade="H"
    )
    visit = (now + timedelta(minutes=30)).replace(second=0, microsecond=0)
    booked = actions.book_appointment(
        lead=booked, by=agent, appointment_at=visit, note="周六上午带家人来试驾"
    )
    handed = make_lead(team.dealer, by=team.platform_specialist, owner=agent, name="王小明")
    handed = actions.log_call(lead=handed, by=agent, outcome=CallOutcome.REACHED, grade="A")
    handed = actions.book_appointment(lead=handed, by=agent, appointment_at=visit)
    handed = actions.hand_off(lead=handed, by=agent, to=consultant, note="已约今晚到店")
    arrived = make_lead(
        team.dealer, by=team.platform_specialist, owner=consultant, name="李雷", car_model="S9"
    )
    arrived = actions.record_arrival(lead=arrived, by=consultant)
    actions.record_quote(lead=arrived, by=consultant, amount=189_000, car_model="S9 旗舰版")
    lost = make_lead(team.dealer, by=team.platform_specialist, owner=consultant, name="韩梅梅")
    lost = actions.record_arrival(lead=lost, by=consultant)
    actions.request_defeat(lead=lost, by=consultant, reason="price", note="隔壁店便宜八千")
    actions.record_absence(
        dealer=team.dealer,
        staff=team.dcc_agent_2,
        cover=agent,
        starts_at=now,
        ends_at=now + timedelta(days=2),
        by=team.dcc_supervisor,
        reason="病假",
    )
    # Owner operations: an owner who bought, invited to next week's event and signed up.
    sold = actions.check_in_visitor(
        dealer=team.dealer, phone="13977778888", by=consultant, name="赵先生", at=now
    )
    sold = actions.record_order(lead=sold, by=consultant, car_model="星途 瑶光")
    actions.record_delivery(lead=sold, by=consultant)
    starts = (now + timedelta(days=7)).replace(second=0, microsecond=0)
    event = events.create_event(
        dealer=team.dealer,
        by=team.owner_ops,
        fields=events.EventFields(
            title="星途新车发布会 · 车主专场",
            kind="launch",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            capacity=40,
            place="展厅",
            budget=30000,
        ),
    )
    events.invite(event=event, segment={}, by=team.owner_ops)
    invitation = Invitation.objects.get(event=event)
    events.sign_up(invitation=invitation, by=team.owner_ops, party_size=2)
    return {
        "event": event.pk,
        "code": invitation.code,
        "booked": booked.pk,
        "arrived": arrived.pk,
        "channel": Channel.objects.get(dealer=team.dealer, code="autohome").pk,
    }


def _pages(ids: dict[str, int]) -> list[Page]:
    return [
        Page("queue", "dcc_agent", "/queue/"),
        Page("lead", "dcc_agent", f"/leads/{ids['booked']}/", open_details=True),
        Page("lead-showroom", "consultant", f"/leads/{ids['arrived']}/", open_details=True),
        Page("lead-list", "sales_manager", "/leads/"),
        Page("search", "sales_manager", "/search/?q=" + quote("王")),
        Page("lead-new", "platform_specialist", "/leads/new/"),
        Page("showroom", "consultant", "/showroom/"),
        Page("team-board", "sales_manager", "/team/"),
        Page("team-defeats", "sales_manager", "/team/defeats/"),
        Page("team-reassign", "sales_manager", "/team/reassign/"),
        Page("team-absences", "sales_manager", "/team/absences/"),
        Page("settings", "sales_manager", "/settings/"),
        Page("settings-channels", "sales_manager", "/settings/channels/"),
        Page("settings-channel", "sales_manager", f"/settings/channels/{ids['channel']}/"),
        Page("settings-grades", "sales_manager", "/settings/grades/"),
        Page("settings-rules", "sales_manager", "/settings/rules/"),
        Page("settings-rule-new", "sales_manager", "/settings/rules/new/"),
        Page("settings-reasons", "sales_manager", "/settings/reasons/"),
        Page("settings-staff", "sales_manager", "/settings/staff/"),
        Page("settings-staff-new", "sales_manager", "/settings/staff/new/"),
        Page("owner-events", "owner_ops", "/owner-events/"),
        Page("owner-event", "owner_ops", f"/owner-events/{ids['event']}/", open_details=True),
        Page("owner-event-new", "owner_ops", "/owner-events/new/"),
        Page("owner-invitation", "owner_ops", f"/owner-events/invitations/{ids['code']}/"),
        Page("owner-event-door", "owner_ops", f"/owner-events/{ids['event']}/door/"),
        Page("owner-check-in", "owner_ops", f"/owner-events/check-in/{ids['code']}/"),
    ]


def _check(session, page: Page, language: str, width: int) -> list[str]:
    """Open `page` and return what is wrong with it."""
    label = f"{page.name} [{language}, {width}px]"
    tab = session.page
    response = tab.goto(session.base_url + page.path)
    problems = []
    if response is None or response.status != 200:
        return [f"{label}: HTTP {response.status if response else '—'}"]
    if tab.evaluate("document.documentElement.lang") != language:
        problems.append(f"{label}: <html lang> is not {language}")
    session.screenshot(f"{page.name}-{language}-{width}")
    if page.open_details:
        tab.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    if not tab.evaluate(FITS):
        problems.append(f"{label}: scrolls sideways: {tab.evaluate(STICKING_OUT)}")
    for control in tab.evaluate(UNLABELLED_CONTROLS):
        problems.append(f"{label}: no label for {control}")
    if session.errors:
        problems.append(f"{label}: JavaScript errors {session.errors}")
        session.errors.clear()
    return problems


@pytest.mark.parametrize("width", [375, 1440])
def test_main_pages_at_both_widths_in_both_languages(open_session, team, width):
    pages = _pages(_prepare(team))
    sessions = {}
    problems: list[str] = []
    for language in LANGUAGES:
        for page in pages:
            session = sessions.get(page.role)
            if session is None:
                staff = getattr(team, page.role)
                session = sessions[page.role] = open_session(staff, width=width)
            session.context.add_cookies(
                [
                    {
                        "name": settings.LANGUAGE_COOKIE_NAME,
                        "value": language,
                        "url": session.base_url,
                    }
                ]
            )
            problems += _check(session, page, language, width)
        if width < 992:  # the collapsed main menu, opened
            agent = sessions["dcc_agent"]
            agent.goto("/queue/")
            agent.page.locator("button.navbar-toggler").click()
            agent.page.locator("#nav-main.show").wait_for()
            agent.page.wait_for_timeout(400)  # the collapse animation
            agent.screenshot(f"menu-{language}-{width}")
            if not agent.page.evaluate(FITS):
                problems.append(f"menu [{language}, {width}px]: scrolls sideways")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("language", "said"), [("zh-hans", "逾期 18 小时"), ("en", "18 h overdue")]
)
def test_an_overdue_countdown_says_how_long_overdue(open_session, team, language, said):
    late = timezone.now() - timedelta(hours=18, minutes=3, seconds=16)
    lead = make_lead(
        team.dealer, by=team.platform_specialist, owner=team.dcc_agent, at=late - timedelta(hours=1)
    )
    Lead.objects.filter(pk=lead.pk).update(sla_deadline=late)
    agent = open_session(team.dcc_agent, language=language)
    agent.goto("/queue/")
    countdown = agent.page.locator("[data-testid=new-leads] .dcc-countdown")
    first_paint = countdown.text_content()
    agent.page.clock.run_for(2000)  # the script's ticks
    assert first_paint == countdown.text_content() == said
    agent.screenshot(f"queue-overdue-{language}")
    agent.goto(f"/leads/{lead.pk}/")
    agent.page.clock.run_for(2000)
    assert agent.page.locator("#lead-body .dcc-countdown").text_content() == said


@pytest.mark.parametrize("width", [375, 1440])
def test_a_very_long_search_keeps_the_page_to_the_screens_width(open_session, team, width):
    manager = open_session(team.sales_manager, width=width)
    manager.goto("/search/?q=" + "x" * 3000)
    heading = manager.page.get_by_role("heading", level=1)
    assert "xxx" in heading.inner_text()
    assert manager.page.evaluate(FITS), manager.page.evaluate(STICKING_OUT)
    manager.screenshot(f"search-long-{width}")
