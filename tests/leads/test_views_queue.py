"""The DCC agent's queue as an agent uses it: new leads by SLA deadline, overdue follow-ups
in their own section, what is due today, the pool of unclaimed leads with a working claim,
the htmx refresh that returns only the queue body, and a query count that does not grow
with the queue."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Staff
from accounts.roles import Role
from leads import actions, selectors
from leads.models import CallOutcome, Event, EventKind, Lead, Task, TaskKind
from tests.conftest import Team
from tests.factories import make_lead
from tests.kit import login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def open_around_the_clock(team: Team):
    """SLA deadlines are then creation time plus the channel's minutes, whatever the hour
    the tests run at."""
    team.dealer.opens_at = team.dealer.closes_at = time(0, 0)
    team.dealer.save()


def section(response, testid: str) -> str:
    """The HTML of one queue section (`data-testid`)."""
    html = response.content.decode()
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</ul>", start)]


def lead_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/leads/(\d+)/"', html)]


def end_of_day():
    return timezone.localtime().replace(hour=23, minute=59, second=59, microsecond=0)


def later_today():
    """A moment still ahead today, however late the test runs."""
    now = timezone.now()
    return now + (end_of_day() - now) / 2


def contacted(team: Team, *, follow_up_at, owner: Staff | None = None, name="") -> Lead:
    owner = owner or team.dcc_agent
    lead = make_lead(team.dealer, owner=owner, name=name)
    # An overdue follow-up was set by a call before it fell due (live ones must be ahead).
    at = min(timezone.now(), follow_up_at - timedelta(minutes=1))
    return actions.log_call(
        lead=lead, by=owner, outcome=CallOutcome.REACHED, next_follow_up_at=follow_up_at, at=at
    )


# ---------------------------------------------------------------- who gets the queue


@pytest.mark.parametrize("role", ["dcc_agent", "dcc_supervisor", "consultant", "owner_ops"])
def test_queue_opens_for_the_people_who_have_tasks(team: Team, role: str):
    assert login(team.by_role(Role(role))).get("/queue/").status_code == 200


@pytest.mark.parametrize("role", ["auditor", "headquarters", "marketing_manager"])
def test_queue_is_refused_to_people_without_calls_to_make(team: Team, role: str):
    assert login(team.by_role(Role(role))).get("/queue/").status_code == 403


# ---------------------------------------------------------------- new leads


def test_new_leads_are_ordered_by_sla_deadline(team: Team):
    now = timezone.now()
    # Autohome: 15 minutes; the 400 hotline: 5; WeChat: 30.
    later = make_lead(team.dealer, owner=team.dcc_agent, name="晚", at=now - timedelta(minutes=1))
    overdue = make_lead(
        team.dealer, owner=team.dcc_agent, name="过", at=now - timedelta(minutes=20)
    )
    soon = make_lead(
        team.dealer, owner=team.dcc_agent, channel_code="hotline_400", name="急", at=now
    )
    last = make_lead(team.dealer, owner=team.dcc_agent, channel_code="wechat", name="慢", at=now)
    assert soon.sla_deadline < later.sla_deadline < last.sla_deadline

    response = login(team.dcc_agent).get("/queue/")

    new = section(response, "new-leads")
    assert lead_ids(new) == [overdue.pk, soon.pk, later.pk, last.pk]
    assert 'data-testid="new-count">4<' in response.content.decode()
    # The one past its deadline is marked, the others are not.
    rows = re.findall(
        r'<li class="([^"]*)">\s*<div>\s*<a class="fw-semibold" href="/leads/(\d+)/"', new
    )
    marked = {int(pk) for css, pk in rows if "row-overdue" in css}
    assert marked == {overdue.pk}


def test_new_leads_show_the_countdown_and_the_customer(team: Team):
    lead = make_lead(team.dealer, owner=team.dcc_agent, name="王小明", phone="13812345678")
    html = section(login(team.dcc_agent).get("/queue/"), "new-leads")
    assert "王小明" in html
    assert "13812345678" in html  # the owner calls the number
    assert 'class="dcc-countdown' in html
    assert f"/leads/{lead.pk}/" in html


@pytest.mark.parametrize(
    ("late", "english", "chinese"),
    [
        (timedelta(hours=18, minutes=3, seconds=16), "18 h overdue", "逾期 18 小时"),
        (timedelta(minutes=42, seconds=5), "42 min overdue", "逾期 42 分钟"),
        (timedelta(days=1, hours=2), "1 day overdue", "逾期 1 天"),
        (timedelta(days=3, hours=23), "3 days overdue", "逾期 3 天"),
    ],
)
def test_an_overdue_countdown_says_how_long_overdue(team: Team, late, english, chinese):
    lead = make_lead(
        team.dealer, owner=team.dcc_agent, at=timezone.now() - late - timedelta(hours=1)
    )
    Lead.objects.filter(pk=lead.pk).update(sla_deadline=timezone.now() - late)
    client = login(team.dcc_agent)

    for language, said in (("en", english), ("zh-hans", chinese)):
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        html = section(client.get("/queue/"), "new-leads")
        clock = re.search(r'<span class="dcc-countdown[^>]*>([^<]*)</span>', html)
        assert clock and clock.group(1) == said, html
        assert "dcc-overdue" in clock.group(0)
        # The live script gets the same phrases to say it again every second.
        assert "{n}" in clock.group(0)


def test_time_left_is_a_clock_from_the_first_paint(team: Team):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    Lead.objects.filter(pk=lead.pk).update(
        sla_deadline=timezone.now() + timedelta(hours=1, minutes=5, seconds=30)
    )
    html = section(login(team.dcc_agent).get("/queue/"), "new-leads")
    assert re.search(r'<span class="dcc-countdown[^>]*>1:05:(29|30)</span>', html), html


def test_only_my_new_leads_at_this_dealer(team: Team, other_team: Team):
    mine = make_lead(team.dealer, owner=team.dcc_agent)
    colleagues = make_lead(team.dealer, owner=team.dcc_agent_2)
    elsewhere = make_lead(other_team.dealer)

    ids = lead_ids(section(login(team.dcc_agent).get("/queue/"), "new-leads"))

    assert ids == [mine.pk]
    assert colleagues.pk not in ids and elsewhere.pk not in ids


def test_a_called_lead_leaves_the_new_leads(team: Team):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    actions.log_call(lead=lead, by=team.dcc_agent, outcome=CallOutcome.NO_ANSWER)

    response = login(team.dcc_agent).get("/queue/")

    assert lead.pk not in lead_ids(section(response, "new-leads"))
    assert "No new leads waiting." in response.content.decode()


# ---------------------------------------------------------------- overdue and due today


def test_overdue_and_due_today_sections(team: Team):
    now = timezone.now()
    late = contacted(team, follow_up_at=now - timedelta(hours=3), name="逾期")
    today = contacted(team, follow_up_at=later_today(), name="今天")
    tomorrow = contacted(team, follow_up_at=now + timedelta(days=2), name="后天")
    someone_elses = contacted(team, follow_up_at=now - timedelta(hours=1), owner=team.dcc_agent_2)

    response = login(team.dcc_agent).get("/queue/")

    overdue = section(response, "overdue")
    due_today = section(response, "due-today")
    assert lead_ids(overdue) == [late.pk]
    assert "Follow-up" in overdue
    assert lead_ids(due_today) == [today.pk]
    for html in (overdue, due_today, section(response, "new-leads")):
        assert tomorrow.pk not in lead_ids(html)
        assert someone_elses.pk not in lead_ids(html)
    assert 'data-testid="overdue-count">1<' in response.content.decode()


def test_the_coming_week_is_shown_below_today(team: Team, calendar_day):
    """Owner operations plans the week's return visits: today's, then the next seven days',
    nothing later."""
    now = timezone.now()
    ops = team.owner_ops
    due = {
        "yesterday": now - timedelta(days=1),
        "today": end_of_day() - timedelta(seconds=1),
        "tomorrow": end_of_day() + timedelta(hours=10),
        "in_six_days": now + timedelta(days=6),
        "in_nine_days": now + timedelta(days=9),
    }
    leads = {}
    for label, at in due.items():
        lead = make_lead(team.dealer, owner=team.consultant, name=label)
        Task.objects.create(
            dealer=team.dealer, lead=lead, assignee=ops, kind=TaskKind.RETURN_VISIT, due_at=at
        )
        leads[label] = lead.pk
    response = login(ops).get("/queue/")

    assert lead_ids(section(response, "overdue")) == [leads["yesterday"]]
    assert lead_ids(section(response, "due-today")) == [leads["today"]]
    coming = section(response, "coming")
    assert lead_ids(coming) == [leads["tomorrow"], leads["in_six_days"]]
    assert "Return visit" in coming


def test_overdue_tasks_are_ordered_oldest_first(team: Team):
    now = timezone.now()
    recent = contacted(team, follow_up_at=now - timedelta(hours=1))
    oldest = contacted(team, follow_up_at=now - timedelta(days=2))
    middle = contacted(team, follow_up_at=now - timedelta(hours=5))

    overdue = section(login(team.dcc_agent).get("/queue/"), "overdue")

    assert lead_ids(overdue) == [oldest.pk, middle.pk, recent.pk]


def test_a_new_lead_past_its_deadline_is_not_listed_twice(team: Team):
    lead = make_lead(team.dealer, owner=team.dcc_agent, at=timezone.now() - timedelta(hours=2))
    assert Task.objects.get(lead=lead, kind=TaskKind.FIRST_CALL).due_at < timezone.now()

    response = login(team.dcc_agent).get("/queue/")

    assert lead_ids(section(response, "new-leads")) == [lead.pk]
    assert lead.pk not in lead_ids(section(response, "overdue"))


def test_a_handed_off_lead_moves_to_the_new_owners_queue(team: Team):
    lead = contacted(team, follow_up_at=timezone.now() - timedelta(hours=1))
    actions.hand_off(lead=lead, by=team.dcc_agent, to=team.dcc_agent_2)

    assert lead.pk not in lead_ids(section(login(team.dcc_agent).get("/queue/"), "overdue"))
    assert lead.pk in lead_ids(section(login(team.dcc_agent_2).get("/queue/"), "overdue"))


def test_appointment_reminders_are_due_in_the_queue(team: Team):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    actions.book_appointment(
        lead=lead, by=team.dcc_agent, appointment_at=timezone.now() + timedelta(hours=2)
    )
    html = login(team.dcc_agent).get("/queue/").content.decode()
    assert f'href="/leads/{lead.pk}/">' in html
    assert "Appointment reminder" in html


# ---------------------------------------------------------------- htmx refresh


def test_htmx_refresh_returns_only_the_queue_body(team: Team):
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    client = login(team.dcc_agent)

    full = client.get("/queue/").content.decode()
    partial = client.get("/queue/", headers={"HX-Request": "true"})

    html = partial.content.decode()
    assert partial.status_code == 200
    assert html.lstrip().startswith('<div id="queue-body"')
    assert "<html" not in html and "<nav" not in html and "My queue</h1>" not in html
    assert f"/leads/{lead.pk}/" in html
    assert 'hx-get="/queue/"' in html and 'hx-trigger="every 10s"' in html
    assert 'id="queue-body"' in full and "<html" in full


def test_a_newly_assigned_lead_appears_on_the_next_refresh(team: Team):
    client = login(team.dcc_agent)
    before = client.get("/queue/", headers={"HX-Request": "true"}).content.decode()
    lead = make_lead(team.dealer, owner=team.dcc_agent)
    after = client.get("/queue/", headers={"HX-Request": "true"}).content.decode()
    assert f"/leads/{lead.pk}/" not in before
    assert f"/leads/{lead.pk}/" in after


# ---------------------------------------------------------------- the pool


@pytest.fixture
def pool_lead(team: Team) -> Lead:
    """A new lead held by the DCC supervisor while no agent had it: claimable."""
    return make_lead(team.dealer, owner=team.dcc_supervisor, name="池中")


def test_pool_leads_appear_for_agents(team: Team, pool_lead: Lead):
    mine = make_lead(team.dealer, owner=team.dcc_agent)
    colleagues = make_lead(team.dealer, owner=team.dcc_agent_2)

    response = login(team.dcc_agent).get("/queue/")

    pool = section(response, "pool")
    assert lead_ids(pool) == [pool_lead.pk]
    assert f'action="/leads/{pool_lead.pk}/act/claim/"' in pool
    assert mine.pk not in lead_ids(pool) and colleagues.pk not in lead_ids(pool)


def test_the_pool_is_only_for_agents(team: Team, pool_lead: Lead):
    for staff in (team.dcc_supervisor, team.consultant):
        assert 'data-testid="pool"' not in login(staff).get("/queue/").content.decode()


def test_a_pool_lead_no_longer_new_is_not_in_the_pool(team: Team, pool_lead: Lead):
    actions.log_call(lead=pool_lead, by=team.dcc_supervisor, outcome=CallOutcome.REACHED)
    assert 'data-testid="pool"' not in login(team.dcc_agent).get("/queue/").content.decode()


def claim_form_data(response, lead: Lead) -> dict:
    """The hidden fields of the pool's claim form for `lead`, as the browser posts them."""
    html = section(response, "pool")
    form = html.split(f'action="/leads/{lead.pk}/act/claim/"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_claiming_from_the_pool_takes_the_lead_and_is_recorded(team: Team, pool_lead: Lead):
    client = login(team.dcc_agent)
    data = claim_form_data(client.get("/queue/"), pool_lead)

    response = client.post(f"/leads/{pool_lead.pk}/act/claim/", data)

    assert response.status_code == 302
    pool_lead.refresh_from_db()
    assert pool_lead.owner == team.dcc_agent
    event = Event.objects.get(lead=pool_lead, kind=EventKind.HANDED_OFF)
    assert (event.actor, event.from_owner, event.to_owner, event.reason) == (
        team.dcc_agent,
        team.dcc_supervisor,
        team.dcc_agent,
        "claim",
    )
    assert Task.objects.get(lead=pool_lead, kind=TaskKind.FIRST_CALL).assignee == team.dcc_agent
    queue = client.get("/queue/")
    assert pool_lead.pk in lead_ids(section(queue, "new-leads"))
    assert 'data-testid="pool"' not in queue.content.decode()
    assert "Claim: done." in [str(m) for m in get_messages(response.wsgi_request)]


def test_a_lead_claimed_by_a_colleague_cannot_be_claimed_again(team: Team, pool_lead: Lead):
    slow = login(team.dcc_agent_2)
    data = claim_form_data(slow.get("/queue/"), pool_lead)
    login(team.dcc_agent).post(
        f"/leads/{pool_lead.pk}/act/claim/", claim_form_data(slow.get("/queue/"), pool_lead)
    )
    assert Lead.objects.get(pk=pool_lead.pk).owner == team.dcc_agent
    handoffs = Event.objects.filter(lead=pool_lead, kind=EventKind.HANDED_OFF).count()

    response = slow.post(f"/leads/{pool_lead.pk}/act/claim/", data)

    assert response.status_code == 409
    assert Lead.objects.get(pk=pool_lead.pk).owner == team.dcc_agent
    assert Event.objects.filter(lead=pool_lead, kind=EventKind.HANDED_OFF).count() == handoffs


def test_claim_is_offered_on_the_pool_leads_page_to_an_agent(team: Team, pool_lead: Lead):
    html = login(team.dcc_agent).get(f"/leads/{pool_lead.pk}/").content.decode()
    assert 'data-action="claim"' in html
    mine = make_lead(team.dealer, owner=team.dcc_agent)
    assert (
        'data-action="claim"'
        not in login(team.dcc_agent).get(f"/leads/{mine.pk}/").content.decode()
    )


# ---------------------------------------------------------------- query count


def queue_queries(client: Client, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/queue/", headers=headers)
    assert response.status_code == 200
    return len(queries)


def fill_queue(team: Team, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        kind = i % 4
        if kind == 0:
            make_lead(team.dealer, owner=team.dcc_agent, name="新")
        elif kind == 1:
            contacted(team, follow_up_at=now - timedelta(hours=i + 1), name="逾")
        elif kind == 2:
            contacted(team, follow_up_at=later_today(), name="今")
        else:
            make_lead(team.dealer, owner=team.dcc_supervisor, name="池")


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "refresh"])
def test_queue_query_count_does_not_grow_with_the_queue(team: Team, htmx: bool):
    headers = {"HX-Request": "true"} if htmx else {}
    client = login(team.dcc_agent)
    fill_queue(team, 4)
    queue_queries(client, **headers)
    small = queue_queries(client, **headers)

    fill_queue(team, 28)
    response = client.get("/queue/")
    assert len(lead_ids(section(response, "pool"))) == 8
    large = queue_queries(client, **headers)

    assert large == small


# ---------------------------------------------------------------- a long queue


def test_a_long_queue_shows_its_first_rows_and_counts_them_all(
    team: Team, monkeypatch, calendar_day
):
    monkeypatch.setattr(selectors, "QUEUE_ROWS", 2)
    now = timezone.now()
    waiting = [
        make_lead(team.dealer, owner=team.dcc_agent, at=now - timedelta(minutes=m))
        for m in (1, 3, 2)
    ]
    late = [contacted(team, follow_up_at=now - timedelta(hours=h)) for h in (1, 2, 3)]
    ahead = [contacted(team, follow_up_at=end_of_day() + timedelta(days=d)) for d in (3, 1, 2)]

    response = login(team.dcc_agent).get("/queue/")
    html = response.content.decode()

    # The nearest deadlines first (the oldest leads here), all three counted.
    assert lead_ids(section(response, "new-leads")) == [waiting[1].pk, waiting[2].pk]
    assert 'data-testid="new-count">3<' in html
    assert lead_ids(section(response, "overdue")) == [late[2].pk, late[1].pk]
    assert 'data-testid="overdue-count">3<' in html
    # The coming week starts after today's end, wherever in the day, month or year "now" is.
    assert lead_ids(section(response, "coming")) == [ahead[1].pk, ahead[2].pk]
    assert 'data-testid="coming-count">3<' in html
    assert html.count("The first 2 of 3, the most urgent first.") == 3
