"""The return-visit plan and the questionnaires, in the settings area, for those who may
change the dealer's settings. owners.plans and owners.questionnaires check and write."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.roles import check_configure
from dcc.forms import save_form
from leads.permissions import may_change_settings
from leads.setup.views import SECTIONS
from leads.views.common import workbench
from owners import complaints, plans, questionnaires
from owners.forms import DeadlinesForm, PlanForm, QuestionnaireForm, StepForm
from owners.models import Questionnaire, QuestionnairePurpose, ReturnVisitStep

SECTION = "settings_return_visits"


def _page(request: HttpRequest, template: str, context: dict, *, status: int = 200):
    context = {"sections": SECTIONS, "section": SECTION, **context}
    return render(request, f"owners/settings/{template}", context, status=status)


def _form_page(request: HttpRequest, form, *, title: str, intro: str = "") -> HttpResponse:
    return _page(
        request,
        "form.html",
        {"form": form, "title": title, "intro": intro},
        status=422 if form.errors else 200,
    )


@workbench(may_change_settings)
def plan(request: HttpRequest) -> HttpResponse:
    """The plan's steps, its attempts, and the questionnaires."""
    current = plans.plan_of(request.dealer)
    questionnaires.default_questionnaire(request.dealer)
    chosen = request.POST.get("form", "plan") if request.method == "POST" else None
    form = PlanForm(
        request.POST if chosen == "plan" else None,
        initial={"attempts": current.attempts, "retry_hours": current.retry_hours},
    )
    deadlines = DeadlinesForm(
        request.POST if chosen == "deadlines" else None,
        initial={
            f"{severity}_hours": complaints.hours_for(request.dealer, severity)
            for severity in complaints.SEVERITY_ORDER
        },
    )
    if chosen == "plan" and save_form(
        form, lambda: plans.save_plan(dealer=request.dealer, by=request.user, **form.cleaned_data)
    ):
        messages.success(request, _("Return-visit plan saved."))
        return redirect("settings_return_visits")
    if chosen == "deadlines" and save_form(
        deadlines,
        lambda: complaints.save_deadlines(
            dealer=request.dealer, by=request.user, **deadlines.cleaned_data
        ),
    ):
        messages.success(request, _("Complaint deadlines saved."))
        return redirect("settings_return_visits")
    steps = current.steps.select_related("questionnaire").order_by("offset_hours", "id")
    listed = Questionnaire.objects.filter(dealer=request.dealer).order_by("name")
    return _page(
        request,
        "plan.html",
        {"form": form, "deadlines": deadlines, "steps": steps, "questionnaires": listed},
        status=422 if form.errors or deadlines.errors else 200,
    )


@workbench(may_change_settings)
def step_edit(request: HttpRequest, step_id: int | None = None) -> HttpResponse:
    step = (
        get_object_or_404(ReturnVisitStep, pk=step_id, dealer=request.dealer) if step_id else None
    )
    initial = (
        {
            "name": _(step.name),
            "offset_hours": step.offset_hours,
            "performer": step.performer,
            "questionnaire": step.questionnaire_id,
            "sample_percent": step.sample_percent,
            "is_active": step.is_active,
        }
        if step
        else {}
    )
    form = StepForm(request.POST or None, initial=initial, dealer=request.dealer)
    if request.method == "POST" and save_form(
        form,
        lambda: plans.save_step(
            dealer=request.dealer, by=request.user, step=step, **form.cleaned_data
        ),
    ):
        messages.success(request, _("Step saved. Visits already scheduled keep their time."))
        return redirect("settings_return_visits")
    return _form_page(request, form, title=_("Return-visit step"))


@workbench(may_change_settings)
def questionnaire_edit(request: HttpRequest, questionnaire_id: int | None = None) -> HttpResponse:
    questionnaire = (
        get_object_or_404(Questionnaire, pk=questionnaire_id, dealer=request.dealer)
        if questionnaire_id
        else None
    )
    initial = {}
    if questionnaire is not None:
        version = questionnaires.current_version(questionnaire)
        initial = {
            "name": str(questionnaire),
            "questions": QuestionnaireForm.as_text(version.questions),
        }
    form = QuestionnaireForm(request.POST or None, initial=initial)
    if request.method == "POST":

        def perform() -> None:
            check_configure(request.user, request.dealer)
            if questionnaire is None:
                questionnaires.create_questionnaire(
                    dealer=request.dealer,
                    by=request.user,
                    name=form.cleaned_data["name"],
                    purpose=QuestionnairePurpose.OTHER,
                    questions=form.cleaned_data["questions"],
                )
            else:
                questionnaires.edit_questionnaire(
                    questionnaire=questionnaire,
                    by=request.user,
                    questions=form.cleaned_data["questions"],
                    name=None if questionnaire.is_default else form.cleaned_data["name"],
                )

        if save_form(form, perform):
            messages.success(
                request, _("Questionnaire saved: visits already started keep their questions.")
            )
            return redirect("settings_return_visits")
    return _form_page(
        request,
        form,
        title=str(questionnaire) if questionnaire else _("New questionnaire"),
        intro=_("Saving makes a new version; visits already scheduled keep theirs."),
    )
