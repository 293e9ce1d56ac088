"""Everything the audit group does, each one function that checks, writes and records: the
sampling plans, the weekly draw, the audit forms, an audit, an overturn, an appeal and its
decision. A draw is recorded in the dealer's settings changes (seed and counts, so anyone can
draw it again and compare); every step on a lead joins its ledger (an AUDITED fact)."""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.audit import record_change
from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role
from audit import permissions, sources
from audit.models import (
    Appeal,
    AppealDecision,
    Audit,
    AuditForm,
    AuditResult,
    AuditSample,
    AuditTask,
    CheckItem,
    SamplingPlan,
    TaskStatus,
)
from dcc.errors import Conflict, InvalidInput, NotPermitted
from leads import actions as lead_actions
from leads.models import EventKind

# An audit scoring at least this passes, unless the auditor finds otherwise; a granted appeal
# correcting a failed audit to at least this makes it a pass.
PASS_MARK = Decimal(80)
# Seeds chosen for a draw: random, and small enough for every database's bigint.
SEED_BITS = 62
# A minimum above anyone's week of work means "all of it"; higher is a typing slip.
MAX_PER_PERSON = 1000
# What a check item is worth, and how long its text may be.
MAX_POINTS = 100
TEXT_LENGTH = 200


# ---------------------------------------------------------------- weeks


# No dealer's work is older: a week before this is not a week anyone audits (and far ones do
# not fit a calendar's arithmetic).
EARLIEST_WEEK = date(2000, 1, 3)


def week_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def week_asked(day: date, today: date) -> date:
    """The week of `day`, kept between EARLIEST_WEEK and this week."""
    return week_of(min(max(day, EARLIEST_WEEK), today))


def week_window(week: date) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00, in the dealer's time zone."""
    start = datetime.combine(week, time.min, tzinfo=timezone.get_current_timezone())
    return start, start + timedelta(days=7)


def week_label(week: date) -> str:
    return _("the week of %(monday)s") % {"monday": date_format(week, "SHORT_DATE_FORMAT")}


# ---------------------------------------------------------------- plans


@dataclass(frozen=True)
class Plan:
    source: str
    share_percent: int
    min_per_person: int


def plans(dealer: Dealer) -> list[Plan]:
    """Each registered source's plan at the dealer: its own where set, else the source's
    default; a plan switched off draws nothing."""
    stored = {plan.source: plan for plan in SamplingPlan.objects.filter(dealer=dealer)}
    found = []
    for code, source in sources.SOURCES.items():
        plan = stored.get(code)
        if plan is None:
            found.append(Plan(code, source.share_percent, source.min_per_person))
        elif plan.is_active:
            found.append(Plan(code, plan.share_percent, plan.min_per_person))
    return found


def set_plan(
    *,
    dealer: Dealer,
    by: Staff,
    source: str,
    share_percent: int,
    min_per_person: int,
    is_active: bool = True,
) -> SamplingPlan:
    """The audit group sets how much of a source the weekly draw takes; recorded."""
    if not permissions.may_audit(by, dealer.pk):
        raise NotPermitted(_("Only the audit group and supervisors set sampling plans."))
    if source not in sources.SOURCES:
        raise InvalidInput(_("Choose what to sample."), field="source")
    if not 0 < share_percent <= 100:
        raise InvalidInput(_("The share is from 1 to 100 %."), field="share_percent")
    if min_per_person < 0:
        raise InvalidInput(_("The minimum cannot be negative."), field="min_per_person")
    if min_per_person > MAX_PER_PERSON:
        raise InvalidInput(
            _("At most %(most)d per person a week.") % {"most": MAX_PER_PERSON},
            field="min_per_person",
        )
    with transaction.atomic():
        plan, _created = SamplingPlan.objects.update_or_create(
            dealer=dealer,
            source=source,
            defaults={
                "share_percent": share_percent,
                "min_per_person": min_per_person,
                "is_active": is_active,
            },
        )
        record_change(
            dealer=dealer,
            by=by,
            what="audit_sampling_plan",
            subject=source,
            detail={"share": share_percent, "minimum": min_per_person, "active": is_active},
        )
    return plan


# ---------------------------------------------------------------- the weekly draw


