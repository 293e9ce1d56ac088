"""Per-person scorecards: what each person did in a month (calls, talk time, leads handled,
appointments, arrivals, orders …) and the points the dealer's rules give for it, ranked
within each role.

Credit follows the ledger: an event counts for its actor, except an arrival, which counts
for whoever booked the visit (the DCC agent who invited), and a late follow-up, which counts
against the person the task was assigned to. What counts, and for whom, is the KPI registry's:
each scored event is one of its activity measures (kpi.measures.per_person). The audit
group's results count for the person audited, in the month of the audit (audit.selectors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import record_change
from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from audit.selectors import scores_by_person
from dcc.errors import InvalidInput, NotPermitted
from kpi.measures import per_person
from kpi.models import PointRule, ScoreEvent
from kpi.selectors import day_window
from kpi.targets import first_of_month
from leads.models import Team
from leads.permissions import may_set_targets
from leads.teams import teams_at

POINTS_RANGE = (-100, 100)
# Until a dealer sets its own: the common convention.
DEFAULT_RULES: dict[tuple[Role, ScoreEvent], int] = {
    (Role.DCC_AGENT, ScoreEvent.APPOINTMENT): 2,
    (Role.DCC_AGENT, ScoreEvent.ARRIVAL): 5,
    (Role.DCC_AGENT, ScoreEvent.OVERDUE_FOLLOW_UP): -1,
    (Role.CONSULTANT, ScoreEvent.ORDER): 5,
    (Role.CONSULTANT, ScoreEvent.DELIVERY): 3,
    (Role.CONSULTANT, ScoreEvent.OVERDUE_FOLLOW_UP): -1,
    (Role.OWNER_OPS, ScoreEvent.RETURN_VISIT): 1,
}


# The registry's activity measure (kpi.measures) behind each scored event: it says what
# counts and whom it is credited to (an arrival, whoever booked the visit).
SCORED: dict[ScoreEvent, str] = {
    ScoreEvent.CALL: "calls",
    ScoreEvent.CONTACT: "reached_calls",
    ScoreEvent.APPOINTMENT: "bookings",
    ScoreEvent.ARRIVAL: "visits",
    ScoreEvent.ORDER: "orders_taken",
    ScoreEvent.DELIVERY: "deliveries_made",
    ScoreEvent.RETURN_VISIT: "return_visits_reached",
    ScoreEvent.OVERDUE_FOLLOW_UP: "late_follow_ups",
}
# The audit results scored, from the audits of the month (audit.selectors.AuditScore).
AUDITED: dict[ScoreEvent, str] = {
    ScoreEvent.AUDIT_PASSED: "passed",
    ScoreEvent.AUDIT_FAILED: "failed",
}


@dataclass
class Scorecard:
    person: Staff
    role: Role
    team: Team | None = None  # the team they were in at the end of the month (or now)
    counts: dict[str, int] = field(default_factory=dict)  # per ScoreEvent
    talk_seconds: int = 0
    leads_handled: int = 0
    points: int = 0
    rank: int = 0  # within the role
    audits: int = 0  # of their work, made in the month
    audit_score: Decimal | None = None  # their average score (%), None without audits


def point_rules(dealer: Dealer) -> dict[tuple[Role, ScoreEvent], int]:
    """The dealer's rules, or the defaults while it has set none."""
    rules = {
        (Role(role), ScoreEvent(event)): points
        for role, event, points in PointRule.objects.filter(dealer=dealer).values_list(
            "role", "event", "points"
        )
    }
    return rules or dict(DEFAULT_RULES)


def set_point_rule(
    *, dealer: Dealer, by: Staff, role: str, event: str, points: int
) -> PointRule | None:
    """The GM or sales manager sets how many points `event` gives people of `role` (0 removes
    the rule); recorded. The first rule a dealer sets replaces the defaults."""
    if not may_set_targets(by, dealer.pk):
        raise NotPermitted(_("Only the general manager and the sales manager set point rules."))
    if role not in Role.values or role == Role.HEADQUARTERS:
        raise InvalidInput(_("Choose a role."), field="role")
    if event not in ScoreEvent.values:
        raise InvalidInput(_("Choose what earns the points."), field="event")
    low, high = POINTS_RANGE
    if not low <= points <= high:
        raise InvalidInput(
            _("Points are from %(low)d to %(high)d.") % {"low": low, "high": high}, field="points"
        )
    with transaction.atomic():
        record_change(
            dealer=dealer, by=by, what="point_rule", subject=f"{role}/{event}",
            detail={"points": points},
        )  # fmt: skip
        if points == 0:
            PointRule.objects.filter(dealer=dealer, role=role, event=event).delete()
            return None
        rule, _created = PointRule.objects.update_or_create(
            dealer=dealer, role=role, event=event, defaults={"points": points}
        )
        return rule


def scorecards(*, dealer: Dealer, month: date) -> list[Scorecard]:
    """Everyone with a scored role at the dealer, for the calendar month, best first within
    each role."""
    first = first_of_month(month)
    last = first_of_month(first + timedelta(days=32)) - timedelta(days=1)
    window = day_window(dealer_ids=[dealer.pk], first=first, last=last)
    rules = point_rules(dealer)
    scored_roles = {role for role, _event in rules}
    members = (
        Membership.objects.filter(dealer=dealer, role__in=scored_roles, is_active=True)
        .select_related("staff")
        .order_by("role", "staff__username")
    )
    done = per_person([*SCORED.values(), "talk_seconds", "leads_handled"], {"month": window})[
        "month"
    ]
    in_team = teams_at(dealer, min(window.end - timedelta(microseconds=1), timezone.now()))
    audited = scores_by_person([dealer.pk], window.start, window.end)
    cards = []
    for member in members:
        role = Role(member.role)
        card = Scorecard(person=member.staff, role=role, team=in_team.get(member.staff_id))
        for event, measure in SCORED.items():
            card.counts[event] = done[measure].get(member.staff_id, 0)
        if score := audited.get(member.staff_id):
            card.audits, card.audit_score = score.audits, score.average
        for event, result in AUDITED.items():
            card.counts[event] = getattr(score, result) if score else 0
        for event in ScoreEvent:
            card.points += rules.get((role, event), 0) * card.counts[event]
        card.talk_seconds = int(done["talk_seconds"].get(member.staff_id) or 0)
        card.leads_handled = done["leads_handled"].get(member.staff_id, 0)
        cards.append(card)
    for card in cards:  # equal points share a rank (1, 2, 2, 4)
        card.rank = 1 + sum(
            1 for other in cards if other.role == card.role and other.points > card.points
        )
    return sorted(cards, key=lambda card: (card.role, card.rank, card.person.username))
