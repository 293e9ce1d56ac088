"""The KPI registry: every metric defined once — what it counts over what, in which unit —
as a ratio (or count) of two measures. Measures say which leads they count (kpi.measures);
the numbers on every screen, in the CLI and the API come from here, and each links to the
leads behind its numerator and denominator.

Two views of every metric (DESIGN.md): **period** counts the events that happened in the
period; **cohort** follows the leads created in the period to today.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class View(models.TextChoices):
    PERIOD = "period", _("Period: what happened in the period")
    COHORT = "cohort", _("Cohort: leads created in the period, followed to today")


class Unit(StrEnum):
    COUNT = "count"
    RATE = "rate"  # numerator / denominator, shown as a percentage
    MONEY = "money"  # CNY per unit of the denominator


@dataclass(frozen=True)
class Measure:
    """What is counted: leads (distinct), or for `touches` and `spend` events and money."""

    key: str
    name: Promise
    description: Promise


@dataclass(frozen=True)
class Metric:
    key: str
    name: Promise
    numerator: str  # a measure key
    denominator: str | None  # None: the metric is the numerator itself
    unit: Unit
    description: Promise


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure("leads", _("Leads"), _("Leads created (a repeat enquiry is a touch, not a lead).")),
        Measure("touches", _("Repeat enquiries"), _("Repeat enquiries on open leads.")),
        Measure("valid", _("Valid leads"), _("Leads not marked invalid.")),
        Measure("invalid", _("Invalid leads"), _("Leads marked invalid.")),
        Measure(
            "with_sla",
            _("Leads with an SLA"),
            _(
                "Leads with a first-response SLA: all but those imported after their deadline "
                "with no first response in their history."
            ),
        ),
        Measure(
            "on_time",
            _("Answered in time"),
            _("Leads with an SLA whose first response came within it."),
        ),
        Measure("contacted", _("Contacted"), _("Leads with a call that reached the customer.")),
        Measure("appointed", _("Appointments"), _("Leads with a showroom visit booked.")),
        Measure("arrived", _("Arrivals"), _("Leads whose customer came to the showroom.")),
        Measure("ordered", _("Orders"), _("Leads that ordered a car.")),
        Measure("delivered", _("Deliveries"), _("Leads whose car was delivered.")),
        Measure("defeated", _("Defeats"), _("Leads lost, with the defeat approved.")),
        Measure("closed", _("Closed"), _("Leads delivered, defeated or marked invalid.")),
        Measure(
            "return_visits_due",
            _("Return visits due"),
            _("Return visits after delivery that fell due."),
        ),
        Measure(
            "return_visits_on_time",
            _("Return visits on time"),
            _("Return visits due that were done by their due time."),
        ),
        Measure("spend", _("Spend"), _("Channel spend, pro rata for the days of the period.")),
        Measure(
            "breached",
            _("First response late"),
            _(
                "Leads with an SLA answered after their deadline, or not answered when their "
                "deadline passed (as the window's day stands, or now)."
            ),
        ),
        # What people did (the boards and scorecards): each event counts, for the person it
        # is credited to (kpi.measures.credited_to).
        Measure("calls", _("Calls"), _("Calls made, either direction, whatever the outcome.")),
        Measure("reached_calls", _("Contacts"), _("Calls that reached the customer.")),
        Measure("talk_seconds", _("Talk time"), _("Seconds on the phone, over the calls made.")),
        Measure(
            "bookings",
            _("Visits booked"),
            _("Showroom visits booked, each booking (also one after a cancellation)."),
        ),
        Measure(
            "visits",
            _("Visits"),
            _(
                "Customers checked in at the showroom, each credited to whoever booked the "
                "visit (else whoever checked them in)."
            ),
        ),
        Measure("orders_taken", _("Orders taken"), _("Orders recorded.")),
        Measure("deliveries_made", _("Deliveries made"), _("Deliveries recorded.")),
        Measure(
            "return_visits_reached",
            _("Return visits made"),
            _("Return visits after delivery that reached the owner."),
        ),
        Measure(
            "late_follow_ups",
            _("Late follow-ups"),
            _(
                "Follow-ups due in the period (up to now) done late or not at all, each "
                "counted against the person it was assigned to."
            ),
        ),
        Measure(
            "leads_handled",
            _("Leads handled"),
            _("Leads a person recorded anything on."),
        ),
    )
}

METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("lead_volume", _("Lead volume"), "leads", None, Unit.COUNT,
               _("Leads created; repeat enquiries are counted separately.")),
        Metric("touches", _("Repeat enquiries"), "touches", None, Unit.COUNT,
               _("Repeat enquiries from customers who already had an open lead.")),
        Metric("valid_lead_rate", _("Valid-lead rate"), "valid", "leads", Unit.RATE,
               _("Leads not marked invalid, of all leads.")),
        Metric("first_response_on_time", _("First response on time"), "on_time", "with_sla",
               Unit.RATE, _("Leads first contacted within their SLA, of leads with an SLA "
                            "(a lead imported after its deadline with no first response in its "
                            "history has none).")),
        Metric("contact_rate", _("Contact rate"), "contacted", "leads", Unit.RATE,
               _("Leads whose customer was reached by phone, of all leads.")),
        Metric("invitation_rate", _("Invitation rate"), "appointed", "valid", Unit.RATE,
               _("Leads with an appointment, of valid leads.")),
        Metric("appointments", _("Appointments"), "appointed", None, Unit.COUNT,
               _("Leads with a showroom visit booked.")),
        Metric("arrivals", _("Arrivals"), "arrived", None, Unit.COUNT,
               _("Leads whose customer came to the showroom.")),
        Metric("arrival_rate", _("Arrival rate"), "arrived", "leads", Unit.RATE,
               _("Leads that arrived, of all leads.")),
        Metric("arrival_to_order_rate", _("Arrival-to-order rate"), "ordered", "arrived",
               Unit.RATE, _("Orders, of arrivals.")),
        Metric("orders", _("Orders"), "ordered", None, Unit.COUNT, _("Leads that ordered.")),
        Metric("deliveries", _("Deliveries"), "delivered", None, Unit.COUNT,
               _("Leads whose car was delivered.")),
        Metric("lead_close_rate", _("Lead close rate"), "ordered", "leads", Unit.RATE,
               _("Orders, of all leads.")),
        Metric("defeat_rate", _("Defeat rate"), "defeated", "closed", Unit.RATE,
               _("Defeats, of leads closed.")),
        Metric("return_visit_completion", _("Return-visit completion"),
               "return_visits_on_time", "return_visits_due", Unit.RATE,
               _("Return visits done on time, of those due.")),
        Metric("cost_per_lead", _("Cost per lead"), "spend", "leads", Unit.MONEY,
               _("Channel spend per lead.")),
        Metric("cost_per_arrival", _("Cost per arrival"), "spend", "arrived", Unit.MONEY,
               _("Channel spend per arrival.")),
        Metric("cost_per_order", _("Cost per order"), "spend", "ordered", Unit.MONEY,
               _("Channel spend per order.")),
    )
}  # fmt: skip


def metric(key: str) -> Metric:
    return METRICS[key]
