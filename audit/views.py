"""The audit group's pages: the workbench 监察 (the week's sample and what is left to audit), an
audit of one drawn item, the audited person's results with their appeal, the supervisors'
appeals, and the group's settings: the sampling plans and each source's check items. Reads
from audit.selectors, writes through audit.actions."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import actions, permissions, selectors, sources
from audit.forms import (
    AppealForm,
    CheckItemFormSet,
    DecisionForm,
    DrawForm,
    FormVersionForm,
    OverturnForm,
    PlanForm,
    scores_of,
    scoring_form,
)
from audit.models import Appeal, AuditForm, TaskStatus
from dcc.errors import DomainError
from dcc.forms import save_form
from leads.views.common import workbench


def _week(request: HttpRequest) -> date:
    """The week asked for (any day of it), else last week: the one drawn on Monday."""
    today = timezone.localdate()
    try:
        day = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = today - timedelta(days=7)
    return actions.week_asked(day, today)


@workbench(permissions.may_see_audits)
def workbench_page(request: HttpRequest) -> HttpResponse:
    week = _week(request)
    dealer = request.dealer
    may_audit = permissions.may_audit(request.user, dealer.pk)
    tasks = list(selectors.open_tasks(dealer, week))
    return render(
        request,
        "audit/workbench.html",
        {
            "week": week,
            "week_label": actions.week_label(week),
            "previous_week": week - timedelta(days=7),
            "next_week": week + timedelta(days=7)
            if week < actions.week_of(timezone.localdate())
            else None,
            "progress": selectors.week_progress(dealer, week),
            "tasks": tasks,
            "mine": sum(1 for task in tasks if task.assignee_id == request.user.pk),
            "may_audit": may_audit,
            "may_redraw": permissions.may_redraw(request.user, dealer.pk),
            "may_decide": permissions.may_decide_appeals(request.user, dealer.pk),
            "appeals_waiting": selectors.pending_appeals(dealer).count(),
            "draw_form": DrawForm(initial={"week": week}),
            "source_labels": _source_labels(),
        },
    )


@workbench(permissions.may_audit)
@require_POST
def draw(request: HttpRequest) -> HttpResponse:
    form = DrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("audit_workbench")
    week = form.cleaned_data["week"]
    try:
        made = actions.draw_sample(
            dealer=request.dealer,
            week=week,
            by=request.user,
            seed=form.cleaned_data["seed"],
            redraw=form.cleaned_data["redraw"],
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        (messages.success if made.tasks else messages.info)(request, made.message)
    shown = actions.week_asked(week, timezone.localdate())
    return redirect(reverse("audit_workbench") + f"?week={shown.isoformat()}")


@workbench(permissions.may_see_audits)
def task_page(request: HttpRequest, task_id: int) -> HttpResponse:
    """One drawn item: what it is, and the form to score it (or the audit made of it)."""
    task = selectors.task_for(request.user, request.dealer, task_id)
    source = sources.source(task.source)
    audit = selectors.audit_of(task) if task.status == TaskStatus.DONE else None
    scoring = None
    form_version = None
    status = 200
    if audit is None and task.status == TaskStatus.OPEN:
        if request.method == "POST":
            form_version = get_object_or_404(
                AuditForm, pk=request.POST.get("form"), dealer=request.dealer
            )
        else:
            form_version = actions.ensure_form(request.dealer, task.source)
        scoring = scoring_form(
            form_version,
            may_overturn=source.may_overturn,
            data=request.POST if request.method == "POST" else None,
        )
        if request.method == "POST":
            if not permissions.may_audit(request.user, request.dealer.pk):
                raise Http404
            if scoring.is_valid():
                try:
                    actions.submit_audit(
                        task=task,
                        by=request.user,
                        form=form_version,
                        scores=scores_of(form_version, scoring.cleaned_data),
                        result=scoring.cleaned_data["result"],
                        finding=scoring.cleaned_data["finding"],
                    )
                except DomainError as error:
                    scoring.add_error(None, error.message)
                else:
                    return redirect("audit_task", task_id=task.pk)
            status = 422
    elif request.method == "POST":
        return redirect("audit_task", task_id=task.pk)
    items = None
    if audit is not None:
        given = audit.scores
        items = [(item, given.get(str(item.pk))) for item in audit.form.items.all()]
    return render(
        request,
        "audit/task.html",
        {
            "task": task,
            "source": source,
            "audit": audit,
            "audit_items": items,
            "scoring": scoring,
            "form_version": form_version,
            "may_audit": permissions.may_audit(request.user, request.dealer.pk),
            "overturn_form": OverturnForm(dealer=request.dealer)
            if audit
            and source.may_overturn
            and audit.overturned_at is None
            and permissions.may_audit(request.user, request.dealer.pk)
            else None,
            "may_name_owner": permissions.may_name_owner(request.user, request.dealer.pk),
            **sources.detail(task),
        },
        status=status,
    )


@workbench(permissions.may_audit)
@require_POST
def overturn(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = selectors.visible_audit(request.user, request.dealer, audit_id)
    form = OverturnForm(request.POST, dealer=request.dealer)
    if form.is_valid():
        try:
            actions.overturn(
                audit=audit,
                by=request.user,
                to=form.cleaned_data["to"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Overturned: the lead is followed up again."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("audit_task", task_id=audit.task_id)


@workbench(permissions.may_see_own_audits)
def mine(request: HttpRequest) -> HttpResponse:
    """我的监察结果: the audits of one's own work, with the appeal (once) and its decision."""
    audits = list(selectors.audits_of(request.user, request.dealer)[:100])
    return render(
        request,
        "audit/mine.html",
        {"audits": audits, "appeal_form": AppealForm(), "labels": _source_labels()},
    )


