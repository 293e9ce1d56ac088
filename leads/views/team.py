"""The supervisors' and managers' workbench: the team board, the defeat approval queue, bulk
reassignment of leads, and leave with a named cover. Reads come from leads.selectors_team;
every write is an action from leads.actions."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from dcc.errors import DomainError
from leads import actions, selectors_team, teams
from leads.forms_team import AbsenceForm, DecisionForm, ReassignFilter, ReassignForm
from leads.permissions import may_see_team_board, visible_leads
from leads.views.common import is_htmx, workbench

REASSIGN_LIMIT = 200  # leads listed at once; narrow the filter for more


def _page(
    request: HttpRequest, template: str, tab: str, context: dict, status: int = 200
) -> HttpResponse:
    """Render a team page with its tabs; the defeat tab shows how many requests wait."""
    if "pending_count" not in context:
        context["pending_count"] = selectors_team.pending_defeat_count(
            staff=request.user, dealer=request.dealer
        )
    return render(request, template, {"tab": tab, **context}, status=status)


# ---------------------------------------------------------------- board


@workbench(may_see_team_board)
def board(request: HttpRequest) -> HttpResponse:
    """Each person on the line: open leads, tasks due today, overdue, today's SLA breaches;
    cut by team (a DCC group's leader sees their group unless they ask for all)."""
    offered = teams.board_teams(request.dealer)
    chosen = teams.board_team(request.user, request.GET.get("team"), offered)
    return _page(
        request,
        "leads/team/board.html",
        "board",
        {
            "board": selectors_team.team_board(dealer=request.dealer, team=chosen),
            "teams": offered,
            "chosen_team": chosen,
        },
    )


# ---------------------------------------------------------------- defeat approval


DECISIONS = {
    "approve": actions.approve_defeat,
    "reject": actions.reject_defeat,
}


@workbench(may_see_team_board)
def defeats(request: HttpRequest) -> HttpResponse:
    """Defeat requests waiting for a decision, oldest first, each with approve and reject."""
    requests = selectors_team.pending_defeats(staff=request.user, dealer=request.dealer)
    return _page(
        request,
        "leads/team/defeats.html",
        "defeats",
        {
            "requests": requests,
            "reasons": selectors_team.defeat_reasons(request.dealer),
            "pending_count": len(requests),
        },
    )


@workbench(may_see_team_board)
@require_POST
def defeat_decide(request: HttpRequest, lead_id: int, decision: str) -> HttpResponse:
    """Approve or reject one defeat request. With htmx the row turns into its outcome (or shows
    why it could not) and the tab's count of waiting requests follows; without, back to the
    queue with a message."""
    decide = DECISIONS.get(decision)
    lead = visible_leads(request.user, dealer_id=request.dealer.pk).filter(pk=lead_id).first()
    if decide is None or lead is None:
        raise Http404
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    error: DomainError | None = None
    try:
        lead = decide(lead=lead, by=request.user, note=note)
    except DomainError as failed:
        error = failed
    if not is_htmx(request):
        if error:
            messages.error(request, error.message)
        elif decision == "approve":
            messages.success(request, _("Defeat approved: %(lead)s.") % {"lead": lead})
        else:
            messages.success(request, _("Defeat rejected: %(lead)s.") % {"lead": lead})
        return redirect("team_defeats")
    context = {
        "lead": lead,
        "decision": decision,
        "error": error.message if error else "",
    }
    if error:
        context["reasons"] = selectors_team.defeat_reasons(request.dealer)
        pending = selectors_team.pending_defeats(
            staff=request.user, dealer=request.dealer, lead_ids=[lead.pk]
        )
        context["req"] = pending[0] if pending else None
    # The tab's count is outside the swapped row: it comes along out of band, as it stands now
    # (others may have decided meanwhile too).
    context["count_changed"] = True
    context["pending_count"] = selectors_team.pending_defeat_count(
        staff=request.user, dealer=request.dealer
    )
    status = error.status if error else 200
    return render(request, "leads/team/_defeat_row.html", context, status=status)


# ---------------------------------------------------------------- reassignment


@workbench(may_see_team_board)
def reassign(request: HttpRequest) -> HttpResponse:
    """Pick leads (by owner and stage), pick a person, move them all; each move is a handoff
    in the ledger. Refusals are reported per lead; the rest still move."""
    filters = ReassignFilter(request.GET or None, dealer=request.dealer)
    owner, stage = None, ""
    if filters.is_valid():
        owner, stage = filters.cleaned_data["owner"], filters.cleaned_data["stage"]
    posted = request.POST if request.method == "POST" else None
    form = ReassignForm(posted, staff=request.user, dealer=request.dealer)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["to"]
        result = actions.reassign_leads(
            leads=list(form.cleaned_data["leads"].order_by("pk")),
            by=request.user,
            to=target,
            note=form.cleaned_data["note"],
        )
        moved, failed = result.moved, result.refused
        if moved:
            messages.success(
                request,
                ngettext(
                    "%(count)d lead moved to %(name)s.",
                    "%(count)d leads moved to %(name)s.",
                    moved,
                )
                % {"count": moved, "name": target},
            )
        for lead, message in failed:
            messages.error(
                request,
                _("Not moved: %(lead)s. %(message)s") % {"lead": lead, "message": message},
            )
        return redirect(request.get_full_path())
    leads = selectors_team.reassignable_leads(
        staff=request.user,
        dealer=request.dealer,
        owner_id=owner.pk if owner else None,
        stage=stage,
    )
    rows = list(leads[: REASSIGN_LIMIT + 1])
    chosen = {str(pk) for pk in request.POST.getlist("leads")}
    return _page(
        request,
        "leads/team/reassign.html",
        "reassign",
        {
            "filters": filters,
            "form": form,
            "rows": rows[:REASSIGN_LIMIT],
            "more": len(rows) > REASSIGN_LIMIT,
            "limit": REASSIGN_LIMIT,
            "chosen": chosen,
        },
        status=422 if form.errors else 200,
    )


# ---------------------------------------------------------------- absences


@workbench(may_see_team_board)
def absences(request: HttpRequest) -> HttpResponse:
    """Leave under way and ahead; record a new one with its cover."""
    now = timezone.now().replace(second=0, microsecond=0)
    posted = request.POST if request.method == "POST" else None
    form = AbsenceForm(posted, dealer=request.dealer, initial={"starts_at": now})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            absence = actions.record_absence(
                dealer=request.dealer,
                staff=data["staff"],
                cover=data["cover"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                by=request.user,
                reason=data["reason"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            names = {"name": absence.staff, "cover": absence.cover}
            if absence.starts_at <= timezone.now():
                text = _("Absence recorded: %(name)s's open leads and tasks went to %(cover)s.")
            else:
                text = _(
                    "Absence recorded: from its start, %(name)s's open leads and tasks go to "
                    "%(cover)s."
                )
            messages.success(request, text % names)
            return redirect("team_absences")
    return _page(
        request,
        "leads/team/absences.html",
        "absences",
        {
            "form": form,
            "absences": selectors_team.absences_ahead(dealer=request.dealer),
            "now": timezone.now(),
        },
        status=422 if form.errors else 200,
    )
