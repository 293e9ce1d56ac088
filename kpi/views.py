"""The dealer dashboard (看板) for managers and supervisors: a month's funnel against the month
before, its broken stages and order target, channels, agents, two months side by side, and the
leads behind every number; beside it headquarters' ranking and heat map, the daily report and
the scorecards. Reads come from kpi.dashboard and kpi.pages, writes from kpi.targets; the
views parse the request and render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Dealer
from campaigns.permissions import may_see_campaigns
from dcc.errors import DomainError
from kpi import campaign_roi, daily, dashboard, measures, pages, supervision
from kpi.daily import daily_report_xlsx, table_xlsx
from kpi.dashboard import Month
from kpi.registry import MEASURES, METRICS, View
from kpi.selectors import refusal_message
from kpi.shared import shared, shared_seconds
from kpi.targets import set_order_target
from leads import teams
from leads.models import Lead, TeamKind
from leads.permissions import (
    may_see_dashboard,
    may_see_dcc_board,
    may_see_headquarters,
    may_see_kpis,
    may_see_own_scorecard_page,
    may_see_team_board,
    may_set_targets,
    shown_phone,
)
from leads.views.common import is_htmx, workbench

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def kpi_viewers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in at a dealer; anyone who may not see its KPIs is told plainly why not."""

    @workbench()
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not may_see_dashboard(request.user, request.dealer.pk):
            return render(request, "kpi/refused.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _view(request: HttpRequest) -> View:
    wanted = request.GET.get("view", "")
    return View(wanted) if wanted in View.values else View.PERIOD


def _month(request: HttpRequest, name: str = "month") -> Month:
    """The month asked for (default: this one); BadPeriod names it when it is out of range."""
    month = dashboard.parse_month(request.GET.get(name), field=name, label=_("Month"))
    return month or Month.current()


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def _set_target(request: HttpRequest, month: Month) -> dict[str, str | int]:
    """The target form's POST: the month's order target set, or what was wrong with it."""
    if not may_set_targets(request.user, request.dealer.pk):
        return {
            "message": _("Only the general manager and the sales manager set targets."),
            "status": 403,
        }
    try:
        orders = int(request.POST.get("orders", "").strip())
    except ValueError:
        return {
            "message": _("An order target is a whole number."),
            "value": request.POST.get("orders", ""),
        }
    try:
        set_order_target(dealer=request.dealer, by=request.user, month=month.first, orders=orders)
    except DomainError as error:
        return {"message": error.message, "value": str(orders)}
    return {}


@kpi_viewers
def dashboard_page(request: HttpRequest) -> HttpResponse:
    """One month (default: this one) against the month before, or any two periods side by
    side; POST sets the month's order target."""
    view = _view(request)
    try:
        month = _month(request)
        _month(request, "other")  # the month compared with, read by read_comparison
    except dashboard.BadPeriod as error:
        return _invalid(request, error.message)
    compare = request.GET.get("mode") == "compare"
    dealer_ids = [request.dealer.pk]
    target_error: dict[str, str | int] = {}
    if request.method == "POST" and not compare:
        target_error = _set_target(request, month)
        if not target_error:
            return HttpResponseRedirect(request.get_full_path())
    context: dict = {
        "view": view,
        "views": View.choices,
        "month": month,
        "compare": compare,
        "target_error": target_error,
        "may_set_targets": may_set_targets(request.user, request.dealer.pk),
        "may_see_headquarters": may_see_headquarters(request.user, request.dealer.pk),
        "figures_seconds": shared_seconds(),
    }
    status = 200
    if compare:
        chosen = dashboard.read_comparison(request.GET, today=timezone.localdate())
        context |= {"comparison": chosen, "presets": dashboard.PRESETS.items()}
        if chosen.errors:
            status = 422  # the form answered in place, naming the fields to fix
        else:
            first, second = chosen.first, chosen.second
            compared = dashboard.compare(
                dealer_ids=dealer_ids, first=first, second=second, view=view
            )
            context |= {
                "month": second.month or Month.of(second.first),
                "compared": compared,
                "chart": dashboard.compare_chart(compared, first=first, second=second),
            }
    else:
        question = ("dashboard", request.dealer.pk, str(month), view, translation.get_language())
        context |= shared(question, lambda: _month_figures(request.dealer, month, view))
        # Not shared: a target just set shows at once.
        target = pages.target_for(dealer=request.dealer, month=month)
        context |= {
            "target": target,
            "target_elapsed": pages.percent_text(target.elapsed) if target else "",
            "arrival_rate": METRICS["arrival_rate"],
            "may_see_campaigns": may_see_campaigns(request.user, request.dealer.pk),
            "may_see_team_board": may_see_team_board(request.user, request.dealer.pk),
        }
        # Refused: 403; a number it cannot take: 422, answered in place.
        if target_error:
            status = int(target_error.get("status", 422))
    return render(request, "kpi/dashboard.html", context, status=status)


def _month_figures(dealer: Dealer, month: Month, view: View) -> dict:
    """Everything the dashboard shows of a month, the same for whoever asks (kpi.shared)."""
    window = dashboard.month_window(dealer_ids=[dealer.pk], month=month, view=view)
    funnel = dashboard.funnel(dealer_ids=[dealer.pk], month=month, view=view)
    return {
        "funnel": funnel,
        "chart": funnel.chart(),
        "channels": dashboard.channel_table(window=window),
        "campaigns": campaign_roi.campaign_table(
            dealer_id=dealer.pk, first=month.first, last=month.last
        ),
        "agents": dashboard.agent_table(window=window),
        "teams": dashboard.team_table(window=window),
        "lapses": dashboard.lapses(dealer=dealer, window=window),
        "broken": pages.broken_stages(dealer=dealer, month=month, view=view),
    }


@kpi_viewers
def table_export(request: HttpRequest) -> HttpResponse:
    """The dashboard's channel, agent or team table of a month as XLSX."""
    view = _view(request)
    try:
        month = _month(request)
    except dashboard.BadPeriod as error:
        return _invalid(request, error.message)
    window = dashboard.month_window(dealer_ids=[request.dealer.pk], month=month, view=view)
    if request.GET.get("table") == "agents":
        table, first_column = dashboard.agent_table(window=window), _("Agent")
    elif request.GET.get("table") == "teams":
        table, first_column = dashboard.team_table(window=window), _("Team")
    elif request.GET.get("table") == "channels":
        table, first_column = dashboard.channel_table(window=window), _("Channel")
    else:
        return _invalid(request, _("Unknown table."))
    sheet = pages.table_sheet(table, first_column)
    name = f"{request.dealer.code}-{request.GET['table']}-{month}-{view}"
    return _xlsx(table_xlsx([sheet]), name)


@kpi_viewers
def headquarters_page(request: HttpRequest) -> HttpResponse:
    """The dealers this person reads, ranked on a metric, and their heat map of funnel rates,
    for a month or any period, every number linked to the leads behind it."""
    if not may_see_headquarters(request.user, request.dealer.pk):
        return render(request, "kpi/refused.html", {"headquarters": True}, status=403)
    view = _view(request)
    metric = request.GET.get("metric", "")
    if metric not in METRICS:
        metric = "arrival_rate"
    chosen = pages.read_hq_period(request.GET, today=timezone.localdate())
    context: dict = {
        "chosen": chosen,
        "metric": METRICS[metric],
        "metrics": pages.hq_metric_choices(),
        "stage_names": pages.stage_names(),
        "month": chosen.month,
        "view": view,
        "views": View.choices,
    }
    if chosen.errors:
        return render(request, "kpi/headquarters.html", context, status=422)
    hq = pages.headquarters(staff=request.user, metric=metric, period=chosen.period, view=view)
    context |= {"hq": hq}
    return render(request, "kpi/headquarters.html", context)


def _day(request: HttpRequest) -> date:
    """The day asked for (default: yesterday), not after today; BadPeriod says what is wrong."""
    text = request.GET.get("date")
    if not text:
        return pages.yesterday()
    day = dashboard.parse_date(text, field="date", label=_("Day"))
    if day > timezone.localdate():
        raise dashboard.BadPeriod("date", _("There is no report for a day still to come."))
    return day


@kpi_viewers
def daily_page(request: HttpRequest) -> HttpResponse:
    """The daily report kept for a day (default yesterday); for a day without one (today,
    until the evening job keeps it) the figures computed now, kept by nobody: a read never
    writes."""
    try:
        day = _day(request)
    except dashboard.BadPeriod as error:
        return _invalid(request, error.message)
    report, kept = pages.daily_report(dealer=request.dealer, day=day)
    today = timezone.localdate()
    return render(
        request,
        "kpi/daily.html",
        {
            "report": report,
            "day": day,
            "kept": kept,
            "so_far": day == today,
            "evening": daily.EVENING,
            "sections": pages.daily_sections(report),
            "arrival_rate": METRICS["arrival_rate"],
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1) if day < today else None,
        },
    )