def _source_labels() -> dict[str, str]:
    return {code: str(source.label) for code, source in sources.SOURCES.items()}


@workbench(permissions.may_see_own_audits)
@require_POST
def appeal(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = selectors.visible_audit(request.user, request.dealer, audit_id)
    form = AppealForm(request.POST)
    if form.is_valid():
        try:
            actions.appeal(audit=audit, by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Appeal sent: a supervisor decides."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("audit_mine")


@workbench(permissions.may_decide_appeals)
def appeals(request: HttpRequest) -> HttpResponse:
    waiting = list(selectors.pending_appeals(request.dealer))
    return render(
        request,
        "audit/appeals.html",
        {"appeals": waiting, "decision_form": DecisionForm(), "labels": _source_labels()},
    )


@workbench(permissions.may_decide_appeals)
@require_POST
def decide(request: HttpRequest, appeal_id: int) -> HttpResponse:
    made = get_object_or_404(Appeal, pk=appeal_id, dealer=request.dealer)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            actions.decide_appeal(
                appeal=made,
                by=request.user,
                decision=form.cleaned_data["decision"],
                corrected_percent=form.cleaned_data["corrected"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("audit_appeals")


# ---------------------------------------------------------------- the audit group's settings


def _editor(request: HttpRequest) -> bool:
    """The audit group changes its settings; the other readers of the workbench see them. A
    change by anyone else is refused before anything is read or written."""
    editor = permissions.may_audit(request.user, request.dealer.pk)
    if request.method == "POST" and not editor:
        raise PermissionDenied
    return editor


@workbench(permissions.may_see_audits)
def plans(request: HttpRequest) -> HttpResponse:
    """每个来源的抽样比例: one row per source, each saved on its own."""
    editor = _editor(request)
    bound = None
    if request.method == "POST":
        code = request.POST.get("source", "")
        if code not in sources.SOURCES:
            raise Http404
        bound = PlanForm(request.POST, prefix=code)
        if save_form(
            bound,
            lambda: actions.set_plan(
                dealer=request.dealer, by=request.user, source=code, **bound.cleaned_data
            ),
        ):
            messages.success(
                request,
                _("Sampling plan of %(source)s saved: the next draw takes it.")
                % {"source": sources.source(code).label},
            )
            return redirect(reverse("audit_plans") + f"#plan-{code}")
    rows = []
    for row in selectors.plan_rows(request.dealer):
        form = None
        if editor:
            form = (
                bound
                if bound is not None and bound.prefix == row.code
                else PlanForm(
                    prefix=row.code,
                    initial={
                        "share_percent": row.share_percent,
                        "min_per_person": row.min_per_person,
                        "is_active": row.is_active,
                    },
                )
            )
        rows.append((row, form))
    return render(
        request,
        "audit/plans.html",
        {"rows": rows, "editor": editor},
        status=422 if bound is not None and bound.errors else 200,
    )


@workbench(permissions.may_see_audits)
def form_edit(request: HttpRequest, source: str) -> HttpResponse:
    """检查项: the current version of a source's check items; saving makes the next version."""
    if source not in sources.SOURCES:
        raise Http404
    editor = _editor(request)
    if request.method == "POST":
        rows = CheckItemFormSet(request.POST, prefix="item")
        outer = FormVersionForm(request.POST)
        if rows.is_valid() and save_form(
            outer,
            lambda: actions.save_form(
                dealer=request.dealer,
                by=request.user,
                source=source,
                items=actions.edited_items(
                    dealer=request.dealer,
                    source=source,
                    rows=[row.edited() for row in rows],
                ),
                based_on=outer.cleaned_data["version"],
            ),
        ):
            messages.success(
                request,
                _("Check items saved. Audits already scored keep the version they were scored on."),
            )
            return redirect("audit_form_edit", source=source)
    current = actions.ensure_form(request.dealer, source)
    items = list(current.items.all())
    if request.method != "POST":
        outer = FormVersionForm()
        rows = CheckItemFormSet(
            prefix="item",
            initial=[
                {"item": item.pk, "text": item.shown_text, "points": item.points,
                 "required": item.required}
                for item in items
            ],
        )  # fmt: skip
    links = {str(item.pk): item.link for item in items}
    return render(
        request,
        "audit/form_edit.html",
        {
            "source": sources.source(source),
            "form_version": current,
            "items": items,
            "rows": [(row, links.get(str(row["item"].value() or ""), "")) for row in rows],
            "formset": rows,
            "outer": outer,
            "editor": editor,
        },
        status=422 if request.method == "POST" else 200,
    )
