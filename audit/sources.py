"""What the audit group samples: each source says which work of a week there was, whose it
was, the lead it concerns, the default plan and check items, and how its item is shown.

Another kind of work is one more `register(Source(...))` below, with its `work` function and
its item's partial."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer
from audit.models import AuditTask
from calls import scripts
from calls.models import Call, Recording, Script
from calls.report import Disposition
from calls.scripts import ScriptText
from dcc.phone import mask_phone
from leads.models import Event, EventKind, ReasonCode, ReasonKind
from owners import questionnaires
from owners.models import ReturnVisit, VisitStatus


@dataclass(frozen=True)
class Work:
    """One piece of a person's work that may be drawn."""

    item_id: int
    person_id: int
    lead_id: int | None


@dataclass(frozen=True)
class DefaultItem:
    text: Promise
    points: int
    required: bool = True
    link: str = ""  # CheckItem.SCRIPT: shows the call script that applied


@dataclass(frozen=True)
class Source:
    code: str
    label: Promise
    # The work of [start, end) at the dealer, any order.
    work: Callable[[Dealer, datetime, datetime], list[Work]]
    share_percent: int
    min_per_person: int
    items: tuple[DefaultItem, ...]
    # How the audit page shows one item: a partial of audit/templates, and what it needs.
    template: str
    shown: Callable[[AuditTask], dict[str, Any]]
    may_overturn: bool = False  # an exit of the lead that an audit may undo
    # The same work as a queryset over some dealers, for counting it (the KPIs' audit
    # coverage): each row annotated with `work_person` and `work_at`, and its `lead_id`.
    work_items: Callable[[Sequence[int], datetime, datetime], QuerySet] | None = None


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    SOURCES[source.code] = source
    return source


def source(code: str) -> Source:
    return SOURCES[code]


def detail(task: AuditTask) -> dict[str, Any]:
    """What the audit page shows of the task's item."""
    shown = source(task.source)
    return {"item_template": shown.template} | shown.shown(task)


# ---------------------------------------------------------------- the built-in sources

CALL = "call"
DEFEAT = "defeat"
INVALID = "invalid"
RETURN_VISIT = "return_visit"


def _works(items: QuerySet) -> list[Work]:
    """The items of a source's `items` queryset as work of a person (none without one)."""
    rows = items.values_list("pk", "work_person", "lead_id")
    return [Work(pk, person, lead) for pk, person, lead in rows if person is not None]


def _recorded_call_items(dealer_ids: Sequence[int], start: datetime, end: datetime) -> QuerySet:
    """Answered calls with a recording kept, by the agent who took them."""
    return (
        Call.objects.filter(
            dealer_id__in=dealer_ids,
            disposition=Disposition.ANSWERED,
            agent__isnull=False,
            rang_at__gte=start,
            rang_at__lt=end,
        )
        .filter(Exists(Recording.objects.filter(call=OuterRef("pk"), purged_at__isnull=True)))
        .annotate(work_person=F("agent_id"), work_at=F("rang_at"))
    )


def _approved_defeat_items(dealer_ids: Sequence[int], start: datetime, end: datetime) -> QuerySet:
    """Defeats approved in the range, by the person who requested them."""
    requester = (
        Event.objects.filter(
            lead_id=OuterRef("lead_id"), kind=EventKind.DEFEAT_REQUESTED, seq__lt=OuterRef("seq")
        )
        .order_by("-seq")
        .values("actor_id")[:1]
    )
    return Event.objects.filter(
        dealer_id__in=dealer_ids,
        kind=EventKind.DEFEAT_APPROVED,
        occurred_at__gte=start,
        occurred_at__lt=end,
    ).annotate(work_person=Subquery(requester), work_at=F("occurred_at"))


def _return_visit_items(dealer_ids: Sequence[int], start: datetime, end: datetime) -> QuerySet:
    """Owner operations' return visits completed in the range, by who completed them."""
    return ReturnVisit.objects.filter(
        dealer_id__in=dealer_ids,
        status=VisitStatus.DONE,
        completed_by__isnull=False,
        completed_at__gte=start,
        completed_at__lt=end,
    ).annotate(work_person=F("completed_by_id"), work_at=F("completed_at"))


def _invalid_mark_items(dealer_ids: Sequence[int], start: datetime, end: datetime) -> QuerySet:
    """Leads marked invalid in the range, by who marked them."""
    return Event.objects.filter(
        dealer_id__in=dealer_ids,
        kind=EventKind.INVALIDATED,
        occurred_at__gte=start,
        occurred_at__lt=end,
        actor__isnull=False,
    ).annotate(work_person=F("actor_id"), work_at=F("occurred_at"))


def _recorded_calls(dealer: Dealer, start: datetime, end: datetime) -> list[Work]:
    return _works(_recorded_call_items([dealer.pk], start, end))


def _approved_defeats(dealer: Dealer, start: datetime, end: datetime) -> list[Work]:
    return _works(_approved_defeat_items([dealer.pk], start, end))


def _return_visits(dealer: Dealer, start: datetime, end: datetime) -> list[Work]:
    return _works(_return_visit_items([dealer.pk], start, end))


def _invalid_marks(dealer: Dealer, start: datetime, end: datetime) -> list[Work]:
    return _works(_invalid_mark_items([dealer.pk], start, end))