@kpi_viewers
def daily_export(request: HttpRequest) -> HttpResponse:
    try:
        day = _day(request)
    except dashboard.BadPeriod as error:
        return _invalid(request, error.message)
    report, _kept = pages.daily_report(dealer=request.dealer, day=day)
    return _xlsx(
        daily_report_xlsx(pages.in_report_order(report)),
        f"{request.dealer.code}-daily-{day.isoformat()}",
    )


@kpi_viewers
def scores_page(request: HttpRequest) -> HttpResponse:
    """Per role, the month's people ranked by points, with what they are scored on."""
    try:
        month = _month(request)
    except dashboard.BadPeriod as error:
        return _invalid(request, error.message)
    roles = pages.scores_by_role(dealer=request.dealer, month=month)
    return render(
        request,
        "kpi/scores.html",
        {
            "month": month,
            "roles": _score_rows(roles),
        },
    )


def _score_rows(roles: list) -> list:
    """Each role's scorecards as the table shows them: counts in the scored events' order."""
    return [
        (
            scores,
            [
                (
                    card,
                    [card.counts[event] for event, _points in scores.events],
                    pages.talk_time(card.talk_seconds),
                )
                for card in scores.cards
            ],
        )
        for scores in roles
    ]


@workbench()
def my_scores_page(request: HttpRequest) -> HttpResponse:
    """A person on the line's own scorecard for a month: their row alone, in each scored
    role they hold (those who read the dealer's KPIs see everyone's on the scorecards)."""
    if may_see_kpis(request.user, request.dealer.pk):  # everyone's, theirs among them
        return HttpResponseRedirect(reverse("dashboard_scores") + "?" + request.GET.urlencode())
    if not may_see_own_scorecard_page(request.user, request.dealer.pk):
        return render(request, "kpi/refused.html", {"own_scorecard": True}, status=403)
    try:
        month = _month(request)
    except dashboard.BadPeriod as error:
        return _invalid(request, error.message)
    roles = pages.own_scores(dealer=request.dealer, month=month, person=request.user)
    return render(
        request,
        "kpi/scores.html",
        {
            "month": month,
            "mine": True,
            "roles": _score_rows(roles),
        },
    )