def pick(ids: Iterable[int], *, seed: int, source: str, person_id: int, plan: Plan) -> list[int]:
    """The share of one person's items the plan takes (at least its minimum, at most all),
    drawn reproducibly: the same seed and items always give the same draw."""
    ordered = sorted(ids)
    wanted = max(-(-len(ordered) * plan.share_percent // 100), plan.min_per_person)
    size = min(len(ordered), wanted)
    chosen = random.Random(f"{seed}:{source}:{person_id}").sample(ordered, size)
    return sorted(chosen)


@dataclass(frozen=True)
class Draw:
    week: date
    seed: int
    samples: list[AuditSample]
    tasks: int
    message: str


def draw_sample(
    *,
    dealer: Dealer,
    week: date,
    by: Staff,
    seed: int | None = None,
    redraw: bool = False,
    note: str = "",
) -> Draw:
    """Draw the week's sample of every source: per person, a random share of their work of
    that week (audit.sources), each item a task for an auditor. The seed (chosen at random
    unless given) and the counts are recorded. A week is drawn once; a supervisor may draw it
    again (`redraw`), which cancels the open tasks of the first draw (audits done stay)."""
    if not permissions.may_audit(by, dealer.pk):
        raise NotPermitted(_("Only the audit group and supervisors draw samples."))
    if week.weekday() != 0:
        raise InvalidInput(_("A week starts on a Monday."), field="week")
    if week > week_of(timezone.localdate()):
        raise InvalidInput(_("This week has not started yet."), field="week")
    if week < EARLIEST_WEEK:
        raise InvalidInput(_("There is no work to audit that long ago."), field="week")
    if redraw and not permissions.may_redraw(by, dealer.pk):
        raise NotPermitted(_("Only a supervisor draws a week again."))
    seed = secrets.randbits(SEED_BITS) if seed is None else seed
    start, end = week_window(week)
    try:
        with transaction.atomic():
            earlier = list(
                AuditSample.objects.select_for_update(of=("self",))
                .filter(dealer=dealer, week=week, superseded_at__isnull=True)
                .select_related("drawn_by")
            )
            if earlier and not redraw:
                first = earlier[0]
                raise Conflict(
                    _(
                        "%(week)s was drawn already, by %(who)s on %(when)s. Only a supervisor "
                        "may draw it again, and the redraw is recorded."
                    )
                    % {
                        "week": week_label(week),
                        "who": first.drawn_by,
                        "when": date_format(
                            timezone.localtime(first.drawn_at), "SHORT_DATE_FORMAT"
                        ),
                    },
                    code="already_drawn",
                )
            drawn = _draw(dealer, start, end, seed)
            if not any(population for population, _picked in drawn.values()):
                return Draw(
                    week,
                    seed,
                    [],
                    0,
                    _("Nothing to sample in %(week)s: no recorded calls, defeats or invalid "
                      "marks.") % {"week": week_label(week)},
                )  # fmt: skip
            now = timezone.now()
            if earlier:
                AuditSample.objects.filter(pk__in=[s.pk for s in earlier]).update(superseded_at=now)
                AuditTask.objects.filter(
                    sample__in=earlier, status=TaskStatus.OPEN
                ).update(status=TaskStatus.CANCELLED)  # fmt: skip
            samples, tasks = _store(dealer, week, seed, drawn, by=by, now=now, redraw=bool(earlier))
            record_change(
                dealer=dealer,
                by=by,
                what="audit_sample_drawn",
                subject=week.isoformat(),
                detail={
                    "seed": seed,
                    "redraw": bool(earlier),
                    "note": note[:200],
                    "counts": {
                        code: {"work": sum(population.values()), "drawn": len(picked)}
                        for code, (population, picked) in drawn.items()
                    },
                },
            )
    except IntegrityError as error:  # another draw of the same week won the race
        raise Conflict(_("This week was drawn a moment ago."), code="already_drawn") from error
    message = _("Drew %(count)d items of %(week)s (seed %(seed)d).") % {
        "count": tasks,
        "week": week_label(week),
        "seed": seed,
    }
    return Draw(week, seed, samples, tasks, message)


# Per source: ({person id: how much work}, [the work drawn])
Drawn = dict[str, tuple[dict[int, int], list[sources.Work]]]


def _draw(dealer: Dealer, start: datetime, end: datetime, seed: int) -> Drawn:
    drawn: Drawn = {}
    for plan in plans(dealer):
        by_person: dict[int, dict[int, sources.Work]] = defaultdict(dict)
        for work in sources.source(plan.source).work(dealer, start, end):
            by_person[work.person_id][work.item_id] = work
        picked = []
        for person_id, works in sorted(by_person.items()):
            chosen = pick(works, seed=seed, source=plan.source, person_id=person_id, plan=plan)
            picked.extend(works[item] for item in chosen)
        drawn[plan.source] = ({p: len(w) for p, w in by_person.items()}, picked)
    return drawn


def _store(
    dealer: Dealer, week: date, seed: int, drawn: Drawn, *, by: Staff, now: datetime, redraw: bool
) -> tuple[list[AuditSample], int]:
    members = Membership.objects.filter(
        dealer=dealer, role=Role.AUDITOR, is_active=True, staff__is_active=True
    )
    auditors = list(members.order_by("staff_id").values_list("staff_id", flat=True)) or [by.pk]
    samples, tasks = [], []
    for code, (population, picked) in drawn.items():
        if not population:
            continue
        ensure_form(dealer, code)
        sample = AuditSample.objects.create(
            dealer=dealer,
            week=week,
            source=code,
            seed=seed,
            population={str(person): count for person, count in sorted(population.items())},
            items=sorted(work.item_id for work in picked),
            drawn_by=by,
            drawn_at=now,
            redraw=redraw,
        )
        samples.append(sample)
        for work in picked:
            tasks.append(
                AuditTask(
                    dealer=dealer,
                    sample=sample,
                    source=code,
                    item_id=work.item_id,
                    person_id=work.person_id,
                    lead_id=work.lead_id,
                    # Shared out in turn, nobody auditing their own work where others can.
                    assignee_id=_auditor_for(auditors, len(tasks), work.person_id),
                    created_at=now,
                )
            )
    AuditTask.objects.bulk_create(tasks)
    return samples, len(tasks)


def _auditor_for(auditors: list[int], turn: int, person_id: int) -> int:
    others = [pk for pk in auditors if pk != person_id] or auditors
    return others[turn % len(others)]


# ---------------------------------------------------------------- audit forms


def ensure_form(dealer: Dealer, source: str) -> AuditForm:
    """The current form of `source` at the dealer; the source's default items the first time.
    Default texts are stored in English and shown translated (CheckItem.shown_text)."""
    form = AuditForm.objects.filter(dealer=dealer, source=source, is_current=True).first()
    if form is not None:
        return form
    defaults = [
        (_english(item.text), item.points, item.required, item.link)
        for item in sources.source(source).items
    ]
    return _new_version(dealer, source, defaults, by=None)


def _english(text: object) -> str:
    """The English source of a lazily translated default (what gettext translates back)."""
    args = getattr(text, "_args", None)
    return str(args[0]) if args else str(text)


FormItem = tuple[str, int, bool, str]  # text, points, required, link
# A row of the form editor: the item it edits (None: a new one), text, points, required.
EditedItem = tuple[int | None, str, int | None, bool]


def edited_items(*, dealer: Dealer, source: str, rows: Iterable[EditedItem]) -> list[FormItem]:
    """The editor's rows as the items of a new version. An item edited keeps its link (its tie
    to the call script); left as shown, a default item keeps its English text, so that it is
    still shown translated. A row naming an item of another form is a new item."""
    rows = list(rows)
    originals = CheckItem.objects.filter(form__dealer=dealer, form__source=source).in_bulk(
        [item_id for item_id, *_rest in rows if item_id is not None]
    )
    items = []
    for item_id, text, points, required in rows:
        text, link = text.strip(), ""
        original = originals.get(item_id) if item_id is not None else None
        if original is not None:
            link = original.link
            if text == original.shown_text.strip():
                text = original.text
        items.append((text, points or 0, required, link))
    return items


def save_form(
    *,
    dealer: Dealer,
    by: Staff,
    source: str,
    items: list[FormItem],
    based_on: int | None = None,
) -> AuditForm:
    """A new version of the source's form; audits scored on an earlier one keep it. With
    `based_on` (the version the editor showed), a version saved meanwhile by someone else is
    not silently replaced."""
    if not permissions.may_audit(by, dealer.pk):
        raise NotPermitted(_("Only the audit group and supervisors change audit forms."))
    if source not in sources.SOURCES:
        raise InvalidInput(_("Choose what to sample."), field="source")
    cleaned = []
    for text, points, required, link in items:
        text = text.strip()
        if not text:
            continue
        if not 0 < points <= MAX_POINTS:
            raise InvalidInput(_("An item is worth 1 to 100 points."), field="items")
        cleaned.append((text[:TEXT_LENGTH], points, bool(required), link))
    if not cleaned:
        raise InvalidInput(_("A form needs at least one check item."), field="items")
    with transaction.atomic():
        current = (
            AuditForm.objects.select_for_update()
            .filter(dealer=dealer, source=source, is_current=True)
            .values_list("version", flat=True)
            .first()
        )
        if based_on is not None and current is not None and current != based_on:
            raise Conflict(
                _(
                    "Someone saved version %(version)d of this form meanwhile. Saving again "
                    "replaces it with what you see here."
                )
                % {"version": current},
                code="form_changed",
            )
        form = _new_version(dealer, source, cleaned, by=by)
        record_change(
            dealer=dealer,
            by=by,
            what="audit_form",
            subject=source,
            detail={"version": form.version, "items": [list(item) for item in cleaned]},
        )
    return form


def _new_version(
    dealer: Dealer, source: str, items: list[FormItem], *, by: Staff | None
) -> AuditForm:
    with transaction.atomic():
        versions = AuditForm.objects.select_for_update().filter(dealer=dealer, source=source)
        latest = versions.aggregate(latest=Max("version"))["latest"] or 0
        versions.filter(is_current=True).update(is_current=False)
        form = AuditForm.objects.create(
            dealer=dealer, source=source, version=latest + 1, is_current=True, created_by=by
        )
        CheckItem.objects.bulk_create(
            CheckItem(form=form, position=n, text=text, points=points, required=required, link=link)
            for n, (text, points, required, link) in enumerate(items, start=1)
        )
    return form


# ---------------------------------------------------------------- an audit


def total_percent(items: Iterable[CheckItem], scores: Mapping[int, int | None]) -> Decimal:
    """Points given over the points of the items scored, in % to one decimal; an optional
    item left out (not applicable) is in neither."""
    given = possible = 0
    for item in items:
        points = scores.get(item.pk)
        if points is None:
            if item.required:
                raise InvalidInput(
                    _("Score “%(item)s”: it is required.") % {"item": item.shown_text},
                    field=f"item_{item.pk}",
                )
            continue
        if not 0 <= points <= item.points:
            raise InvalidInput(
                _("“%(item)s” takes 0 to %(points)d points.")
                % {"item": item.shown_text, "points": item.points},
                field=f"item_{item.pk}",
            )
        given, possible = given + points, possible + item.points
    if not possible:
        raise InvalidInput(_("Score at least one item."), field="scores")
    return (Decimal(100 * given) / possible).quantize(Decimal("0.1"), ROUND_HALF_UP)


def submit_audit(
    *,
    task: AuditTask,
    by: Staff,
    form: AuditForm,
    scores: Mapping[int, int | None],
    result: str,
    finding: str = "",
) -> Audit:
    """The auditor's finding on a drawn item, scored on `form` (the version they were shown,
    even if the form changed since). The task is done; the lead's ledger notes the audit."""
    if not permissions.may_audit(by, task.dealer_id):
        raise NotPermitted(_("Only the audit group and supervisors audit."))
    if task.person_id == by.pk:
        raise NotPermitted(_("Nobody audits their own work."))
    if form.dealer_id != task.dealer_id or form.source != task.source:
        raise InvalidInput(_("This form is not for this kind of work."), field="form")
    if result not in AuditResult.values:
        raise InvalidInput(_("Choose a result."), field="result")
    if result == AuditResult.OVERTURN and not sources.source(task.source).may_overturn:
        raise InvalidInput(_("Only a defeat or an invalid mark can be overturned."), field="result")
    with transaction.atomic():
        locked = (
            AuditTask.objects.select_for_update(of=("self",)).select_related("lead").get(pk=task.pk)
        )
        if locked.status != TaskStatus.OPEN:
            raise Conflict(
                _("This item was audited already.")
                if locked.status == TaskStatus.DONE
                else _("A redraw cancelled this task."),
                code="task_closed",
            )
        total = total_percent(form.items.all(), scores)
        audit = Audit.objects.create(
            dealer_id=locked.dealer_id,
            task=locked,
            form=form,
            person_id=locked.person_id,
            auditor=by,
            lead_id=locked.lead_id,
            scores={str(pk): points for pk, points in scores.items() if points is not None},
            total_percent=total,
            score=total,
            finding=finding.strip(),
            result=result,
        )
        locked.status = TaskStatus.DONE
        locked.save(update_fields=["status"])
        _note_on_lead(
            audit,
            by=by,
            step="audited",
            note=audit.finding,
            source=locked.source,
            score=str(total),
            result=result,
        )
    return audit


def _note_on_lead(audit: Audit, *, by: Staff, step: str, note: str = "", **data: object) -> None:
    """Each step of an audit joins the ledger of the lead it concerns (a call without a lead
    has none to join: the audit itself is its record)."""
    if audit.lead_id is None:
        return
    lead_actions.record_fact(
        lead=audit.lead,
        by=by,
        kind=EventKind.AUDITED,
        note=note,
        data={"audit": audit.pk, "step": step, **data},
    )


def overturn(*, audit: Audit, by: Staff, to: Staff | None = None, note: str = "") -> Audit:
    """The customer still wants a car: the defeat or invalid mark audited is undone, the lead
    back with its owner at the exit (or with whom a supervisor names), the audit in its
    history."""
    if not permissions.may_audit(by, audit.dealer_id):
        raise NotPermitted(_("Only the audit group and supervisors overturn."))
    if to is not None and not permissions.may_name_owner(by, audit.dealer_id):
        raise NotPermitted(_("Only a supervisor names who takes the lead."))
    if not sources.source(audit.task.source).may_overturn or audit.lead_id is None:
        raise InvalidInput(_("Only a defeat or an invalid mark can be overturned."))
    with transaction.atomic():
        locked = (
            Audit.objects.select_for_update(of=("self",)).select_related("lead").get(pk=audit.pk)
        )
        if locked.overturned_at is not None:
            raise Conflict(_("This audit overturned the lead already."), code="overturned")
        lead_actions.overturn_exit(lead=locked.lead, by=by, audit=locked.pk, to=to, note=note)
        locked.overturned_at = timezone.now()
        locked.result = AuditResult.OVERTURN
        locked.save(update_fields=["overturned_at", "result"])
    return locked


# ---------------------------------------------------------------- appeals


def appeal(*, audit: Audit, by: Staff, reason: str) -> Appeal:
    """The audited person disagrees, once, with a reason; a supervisor decides."""
    if by.pk != audit.person_id:
        raise NotPermitted(_("Only the person audited appeals."))
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why you appeal."), field="reason")
    if Appeal.objects.filter(audit=audit).exists():
        raise Conflict(_("This audit was appealed already: an audit is appealed once."))
    try:
        with transaction.atomic():
            made = Appeal.objects.create(dealer_id=audit.dealer_id, audit=audit, reason=reason)
            _note_on_lead(audit, by=by, step="appealed", note=reason)
    except IntegrityError as error:
        raise Conflict(_("This audit was appealed already: an audit is appealed once.")) from error
    return made


def decide_appeal(
    *,
    appeal: Appeal,
    by: Staff,
    decision: str,
    corrected_percent: Decimal | None = None,
    note: str = "",
) -> Appeal:
    """Upheld: the score stays. Granted: the supervisor's corrected score replaces it (a failed
    audit corrected to the pass mark passes)."""
    if not permissions.may_decide_appeals(by, appeal.dealer_id):
        raise NotPermitted(_("A DCC supervisor, the sales manager or the GM decides appeals."))
    if decision not in AppealDecision.values:
        raise InvalidInput(_("Uphold or grant the appeal."), field="decision")
    if decision == AppealDecision.GRANTED:
        if corrected_percent is None or not 0 <= corrected_percent <= 100:
            raise InvalidInput(_("Give the corrected score, 0 to 100 %."), field="corrected")
        corrected_percent = Decimal(corrected_percent).quantize(Decimal("0.1"), ROUND_HALF_UP)
    else:
        corrected_percent = None
    with transaction.atomic():
        locked = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("audit__lead")
            .get(pk=appeal.pk)
        )
        if locked.decision:
            raise Conflict(_("This appeal was decided already."), code="decided")
        audit = locked.audit
        if by.pk == audit.person_id:
            raise NotPermitted(_("Nobody decides their own appeal."))
        locked.decision, locked.decided_by, locked.decided_at = decision, by, timezone.now()
        locked.corrected_percent, locked.note = corrected_percent, note.strip()
        locked.save()
        if corrected_percent is not None:
            audit.score = corrected_percent
            if audit.result == AuditResult.FAIL and corrected_percent >= PASS_MARK:
                audit.result = AuditResult.PASS
            audit.save(update_fields=["score", "result"])
        _note_on_lead(
            audit,
            by=by,
            step=decision,
            note=locked.note,
            score=str(audit.score),
        )
    return locked
