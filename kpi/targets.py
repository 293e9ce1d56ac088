"""Targets: a dealer's monthly order target, decomposed backwards through the funnel at the
dealer's own recent rates (its three months before) into the arrivals, appointments and leads
it takes, per person per day; and the month's progress against the pace it needs."""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import record_change
from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from dcc.errors import InvalidInput, NotPermitted
from kpi.measures import counts
from kpi.models import OrderTarget
from kpi.registry import MEASURES, View
from kpi.selectors import day_window
from leads.permissions import may_set_targets

MAX_ORDERS = 100_000
TRAILING_MONTHS = 3
# The funnel walked backwards: each step's measure, the measure before it, and who works it.
STEPS = (
    ("ordered", "arrived", Role.CONSULTANT),
    ("arrived", "appointed", Role.DCC_AGENT),
    ("appointed", "leads", Role.DCC_AGENT),
    ("leads", None, Role.DCC_AGENT),
)


@dataclass(frozen=True)
class Step:
    measure: str
    name: str
    needed: int | None  # None: no recent rate to work it out from
    done: int  # so far this month
    due_by_now: float | None  # what the pace asks for by today
    per_person_per_day: float | None
    conversion: float | None  # to the next step, at the recent rate

    @property
    def behind(self) -> bool:
        return self.due_by_now is not None and self.done < math.floor(self.due_by_now)


@dataclass(frozen=True)
class TargetPlan:
    dealer: Dealer
    month: date
    orders: int
    elapsed: float  # share of the month gone by (1 for a past month)
    basis: tuple[date, date]  # the months whose rates the plan uses
    steps: list[Step]


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def set_order_target(*, dealer: Dealer, by: Staff, month: date, orders: int) -> OrderTarget:
    """The GM or sales manager sets (or changes) the month's order target; recorded."""
    if not may_set_targets(by, dealer.pk):
        raise NotPermitted(_("Only the general manager and the sales manager set targets."))
    if not 0 <= orders <= MAX_ORDERS:
        raise InvalidInput(
            _("An order target is a whole number from 0 to %(max)d.") % {"max": MAX_ORDERS},
            field="orders",
        )
    month = first_of_month(month)
    with transaction.atomic():
        target, _created = OrderTarget.objects.update_or_create(
            dealer=dealer,
            month=month,
            defaults={"orders": orders, "set_by": by, "set_at": timezone.now()},
        )
        record_change(
            dealer=dealer,
            by=by,
            what="order_target",
            subject=month.strftime("%Y-%m"),
            detail={"orders": orders},
        )
    return target


def target_plan(*, dealer: Dealer, month: date, today: date | None = None) -> TargetPlan | None:
    """The month's target worked back through the funnel, with progress; None without one."""
    month = first_of_month(month)
    target = OrderTarget.objects.filter(dealer=dealer, month=month).first()
    if target is None:
        return None
    today = today or timezone.localdate()
    days = calendar.monthrange(month.year, month.month)[1]
    last = month + timedelta(days=days - 1)
    elapsed = min(1.0, max(0.0, ((today - month).days + 1) / days))
    basis_first = first_of_month(month - timedelta(days=1))
    for _month in range(TRAILING_MONTHS - 1):
        basis_first = first_of_month(basis_first - timedelta(days=1))
    basis = (basis_first, month - timedelta(days=1))
    recent = _counts(dealer, *basis)
    so_far = _counts(dealer, month, min(last, max(month, today)))
    people = _people(dealer)

    steps: list[Step] = []
    needed: float | None = float(target.orders)
    for measure, before, role in STEPS:
        whole = None if needed is None else math.ceil(needed - 1e-9)
        conversion = None
        if before is not None:
            conversion = recent[measure] / recent[before] if recent[before] else None
        steps.append(
            Step(
                measure=measure,
                name=str(MEASURES[measure].name),
                needed=whole,
                done=so_far[measure],
                due_by_now=None if whole is None else whole * elapsed,
                per_person_per_day=(
                    None if whole is None or not people[role] else whole / people[role] / days
                ),
                conversion=conversion,
            )
        )
        if before is not None:
            needed = None if needed is None or not conversion else needed / conversion
    return TargetPlan(
        dealer=dealer,
        month=month,
        orders=target.orders,
        elapsed=elapsed,
        basis=basis,
        steps=steps,
    )


def _counts(dealer: Dealer, first: date, last: date) -> dict[str, int]:
    window = day_window(dealer_ids=[dealer.pk], first=first, last=last, view=View.PERIOD)
    return {
        measure: counts(measure, window, None)[None] or 0
        for measure in ("leads", "appointed", "arrived", "ordered")
    }


def _people(dealer: Dealer) -> dict[Role, int]:
    """Active DCC agents and consultants: who shares the work."""
    return {
        role: Membership.objects.filter(
            dealer=dealer, role=role, is_active=True, staff__is_active=True
        ).count()
        for role in (Role.DCC_AGENT, Role.CONSULTANT)
    }
