"""Monthly order targets, worked back through the funnel at the dealer's own recent rates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import SettingsChange
from dcc.errors import InvalidInput, NotPermitted
from kpi.targets import set_order_target, target_plan

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=SHANGHAI)


def test_the_target_is_worked_back_at_the_recent_rates(team, spring):
    set_order_target(dealer=team.dealer, by=team.gm, month=date(2026, 6, 17), orders=5)
    plan = target_plan(dealer=team.dealer, month=date(2026, 6, 1), today=date(2026, 6, 15))
    assert plan.basis == (date(2026, 3, 1), date(2026, 5, 31))
    steps = {step.measure: step for step in plan.steps}
    # 5 orders at 2 of 8 arrivals → 20 arrivals; at 8 of 10 booked → 25 appointments; at 10
    # of 20 leads → 50 leads.
    assert [(s.measure, s.needed) for s in plan.steps] == [
        ("ordered", 5),
        ("arrived", 20),
        ("appointed", 25),
        ("leads", 50),
    ]
    assert steps["ordered"].conversion == pytest.approx(0.25)
    # Two agents share 50 leads over June's 30 days; two consultants share 5 orders.
    assert steps["leads"].per_person_per_day == pytest.approx(50 / 2 / 30)
    assert steps["ordered"].per_person_per_day == pytest.approx(5 / 2 / 30)
    # Half the month gone: 25 leads were due by now, 3 came; 1 of 10 arrivals due.
    assert plan.elapsed == pytest.approx(0.5)
    assert (steps["leads"].done, steps["leads"].due_by_now, steps["leads"].behind) == (3, 25, True)
    assert (steps["arrived"].done, steps["arrived"].behind) == (1, True)


def test_without_recent_arrivals_the_earlier_steps_cannot_be_worked_out(team):
    set_order_target(dealer=team.dealer, by=team.gm, month=date(2026, 6, 1), orders=4)
    plan = target_plan(dealer=team.dealer, month=date(2026, 6, 1), today=date(2026, 7, 2))
    assert [(s.measure, s.needed) for s in plan.steps] == [
        ("ordered", 4),
        ("arrived", None),
        ("appointed", None),
        ("leads", None),
    ]
    assert plan.elapsed == 1


def test_only_the_gm_and_sales_manager_set_targets_and_each_change_is_recorded(team):
    with pytest.raises(NotPermitted):
        set_order_target(dealer=team.dealer, by=team.dcc_supervisor, month=date(2026, 6, 1),
                         orders=3)  # fmt: skip
    with pytest.raises(InvalidInput) as error:
        set_order_target(dealer=team.dealer, by=team.gm, month=date(2026, 6, 1), orders=-1)
    assert error.value.field == "orders"
    set_order_target(dealer=team.dealer, by=team.gm, month=date(2026, 6, 1), orders=3)
    set_order_target(dealer=team.dealer, by=team.sales_manager, month=date(2026, 6, 9), orders=4)
    assert target_plan(dealer=team.dealer, month=date(2026, 6, 1)).orders == 4
    changes = SettingsChange.objects.filter(dealer=team.dealer, what="order_target")
    assert [(c.changed_by, c.detail["orders"]) for c in changes.order_by("pk")] == [
        (team.gm, 3),
        (team.sales_manager, 4),
    ]
    assert target_plan(dealer=team.dealer, month=date(2026, 7, 1)) is None
