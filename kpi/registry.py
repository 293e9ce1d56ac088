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
    SECONDS = "seconds"  # seconds (per unit of the denominator, when there is one)
    AVERAGE = "average"  # numerator / denominator, shown as a number (calls per lead)


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
        # The call center (kpi.measures: from the phone system's call records, each call
        # counted; lost, ringing or talking calls are counted once they have ended).
        Measure(
            "inbound_calls", _("Inbound calls"), _("Calls that came in on the dealer's lines.")
        ),
        Measure("inbound_answered", _("Answered calls"), _("Inbound calls someone answered.")),
        Measure(
            "valid_in_hours",
            _("Valid calls in business hours"),
            _(
                "Inbound calls within the dealer's business hours that were answered or whose "
                "caller waited at least 10 seconds."
            ),
        ),
        Measure(
            "answered_in_hours",
            _("Answered in business hours"),
            _("Inbound calls within the dealer's business hours that were answered."),
        ),
        Measure(
            "abandoned_calls",
            _("Abandoned calls"),
            _(
                "Inbound calls that ended before anyone answered (missed in the queue or while "
                "ringing, left in the menu, no one on duty, out of hours)."
            ),
        ),
        Measure(
            "timed_inbound",
            _("Inbound calls with a wait"),
            _("Inbound calls for which the phone system said how long the caller waited."),
        ),
        Measure(
            "wait_seconds", _("Waiting time"), _("Seconds callers waited, over inbound calls.")
        ),
        Measure(
            "new_callers",
            _("Answered calls from new callers"),
            _(
                "Answered inbound calls from numbers without an open lead (not the dealer's "
                "staff, not blocked)."
            ),
        ),
        Measure(
            "new_callers_with_details",
            _("New callers who left details"),
            _(
                "Answered calls from new callers that produced a lead with their contact "
                "details (captured during the call, or a lead made after it began)."
            ),
        ),
        Measure("outbound_calls", _("Outbound calls"), _("Calls made from the dealer's lines.")),
        Measure("outbound_reached", _("Outbound calls answered"), _("Outbound calls answered.")),
        Measure(
            "effective_calls",
            _("Effective calls"),
            _(
                "Answered calls, either direction, with at least the dealer's threshold of talk "
                "(default 45 seconds)."
            ),
        ),
        Measure("answered_calls", _("Calls answered"), _("Answered calls, either direction.")),
        Measure(
            "call_talk_seconds",
            _("Talk time on the phone system"),
            _("Seconds of talk over answered calls, as the phone system measured them."),
        ),
        Measure(
            "callbacks_due",
            _("Callbacks due"),
            _("Callbacks owed for missed calls that fell due (up to now)."),
        ),
        Measure(
            "callbacks_on_time",
            _("Callbacks on time"),
            _("Callbacks due that were made by their deadline."),
        ),
        # From the ledger: calls as the leads' history has them (typed or from the system).
        Measure(
            "first_contacts",
            _("Leads first reached"),
            _("Leads whose first call that reached the customer was in the period."),
        ),
        Measure(
            "attempts_before_contact",
            _("Calls before the first contact"),
            _(
                "Calls on the leads first reached in the period that came before the call that "
                "reached them."
            ),
        ),
        Measure(
            "system_calls",
            _("Calls seen by the phone system"),
            _("Calls in the leads' history written from the phone system's records."),
        ),
        # Owner operations (kpi.keeping): the return-visit plan's visits and questionnaires,
        # complaints, members, referrals and owner events.
        Measure(
            "step_visits_due",
            _("Plan visits due"),
            _(
                "Visits of the return-visit plan that fell due (up to now), cancelled ones "
                "aside; a retry after an unanswered call moves a visit's due time."
            ),
        ),
        Measure(
            "step_visits_on_time",
            _("Plan visits on time"),
            _("Visits of the plan due that were done by their due time."),
        ),
        Measure(
            "step_visits_ended",
            _("Plan visits ended"),
            _(
                "Visits of the plan that ended: the owner reached, or unreachable after the "
                "plan's attempts."
            ),
        ),
        Measure(
            "step_visits_reached",
            _("Plan visits reached"),
            _("Visits of the plan that reached the owner."),
        ),
        Measure(
            "satisfaction_points",
            _("Satisfaction points"),
            _(
                "The 1–5 scores owners gave the eight factors of sales satisfaction on the "
                "visits reached, added up."
            ),
        ),
        Measure(
            "satisfaction_answers",
            _("Satisfaction scores"),
            _("Scores owners gave the eight factors of sales satisfaction on the visits reached."),
        ),
        Measure(
            "nps_answers",
            _("NPS answers"),
            _("Visits reached whose owner said how likely they are to recommend us (0–10)."),
        ),
        Measure("nps_promoters", _("Promoters"), _("NPS answers of 9 or 10.")),
        Measure("nps_detractors", _("Detractors"), _("NPS answers of 0 to 6.")),
        Measure(
            "nps_points",
            _("Promoters less detractors"),
            _(
                "Promoters (9–10) less detractors (0–6), a signed count: over the NPS answers it "
                "is the net promoter score. Its leads are the promoters' and the detractors'."
            ),
        ),
        Measure(
            "complaints_opened",
            _("Complaints"),
            _("Complaints opened, from a return visit, a call, the showroom or headquarters."),
        ),
        Measure(
            "complaints_due",
            _("Complaints judged"),
            _(
                "Complaints opened in the period that were resolved, escalated or past their "
                "deadline (up to now)."
            ),
        ),
        Measure(
            "complaints_on_time",
            _("Complaints resolved in time"),
            _(
                "Complaints judged that were resolved by their deadline, never escalated, and "
                "not reopened since."
            ),
        ),
        Measure(
            "complaints_closed",
            _("Complaints closed"),
            _("Complaints the customer confirmed resolved."),
        ),
        Measure(
            "complaint_close_seconds",
            _("Time to close"),
            _("Seconds from opening to the customer's confirmation, over complaints closed."),
        ),
        Measure(
            "members",
            _("Members"),
            _("Owners with a member card at the end of the period."),
        ),
        Measure("members_joined", _("New members"), _("Owners who became members.")),
        Measure(
            "active_members",
            _("Active members"),
            _(
                "Members who earned points (a purchase, a referral, an event, a service visit) "
                "or redeemed points: adjustments, expiry and claw-backs are not the member's "
                "doing."
            ),
        ),
        Measure(
            "referrals",
            _("Referrals"),
            _("Leads whose referrer was named (on the lead, or a guest at an owner event)."),
        ),
        Measure(
            "referred_orders",
            _("Orders of referred leads"),
            _("Orders of leads an owner referred (a referral made void aside)."),
        ),
        Measure(
            "event_orders",
            _("Orders from owner events"),
            _("Orders of leads an owner brought to an owner event."),
        ),
        Measure(
            "event_signups",
            _("Event sign-ups"),
            _(
                "Owners who signed up for an owner event held in the period (or came without "
                "signing up)."
            ),
        ),
        Measure(
            "event_attended",
            _("Event attendance"),
            _("Owners signed up for an owner event who were checked in at the door."),
        ),
        # The audit group (kpi.keeping).
        Measure("audits", _("Audits"), _("Audits made of the sampled work.")),
        Measure(
            "audit_score_points",
            _("Audit score points"),
            _("The audits' scores (%, a corrected one after a granted appeal), added up."),
        ),
        Measure("defeats_audited", _("Defeats audited"), _("Audits of approved defeats.")),
        Measure(
            "defeats_overturned",
            _("Defeats overturned"),
            _("Approved defeats an audit overturned: the lead went back to its owner."),
        ),
        Measure(
            "audit_work",
            _("Work to audit"),
            _(
                "The work the audit group samples (recorded calls, approved defeats, invalid "
                "marks, return visits), of the sources the dealer samples, by whose work it is."
            ),
        ),
        Measure(
            "audit_work_audited",
            _("Work audited"),
            _("Of the work to audit, what was drawn and audited."),
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
        # The call center, from the phone system's call records.
        Metric("inbound_calls", _("Inbound calls"), "inbound_calls", None, Unit.COUNT,
               _("Calls that came in on the dealer's lines.")),
        Metric("answered_calls", _("Answered calls"), "inbound_answered", None, Unit.COUNT,
               _("Inbound calls someone answered.")),
        Metric("answer_rate", _("Answer rate"), "answered_in_hours", "valid_in_hours",
               Unit.RATE, _("Answered, of the valid inbound calls within business hours (valid: "
                            "answered, or the caller waited at least 10 seconds).")),
        Metric("average_wait", _("Average wait"), "wait_seconds", "timed_inbound",
               Unit.SECONDS, _("Seconds an inbound caller waited, on average.")),
        Metric("abandoned_calls", _("Abandoned calls"), "abandoned_calls", None, Unit.COUNT,
               _("Inbound calls that ended before anyone answered.")),
        Metric("details_left_rate", _("Details left rate"), "new_callers_with_details",
               "new_callers", Unit.RATE,
               _("Answered inbound calls from numbers without an open lead that produced a "
                 "lead with contact details, of those calls.")),
        Metric("outbound_calls", _("Outbound calls"), "outbound_calls", None, Unit.COUNT,
               _("Calls made from the dealer's lines.")),
        Metric("reach_rate", _("Reach rate"), "outbound_reached", "outbound_calls", Unit.RATE,
               _("Outbound calls answered, of outbound calls.")),
        Metric("effective_calls", _("Effective calls"), "effective_calls", None, Unit.COUNT,
               _("Answered calls with at least the dealer's threshold of talk (default 45 s).")),
        Metric("talk_time", _("Talk time"), "call_talk_seconds", None, Unit.SECONDS,
               _("Time on the phone, over answered calls.")),
        Metric("average_talk", _("Average talk"), "call_talk_seconds", "answered_calls",
               Unit.SECONDS, _("Talk per answered call, on average.")),
        Metric("calls_before_first_contact", _("Calls before first contact"),
               "attempts_before_contact", "first_contacts", Unit.AVERAGE,
               _("Calls a lead took before the first one that reached the customer, on average "
                 "over the leads first reached in the period.")),
        Metric("callbacks_on_time", _("Callbacks on time"), "callbacks_on_time", "callbacks_due",
               Unit.RATE, _("Callbacks for missed calls made by their deadline, of those due.")),
        Metric("phone_system_share", _("Calls seen by the phone system"), "system_calls",
               "calls", Unit.RATE,
               _("Calls in the leads' history from the phone system's records, of all calls "
                 "(the rest were typed).")),
        # Owner operations.
        Metric("step_visits_on_time", _("Plan visits on time"), "step_visits_on_time",
               "step_visits_due", Unit.RATE,
               _("Visits of the return-visit plan done by their due time, of those due; by step "
                 "(24 h, 3 days \"3DC\", 7 days, 30 days after delivery).")),
        Metric("visit_reach_rate", _("Return-visit reach rate"), "step_visits_reached",
               "step_visits_ended", Unit.RATE,
               _("Visits of the plan that reached the owner, of those ended (reached or "
                 "unreachable).")),
        Metric("satisfaction", _("Satisfaction"), "satisfaction_points", "satisfaction_answers",
               Unit.AVERAGE,
               _("The average 1–5 score of the factors of sales satisfaction; by factor, each "
                 "factor's.")),
        Metric("nps", _("NPS"), "nps_points", "nps_answers", Unit.RATE,
               _("Net promoter score: promoters (9–10) less detractors (0–6), of the owners who "
                 "answered.")),
        Metric("complaints", _("Complaints"), "complaints_opened", None, Unit.COUNT,
               _("Complaints opened.")),
        Metric("complaints_on_time", _("Complaints resolved in time"), "complaints_on_time",
               "complaints_due", Unit.RATE,
               _("Complaints resolved by their deadline without escalation, of those judged.")),
        Metric("complaint_close_time", _("Time to close a complaint"), "complaint_close_seconds",
               "complaints_closed", Unit.SECONDS,
               _("From opening to the customer's confirmation, on average.")),
        Metric("members", _("Members"), "members", None, Unit.COUNT,
               _("Owners with a member card at the end of the period.")),
        Metric("members_joined", _("New members"), "members_joined", None, Unit.COUNT,
               _("Owners who became members.")),
        Metric("active_members", _("Active members"), "active_members", None, Unit.COUNT,
               _("Members who earned or redeemed points.")),
        Metric("active_member_rate", _("Active member rate"), "active_members", "members",
               Unit.RATE, _("Members who earned or redeemed points, of all members.")),
        Metric("referrals", _("Referrals"), "referrals", None, Unit.COUNT,
               _("Leads an owner referred; by referrer, each owner's.")),
        Metric("referred_orders", _("Orders of referred leads"), "referred_orders", None,
               Unit.COUNT, _("Orders of leads an owner referred; by referrer, who brought "
                             "most.")),
        Metric("referral_share", _("Referral share of orders"), "referred_orders", "ordered",
               Unit.RATE, _("Orders of leads an owner referred, of all orders.")),
        Metric("event_attendance", _("Event attendance"), "event_attended", "event_signups",
               Unit.RATE, _("Owners checked in at an owner event, of those signed up.")),
        Metric("event_orders", _("Orders from owner events"), "event_orders", None, Unit.COUNT,
               _("Orders of leads an owner brought to an owner event.")),
        # The audit group.
        Metric("audit_coverage", _("Audit coverage"), "audit_work_audited", "audit_work",
               Unit.RATE, _("Work audited, of the work the audit group samples; by person, "
                            "theirs.")),
        Metric("audit_score", _("Audit score"), "audit_score_points", "audits", Unit.AVERAGE,
               _("The average audit score (%); by person, of the person audited.")),
        Metric("defeats_overturned", _("Defeats overturned"), "defeats_overturned", None,
               Unit.COUNT, _("Approved defeats an audit overturned.")),
        Metric("overturn_rate", _("Overturn rate"), "defeats_overturned", "defeats_audited",
               Unit.RATE, _("Defeats overturned, of the defeats audited.")),
    )
}  # fmt: skip


def metric(key: str) -> Metric:
    return METRICS[key]