# What the audit page shows of a call and of an exit.


def script_in_force(dealer: Dealer, call: Call) -> ScriptText:
    """The dealer's script for the call's purpose as it stood when the call rang (the latest
    version made before), the most specific for the lead's stage and grade; else the
    product's default."""
    lead = call.lead
    purpose = scripts.purpose_of(call, lead)
    stage, grade = (lead.stage, lead.grade) if lead else ("", "")
    versions = Script.objects.filter(
        dealer=dealer,
        purpose=purpose,
        created_at__lte=call.rang_at or timezone.now(),
        stage__in={stage, ""},
        grade__in={grade, ""},
    ).order_by("version", "pk")
    latest: dict[tuple[str, str], Script] = {}
    for script in versions:
        latest[script.stage, script.grade] = script
    best = max(
        latest.values(),
        key=lambda s: (s.stage == stage and bool(stage), s.grade == grade and bool(grade)),
        default=None,
    )
    if best is not None:
        return ScriptText(purpose, best.title, best.body, best.version)
    return ScriptText(purpose, str(purpose.label), str(scripts.DEFAULT_SCRIPTS[purpose]), None)


def _call(task: AuditTask) -> dict[str, Any]:
    call = (
        Call.objects.select_related("agent", "lead__customer", "line__channel")
        .filter(dealer_id=task.dealer_id, pk=task.item_id)
        .first()
    )
    if call is None:
        return {}
    recordings = Recording.objects.filter(call=call, purged_at__isnull=True).order_by("pk")
    script = script_in_force(task.dealer, call)
    return {
        "call": call,
        "customer_phone": mask_phone(call.number),
        "recordings": list(recordings),
        "script": script,
        "script_text": scripts.fill(
            script.body,
            agent=call.agent,
            dealer=task.dealer.name,
            channel=call.line.channel if call.line else "",
            model=call.lead.car_model if call.lead else "",
        ),
    }


def _visit(task: AuditTask) -> dict[str, Any]:
    visit = (
        ReturnVisit.objects.filter(dealer_id=task.dealer_id, pk=task.item_id)
        .select_related("vehicle__owner", "version", "completed_by")
        .first()
    )
    if visit is None:
        return {}
    questions = visit.version.questions if visit.version else []
    return {
        "visit": visit,
        "customer_phone": mask_phone(visit.vehicle.owner.phone),
        "answered": questionnaires.answered(questions, visit.answers),
    }


def _exit(task: AuditTask) -> dict[str, Any]:
    event = (
        Event.objects.filter(dealer_id=task.dealer_id, pk=task.item_id)
        .select_related("actor")
        .first()
    )
    if event is None:
        return {}
    kind = ReasonKind.DEFEAT if event.kind == EventKind.DEFEAT_APPROVED else ReasonKind.INVALID
    label = (
        ReasonCode.objects.filter(dealer_id=task.dealer_id, kind=kind, code=event.reason)
        .values_list("label", flat=True)
        .first()
    )
    return {
        "event": event,
        "reason": label or event.reason,
        "customer_phone": mask_phone(task.lead.customer.phone) if task.lead else "",
    }


register(
    Source(
        code=CALL,
        label=_("Recorded calls"),
        work=_recorded_calls,
        work_items=_recorded_call_items,
        share_percent=5,
        min_per_person=2,
        items=(
            DefaultItem(_("Greeting and introduction"), 10),
            DefaultItem(_("Needs probed (model, timing, budget, trade-in)"), 20),
            DefaultItem(_("Script followed"), 20, link="script"),
            DefaultItem(_("Invitation to the showroom made"), 20),
            DefaultItem(_("Grade plausible for what the customer said"), 15),
            DefaultItem(_("Compliance: no promises off policy"), 15),
        ),
        template="audit/items/_call.html",
        shown=_call,
    )
)
register(
    Source(
        code=DEFEAT,
        label=_("Approved defeats"),
        work=_approved_defeats,
        work_items=_approved_defeat_items,
        share_percent=20,
        min_per_person=1,
        items=(
            DefaultItem(_("Reason true (the customer was called back)"), 60),
            DefaultItem(_("Follow-ups were enough before giving up"), 40),
        ),
        template="audit/items/_exit.html",
        shown=_exit,
        may_overturn=True,
    )
)
register(
    Source(
        code=INVALID,
        label=_("Leads marked invalid"),
        work=_invalid_marks,
        work_items=_invalid_mark_items,
        share_percent=10,
        min_per_person=1,
        items=(DefaultItem(_("Invalid mark correct"), 100),),
        template="audit/items/_exit.html",
        shown=_exit,
        may_overturn=True,
    )
)
register(
    Source(
        code=RETURN_VISIT,
        label=_("Return visits"),
        work=_return_visits,
        work_items=_return_visit_items,
        share_percent=10,
        min_per_person=1,
        items=(
            DefaultItem(_("Questionnaire asked as written, nothing suggested"), 40),
            DefaultItem(_("Answers as the customer gives them (checked by calling back)"), 40),
            DefaultItem(_("Courteous; what was promised followed up"), 20),
        ),
        template="audit/items/_visit.html",
        shown=_visit,
    )
)