def _invalid(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "kpi/invalid.html", {"message": message}, status=400)


@kpi_viewers
def drill_down(request: HttpRequest) -> HttpResponse:
    """The leads behind one number of the dashboard (or, with `dealer`, of headquarters' page at
    a dealer the viewer is granted), those this person may see, a page at a time; says how many
    more it counts that they may not see."""
    measure = request.GET.get("measure", "")
    by = request.GET.get("by") or None
    if measure not in MEASURES or measure == "spend":
        return _invalid(request, _("Unknown measure."))
    if by is not None and by not in dashboard.dimensions():
        return _invalid(request, _("Unknown dimension."))
    if not measures.supports(measure, by):
        return _invalid(request, refusal_message([measure], by))
    try:
        period = dashboard.parse_period(
            request.GET.get("from"),
            request.GET.get("to"),
            fields=("from", "to"),
            labels=(_("From"), _("To")),
        )
    except dashboard.BadPeriod as error:
        return _invalid(request, error.message)
    try:
        group = dashboard.parse_group(by, request.GET.get("group"))
    except ValueError:
        return _invalid(request, _("Not a group of this dimension."))
    dealer = pages.drill_dealer(staff=request.user, current=request.dealer,
                                code=request.GET.get("dealer"))  # fmt: skip
    if dealer is None:
        return render(request, "kpi/refused.html", {"not_granted": True}, status=403)
    view = _view(request)
    window = dashboard.period_window(dealer_ids=[dealer.pk], period=period, view=view)
    behind = dashboard.leads_behind(
        staff=request.user,
        dealer_id=dealer.pk,
        measure=measure,
        window=window,
        by=by,
        group=group,
    )
    listed = _leads_page(request, behind.leads, behind.total)
    elsewhere = dealer.pk != request.dealer.pk or "dealer" in request.GET
    return render(
        request,
        "kpi/drill_down.html",
        {
            "measure": MEASURES[measure],
            "first": period.first,
            "last": period.last,
            "view": view,
            "by": by,
            "by_name": dashboard.dimension_name(by),
            "group_label": dashboard.group_label(by, group),
            "dealer": dealer if elsewhere else None,
            "month": period.month,
            **listed,
        },
    )


