"""Owner operations' pages: the return visits to make (回访), a visit's form, complaints, and
the owner page. Views parse and show; owners.visits, owners.complaints decide and write."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role, Staff
from dcc.errors import DomainError, NotPermitted
from dcc.forms import save_form
from dcc.phone import mask_phone
from leads.models import Customer
from leads.views.common import workbench
from owners import complaints as complaint_actions
from owners import questionnaires, referrals
from owners.events import invitations_of_owner
from owners.forms import AssignForm, ComplaintForm, ConfirmForm, ResolveForm, VisitForm
from owners.models import (
    ACTIVE_COMPLAINT,
    Complaint,
    ComplaintSource,
    ComplaintStatus,
    Member,
    ReturnVisit,
    Vehicle,
    VehicleOwnership,
    VisitStatus,
)
from owners.permissions import (
    may_raise_complaint,
    may_see_complaints,
    may_see_events,
    may_use_visits,
    may_work_complaint,
    may_work_visit,
    reads_everything,
    visible_complaints,
    visible_visits,
    works_owners,
)
from owners.visits import attempt_visit, dial_for_visit

# ---------------------------------------------------------------- return visits


# Rows shown per section of the visit list; the counts say how many more wait.
SECTION_ROWS = 100


@workbench(may_use_visits)
def visit_list(request: HttpRequest) -> HttpResponse:
    """The visits due: overdue, today, the rest of the week — each section oldest first, the
    first hundred shown, its count in full."""
    now = timezone.now()
    today_ends = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today_ends += timedelta(days=1)
    week_ends = today_ends + timedelta(days=6)
    visits = visible_visits(request.user, request.dealer.pk).filter(
        status=VisitStatus.DUE, due_at__lt=week_ends
    )
    if request.GET.get("mine") == "1":
        visits = visits.filter(assignee=request.user)
    ranges = {
        "overdue": Q(due_at__lt=now),
        "today": Q(due_at__gte=now, due_at__lt=today_ends),
        "week": Q(due_at__gte=today_ends),
    }
    counts = visits.aggregate(**{key: Count("pk", filter=when) for key, when in ranges.items()})
    titles = {"overdue": _("Overdue"), "today": _("Due today"), "week": _("This week")}
    sections = []
    for key, when in ranges.items():
        rows = list(
            visits.filter(when)
            .select_related("vehicle__owner", "assignee")
            .order_by("due_at", "id")[:SECTION_ROWS]
        )
        for visit in rows:
            visit.phone = mask_phone(visit.vehicle.owner.phone)
        sections.append((key, titles[key], rows, counts[key]))
    return render(
        request,
        "owners/visits.html",
        {"sections": sections, "mine": request.GET.get("mine") == "1"},
    )


def _visit(request: HttpRequest, visit_id: int) -> ReturnVisit:
    return get_object_or_404(
        visible_visits(request.user, request.dealer.pk).select_related(
            "vehicle__owner", "assignee", "version", "lead"
        ),
        pk=visit_id,
    )


@workbench(may_use_visits)
def visit_detail(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = _visit(request, visit_id)
    questions = visit.version.questions if visit.version else []
    form = VisitForm(request.POST if request.method == "POST" else None, questions=questions)
    may_work = may_work_visit(request.user, visit) and visit.status == VisitStatus.DUE
    if request.method == "POST":
        if not may_work:
            raise PermissionDenied
        if save_form(
            form,
            lambda: attempt_visit(
                visit=visit,
                by=request.user,
                reached=form.cleaned_data["reached"],
                answers=form.answers() if form.cleaned_data["reached"] else None,
                note=form.cleaned_data["note"],
            ),
        ):
            messages.success(request, _("Return visit recorded."))
            return redirect("return_visits")
    answered = questionnaires.answered(questions, visit.answers)
    return render(
        request,
        "owners/visit.html",
        {
            "visit": visit,
            "form": form,
            "question_keys": [q["key"] for q in questions],
            "may_work": may_work,
            "answered": answered,
            "phone": mask_phone(visit.vehicle.owner.phone),
        },
        status=422 if form.errors else 200,
    )


@workbench(may_use_visits)
@require_POST
def visit_dial(request: HttpRequest, visit_id: int) -> HttpResponse:
    """The call button of a visit: the person's seat rings, then the customer's phone."""
    visit = _visit(request, visit_id)
    try:
        dial_for_visit(visit=visit, by=request.user)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Calling: your phone rings first, then the customer's."))
    return redirect("return_visit", visit.pk)


# ---------------------------------------------------------------- complaints


@workbench(may_see_complaints)
def complaint_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "open")
    complaints = visible_complaints(request.user, request.dealer.pk).select_related(
        "customer", "handler", "about"
    )
    if tab == "late":
        complaints = complaints.filter(status__in=ACTIVE_COMPLAINT, deadline__lte=timezone.now())
    elif tab == "mine":
        complaints = complaints.filter(
            Q(handler=request.user) | Q(escalated_to=request.user) | Q(about=request.user)
        )
    elif tab == "closed":
        complaints = complaints.exclude(status__in=ACTIVE_COMPLAINT)
    else:
        tab = "open"
        complaints = complaints.filter(status__in=ACTIVE_COMPLAINT)
    tabs = [
        ("open", _("Open")),
        ("late", _("Late")),
        ("mine", _("Mine")),
        ("closed", _("Resolved and closed")),
    ]
    return render(
        request,
        "owners/complaints.html",
        {
            "complaints": complaints.order_by("deadline", "id")[:200],
            "tab": tab,
            "tabs": tabs,
            "now": timezone.now(),
        },
    )


def _complaint(request: HttpRequest, complaint_id: int) -> Complaint:
    return get_object_or_404(
        visible_complaints(request.user, request.dealer.pk).select_related(
            "customer", "handler", "about", "escalated_to", "vehicle", "opened_by", "lead"
        ),
        pk=complaint_id,
    )


def _people(dealer_id: int):
    return (
        Staff.objects.filter(
            memberships__dealer_id=dealer_id,
            memberships__is_active=True,
            memberships__role__in=[
                Role.OWNER_OPS,
                Role.SALES_MANAGER,
                Role.GM,
                Role.SHOWROOM_MANAGER,
            ],
        )
        .distinct()
        .order_by("display_name")
    )


@workbench(may_see_complaints)
def complaint_detail(request: HttpRequest, complaint_id: int) -> HttpResponse:
    complaint = _complaint(request, complaint_id)
    may_work = may_work_complaint(request.user, complaint)
    forms_ = {
        "resolve": ResolveForm(prefix="resolve"),
        "confirm": ConfirmForm(prefix="confirm"),
        "assign": AssignForm(prefix="assign", people=_people(complaint.dealer_id)),
    }
    status = 200
    if request.method == "POST":
        if not may_work:
            raise PermissionDenied
        step = request.POST.get("step")
        if step not in forms_:
            raise Http404
        form = forms_[step].__class__(
            request.POST,
            prefix=step,
            **({"people": _people(complaint.dealer_id)} if step == "assign" else {}),
        )
        forms_[step] = form
        perform = {
            "resolve": lambda: complaint_actions.resolve_complaint(
                complaint=complaint, by=request.user, resolution=form.cleaned_data["resolution"]
            ),
            "confirm": lambda: complaint_actions.confirm_complaint(
                complaint=complaint,
                by=request.user,
                satisfied=form.cleaned_data["satisfied"],
                note=form.cleaned_data["note"],
            ),
            "assign": lambda: complaint_actions.assign_complaint(
                complaint=complaint, by=request.user, to=form.cleaned_data["to"]
            ),
        }[step]
        if save_form(form, perform):
            messages.success(request, _("Complaint updated."))
            return redirect("complaint", complaint.pk)
        status = 422
    return render(
        request,
        "owners/complaint.html",
        {
            "complaint": complaint,
            "steps": complaint_actions.steps_of(complaint),
            "may_work": may_work,
            "active": complaint.status in ACTIVE_COMPLAINT,
            "resolved": complaint.status == ComplaintStatus.RESOLVED,
            "forms": forms_,
            "late": complaint.status in ACTIVE_COMPLAINT and complaint.deadline <= timezone.now(),
        },
        status=status,
    )


# ---------------------------------------------------------------- the owner page


def _customer(request: HttpRequest, customer_id: int) -> Customer:
    """The customer at this dealer, if this person may see them as an owner: the workers and
    readers, or whoever sold them a car or has one of their visits."""
    customer = get_object_or_404(Customer, pk=customer_id, dealer=request.dealer)
    if reads_everything(request.user, request.dealer.pk):
        return customer
    theirs = Vehicle.objects.filter(owner=customer, consultant=request.user).exists() or (
        ReturnVisit.objects.filter(vehicle__owner=customer, assignee=request.user).exists()
    )
    if not theirs:
        raise Http404
    return customer


@workbench(may_see_complaints)
def owner_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = _customer(request, customer_id)
    vehicles = list(
        Vehicle.objects.filter(
            pk__in=VehicleOwnership.objects.filter(customer=customer).values("vehicle_id")
        )
        .select_related("consultant")
        .order_by("-delivered_at")
    )
    ownerships: dict[int, list] = {}
    for ownership in VehicleOwnership.objects.filter(
        vehicle__in=[v.pk for v in vehicles]
    ).select_related("customer"):
        ownerships.setdefault(ownership.vehicle_id, []).append(ownership)
    for vehicle in vehicles:
        vehicle.history = ownerships.get(vehicle.pk, [])
    visits = (
        visible_visits(request.user, request.dealer.pk)
        .filter(vehicle__owner=customer)
        .select_related("assignee", "vehicle")
        .order_by("due_at")
    )
    complaints = (
        visible_complaints(request.user, request.dealer.pk)
        .filter(customer=customer)
        .select_related("handler")
        .order_by("-opened_at")
    )
    invitations = invitations_of_owner(customer)
    form = ComplaintForm(request.POST or None, initial={"source": ComplaintSource.CALL})
    may_raise = may_raise_complaint(request.user, request.dealer.pk)
    if request.method == "POST":
        if not may_raise:
            raise PermissionDenied
        raised: list[Complaint] = []
        if save_form(
            form,
            lambda: raised.append(
                complaint_actions.raise_complaint(
                    customer=customer,
                    by=request.user,
                    vehicle=vehicles[0]
                    if vehicles and vehicles[0].owner_id == customer.pk
                    else None,
                    **form.cleaned_data,
                )
            ),
        ):
            messages.success(request, _("Complaint raised."))
            return redirect("complaint", raised[0].pk)
    return render(
        request,
        "owners/owner.html",
        {
            "customer": customer,
            "phone": mask_phone(customer.phone),
            "vehicles": vehicles,
            "visits": visits,
            "complaints": complaints,
            "member": Member.objects.filter(dealer=request.dealer, customer=customer)
            .select_related("tier")
            .first(),
            "may_enrol": works_owners(request.user, request.dealer.pk),
            "referrals_made": referrals.made_by(customer),
            "invitations": invitations,
            "may_see_events": may_see_events(request.user, request.dealer.pk),
            "form": form,
            "may_raise": may_raise,
        },
        status=422 if form.errors else 200,
    )
