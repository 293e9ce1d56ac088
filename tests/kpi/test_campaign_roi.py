"""The campaigns beside the channels on the dashboard: each campaign's return to date and its
cost per lead, arrival and order (on its actual cost, else its budget), each code's counts and
its line's, every number linked to the leads behind it, in a constant number of queries; and,
for any campaigns, leads and events, the figures equal a fresh count from the ledger."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns import campaigns, capture
from campaigns.models import CampaignLead, CampaignTouch
from campaigns.selectors import campaign_lead_ids
from dcc.errors import DomainError
from dcc.formats import format_money
from kpi import campaign_roi
from leads import actions
from leads.models import Event, EventKind
from tests.campaigns.conftest import fields
from tests.factories import make_lead
from tests.kit import count_queries, login

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def a_mobile() -> str:
    return f"137{next(_numbers):08d}"


def run(team, name: str, *, cost: str = "0", budget: str = "10000", staff=()):
    made = campaigns.create_campaign(
        dealer=team.dealer,
        by=team.marketing_manager,
        fields=fields(team.dealer, name=name, cost=Decimal(cost), budget=Decimal(budget)),
    )
    codes = [made.codes.get()] + [
        campaigns.issue_code(campaign=made, staff=person, by=team.gm) for person in staff
    ]
    return made, codes


def table(team):
    today = timezone.localdate()
    return campaign_roi.campaign_table(dealer_id=team.dealer.pk, first=today, last=today)


def test_the_dashboard_shows_each_campaign_with_its_codes_and_links_to_their_leads(team):
    _show, (own, consultants) = run(team, "上海车展", cost="12000", staff=[team.consultant])
    first = capture.capture(code=consultants.code, name="李雷", mobile=a_mobile()).lead
    second = capture.capture(code=consultants.code, name="韩梅梅", mobile=a_mobile()).lead
    capture.capture(code=own.code, name="王五", mobile=a_mobile())
    capture.capture(code=own.code, name="李雷", mobile=first.customer.phone)  # a repeat
    actions.record_arrival(lead=first, by=team.showroom_manager)
    actions.record_arrival(lead=second, by=team.showroom_manager)
    actions.record_order(lead=first, by=team.gm)

    client = login(team.gm)
    page = client.get("/dashboard/").content.decode()
    assert "上海车展" in page and f"Code of {team.consultant}" in page

    rows = {row.label: row for row in table(team)}
    total = rows["上海车展"]
    assert {k: n.value for k, n in total.counts.items()} == {
        "leads": 3,
        "touches": 1,
        "arrivals": 2,
        "orders": 1,
    }
    assert (total.cost, total.cost_is_budget) == ("¥12,000", False)
    assert (total.cost_per_lead, total.cost_per_arrival, total.cost_per_order) == (
        "¥4,000",
        "¥6,000",
        "¥12,000",
    )
    code_row = rows[f"Code of {team.consultant}"]
    assert {k: n.value for k, n in code_row.counts.items()} == {
        "leads": 2,
        "touches": 0,
        "arrivals": 2,
        "orders": 1,
    }
    assert code_row.cost_per_lead == ""  # a code has no cost of its own

    drilled = client.get(f"/dashboard/campaigns/leads/?{code_row.counts['arrivals'].drill}")
    assert drilled.status_code == 200
    shown = drilled.content.decode()
    assert "李雷" in shown and "韩梅梅" in shown and "王五" not in shown
    assert drilled.context["total"] == 2
    ordered = client.get(f"/dashboard/campaigns/leads/?{total.counts['orders'].drill}")
    assert [lead.pk for lead, _phone in ordered.context["rows"]] == [first.pk]


def test_without_an_actual_cost_the_budget_is_counted_and_said(team):
    run(team, "店头日", cost="0", budget="3000")
    rows = table(team)
    assert (rows[0].cost, rows[0].cost_is_budget, rows[0].cost_per_lead) == ("¥3,000", True, "—")


def test_a_campaign_not_running_in_the_month_is_not_shown(team):
    run(team, "上海车展")
    later = timezone.localdate() + timedelta(days=6)
    assert campaign_roi.campaign_table(dealer_id=team.dealer.pk, first=later, last=later) == []


@pytest.mark.parametrize(
    "query",
    ["campaign=x&figure=leads", "campaign=1&figure=spend", "figure=leads", "campaign=99999999"],
)
def test_the_drill_down_refuses_what_the_table_does_not_link_to(team, query):
    run(team, "上海车展")
    assert login(team.gm).get(f"/dashboard/campaigns/leads/?{query}").status_code == 400


def test_another_dealers_campaign_is_not_drilled_into(team, other_team):
    theirs, _codes = run(other_team, "别家车展")
    answer = login(team.gm).get(f"/dashboard/campaigns/leads/?campaign={theirs.pk}&figure=leads")
    assert answer.status_code == 400


def test_the_table_takes_the_same_queries_for_any_number_of_campaigns_and_codes(team):
    _show, (own,) = run(team, "小型巡展")
    capture.capture(code=own.code, name="访客", mobile=a_mobile())
    before = count_queries(lambda: table(team))
    for n in range(3):
        _made, codes = run(team, f"车展{n}", staff=[team.consultant, team.consultant_2])
        for code in codes:
            lead = capture.capture(code=code.code, name="访客", mobile=a_mobile()).lead
            actions.record_arrival(lead=lead, by=team.showroom_manager)
    assert count_queries(lambda: table(team)) == before <= 6


# ---------------------------------------------------------------- against the ledger

plans = st.fixed_dictionaries(
    {
        "costs": st.lists(
            st.tuples(st.sampled_from(["0", "999.99", "12000"]), st.sampled_from(["0", "5000"])),
            min_size=1,
            max_size=3,
        ),
        # Each visitor: which campaign, which of its codes, which of a few numbers (repeats
        # become touches), then what happens to their lead.
        "visitors": st.lists(
            st.tuples(
                st.integers(0, 2),
                st.integers(0, 2),
                st.integers(0, 5),
                st.lists(st.sampled_from(["arrive", "order", "deliver", "invalidate"]), max_size=3),
            ),
            max_size=8,
        ),
        "others": st.integers(0, 2),  # leads of no campaign, arrived
    }
)


def expected_from_the_ledger(campaign) -> dict[str, set[int]]:
    """The campaign's leads, and of those the ones with an arrival or an order in the ledger,
    counted in Python from the rows themselves."""
    mine = {row.lead_id for row in CampaignLead.objects.all() if row.campaign_id == campaign.pk}
    events = list(Event.objects.all())
    arrived = {e.lead_id for e in events if e.kind == EventKind.ARRIVED}
    ordered = {e.lead_id for e in events if e.kind == EventKind.ORDERED}
    touched = {row.lead_id for row in CampaignTouch.objects.all() if row.campaign_id == campaign.pk}
    return {
        "leads": mine,
        "arrivals": mine & arrived,
        "orders": mine & ordered,
        "touches": touched,
        "touch_count": sum(
            1 for row in CampaignTouch.objects.all() if row.campaign_id == campaign.pk
        ),
    }


def per(cost: Decimal, n: int) -> str:
    if not n:
        return "—"
    return format_money((cost / n).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=plans)
def test_the_figures_equal_a_fresh_count_from_the_ledger(team, plan):
    cache.clear()  # the capture's per-number limit: each example starts without
    with transaction.atomic():
        made = [
            run(team, f"活动{i}", cost=cost, budget=budget, staff=[team.consultant, team.dcc_agent])
            for i, (cost, budget) in enumerate(plan["costs"])
        ]
        phones = [a_mobile() for _ in range(6)]
        for which, code_at, phone_at, steps in plan["visitors"]:
            campaign, codes = made[which % len(made)]
            try:
                with transaction.atomic():
                    lead = capture.capture(
                        code=codes[code_at % len(codes)].code, name="访客", mobile=phones[phone_at]
                    ).lead
                    for step in steps:
                        lead.refresh_from_db()
                        if step == "arrive":
                            actions.record_arrival(lead=lead, by=team.showroom_manager)
                        elif step == "order":
                            actions.record_order(lead=lead, by=team.gm)
                        elif step == "deliver":
                            actions.record_delivery(lead=lead, by=team.gm)
                        else:
                            actions.invalidate_lead(lead=lead, by=team.gm, reason="no_intent")
            except DomainError:
                pass  # not allowed in the lead's stage now: nothing of it was written
        for _ in range(plan["others"]):
            actions.record_arrival(lead=make_lead(team.dealer), by=team.showroom_manager)

        rows = [row for row in table(team) if row.is_campaign]
        assert len(rows) == len(made)
        for row in rows:
            campaign = row.campaign
            expected = expected_from_the_ledger(campaign)
            counted = {name: number.value for name, number in row.counts.items()}
            assert counted == {
                "leads": len(expected["leads"]),
                "touches": expected["touch_count"],
                "arrivals": len(expected["arrivals"]),
                "orders": len(expected["orders"]),
            }
            for figure in ("leads", "arrivals", "orders", "touches"):
                assert set(campaign_lead_ids(campaign, figure=figure)) == expected[figure]
            cost = campaign.cost or campaign.budget
            assert row.cost_per_lead == per(cost, len(expected["leads"]))
            assert row.cost_per_arrival == per(cost, len(expected["arrivals"]))
            assert row.cost_per_order == per(cost, len(expected["orders"]))
        transaction.set_rollback(True)