def _leads_page(request: HttpRequest, leads, total: int) -> dict:
    """One page of the leads behind a number, those this person may see: paged through ids
    only, then the page's rows loaded (as the lead list does); how many are not listed."""
    page = Paginator(leads.values_list("pk", flat=True), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ids = list(page.object_list)
    on_page = Lead.objects.select_related("customer", "channel", "owner").in_bulk(ids)
    rows = [(lead, shown_phone(request.user, lead)) for lead in (on_page[pk] for pk in ids)]
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page": page,
        "rows": rows,
        "total": total,
        "hidden": total - page.paginator.count,
        "query": query.urlencode(),
    }


@kpi_viewers
def campaign_drill_down(request: HttpRequest) -> HttpResponse:
    """The leads behind one number of the dashboard's campaign table, those this person may
    see, a page at a time; says how many more it counts that they may not see."""
    try:
        behind = campaign_roi.leads_behind(
            staff=request.user,
            dealer_id=request.dealer.pk,
            campaign_id=request.GET.get("campaign", ""),
            figure=request.GET.get("figure", ""),
            code=request.GET.get("code") or None,
        )
    except campaign_roi.NotACampaignNumber:
        return _invalid(request, _("No such number of the campaigns."))
    return render(
        request,
        "kpi/campaign_leads.html",
        {
            "behind": behind,
            "figure_name": campaign_roi.figure_name(behind.figure),
            **_leads_page(request, behind.leads, behind.total),
        },
    )


# ---------------------------------------------------------------- the DCC supervisor's board

DCC_BOARD_REFRESH_SECONDS = 60


@workbench()
def dcc_board_page(request: HttpRequest) -> HttpResponse:
    """Each DCC agent today and this month: calls, contacts, appointments, arrivals, first
    response, with the month's chart; htmx polls for the table alone."""
    partial = is_htmx(request)
    if not may_see_dcc_board(request.user, request.dealer.pk):
        template = "kpi/_dcc_refused.html" if partial else "kpi/dcc_refused.html"
        return render(request, template, status=403)
    offered = teams.board_teams(request.dealer, kinds=(TeamKind.DCC,))
    chosen = teams.board_team(request.user, request.GET.get("team"), offered)
    board = supervision.dcc_board(dealer=request.dealer, team=chosen)
    context = {
        "board": board,
        "teams": offered,
        "chosen_team": chosen,
        "lines": supervision.board_lines(board),
        "chart": supervision.board_chart(board),
        "phones": supervision.phone_panel(dealer=request.dealer),
        "refresh_seconds": DCC_BOARD_REFRESH_SECONDS,
        "updated_at": timezone.localtime(board.counted_at),
    }
    return render(request, "kpi/_dcc_table.html" if partial else "kpi/dcc.html", context)
