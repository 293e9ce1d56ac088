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
from django.utils import timezone
from django.utils.translation import gettext as _

from dcc.errors import DomainError
from kpi import dashboard, pages, supervision
from kpi.daily import daily_report_xlsx, table_xlsx
from kpi.dashboard import Month
from kpi.measures import DIMENSIONS
from kpi.registry import MEASURES, METRICS, View
from kpi.selectors import day_window
from kpi.targets import set_order_target
from leads.models import Lead
from leads.permissions import (
    may_see_dcc_board,
    may_see_headquarters,
    may_see_kpis,
    may_see_phone,
    may_set_targets,
)
from leads.phone import mask_phone
from leads.views.common import is_htmx, workbench

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def kpi_viewers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in at a dealer; anyone who may not see its KPIs is told plainly why not."""

    @workbench()
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not may_see_kpis(request.user, request.dealer.pk):
            return render(request, "kpi/refused.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _view(request: HttpRequest) -> View:
    wanted = request.GET.get("view", "")
    return View(wanted) if wanted in View.values else View.PERIOD


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
    """One month (default: this one) against the month before, or two months side by side;
    POST sets the month's order target."""
    view = _view(request)
    month = Month.parse(request.GET.get("month")) or Month.current()
    compare = request.GET.get("mode") == "compare"
    other = Month.parse(request.GET.get("other")) or month.previous
    dealer_ids = [request.dealer.pk]
    target_error: dict[str, str | int] = {}
    if request.method == "POST":
        target_error = _set_target(request, month)
        if not target_error:
            return HttpResponseRedirect(request.get_full_path())
    context: dict = {
        "view": view,
        "views": View.choices,
        "month": month,
        "other": other,
        "compare": compare,
        "target_error": target_error,
        "may_set_targets": may_set_targets(request.user, request.dealer.pk),
        "may_see_headquarters": may_see_headquarters(request.user),
    }
    if compare:
        compared = dashboard.compare(dealer_ids=dealer_ids, first=other, second=month, view=view)
        context |= {
            "compared": compared,
            "chart": dashboard.compare_chart(compared, first=other, second=month),
        }
    else:
        window = dashboard.month_window(dealer_ids=dealer_ids, month=month, view=view)
        target = pages.target_for(dealer=request.dealer, month=month)
        funnel = dashboard.funnel(dealer_ids=dealer_ids, month=month, view=view)
        context |= {
            "funnel": funnel,
            "chart": funnel.chart(),
            "channels": dashboard.channel_table(window=window),
            "agents": dashboard.agent_table(window=window),
            "broken": pages.broken_stages(dealer=request.dealer, month=month, view=view),
            "target": target,
            "target_elapsed": pages.percent_text(target.elapsed) if target else "",
        }
    # Refused: 403; a number it cannot take: 422, answered in place.
    status = int(target_error.get("status", 422)) if target_error else 200
    return render(request, "kpi/dashboard.html", context, status=status)


@kpi_viewers
def table_export(request: HttpRequest) -> HttpResponse:
    """The dashboard's channel or agent table of a month as XLSX."""
    view = _view(request)
    month = Month.parse(request.GET.get("month")) or Month.current()
    window = dashboard.month_window(dealer_ids=[request.dealer.pk], month=month, view=view)
    if request.GET.get("table") == "agents":
        table, first_column = dashboard.agent_table(window=window), _("Agent")
    elif request.GET.get("table") == "channels":
        table, first_column = dashboard.channel_table(window=window), _("Channel")
    else:
        return _invalid(request, _("Unknown table."))
    sheet = pages.table_sheet(table, first_column)
    name = f"{request.dealer.code}-{request.GET['table']}-{month}-{view}"
    return _xlsx(table_xlsx([sheet]), name)


@kpi_viewers
def headquarters_page(request: HttpRequest) -> HttpResponse:
    """The dealers this person reads, ranked on a metric, and their heat map of funnel rates."""
    if not may_see_headquarters(request.user):
        return render(request, "kpi/refused.html", {"headquarters": True}, status=403)
    view = _view(request)
    month = Month.parse(request.GET.get("month")) or Month.current()
    metric = request.GET.get("metric", "")
    if metric not in METRICS:
        metric = "arrival_rate"
    hq = pages.headquarters(staff=request.user, metric=metric, month=month, view=view)
    return render(
        request,
        "kpi/headquarters.html",
        {
            "hq": hq,
            "metric": METRICS[metric],
            "metrics": pages.hq_metric_choices(),
            "rows": [
                (
                    row,
                    pages.value_text(metric, row.value),
                    pages.part_text(metric, row.value.numerator),
                    pages.part_text(metric, row.value.denominator),
                    pages.value_text(metric, row.brand_average),
                )
                for row in hq.ranking.rows
            ],
            "heat_rows": [
                (
                    row,
                    [
                        (row.cells[key], pages.percent_text(row.cells[key].rate.value))
                        for key in hq.heat.metrics
                    ],
                )
                for row in hq.heat.rows
            ],
            "stage_names": pages.stage_names(),
            "month": month,
            "view": view,
            "views": View.choices,
        },
    )


def _day(request: HttpRequest) -> date | None:
    text = request.GET.get("date")
    if not text:
        return pages.yesterday()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@kpi_viewers
def daily_page(request: HttpRequest) -> HttpResponse:
    """The daily report kept for a day (default yesterday), generated now if none was kept."""
    day = _day(request)
    if day is None:
        return _invalid(request, _("Not a date."))
    if day > timezone.localdate():
        return _invalid(request, _("There is no report for a day still to come."))
    report, generated = pages.kept_daily_report(dealer=request.dealer, day=day)
    return render(
        request,
        "kpi/daily.html",
        {
            "report": report,
            "day": day,
            "generated": generated,
            "sections": pages.daily_sections(report),
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1) if day < timezone.localdate() else None,
        },
    )


@kpi_viewers
def daily_export(request: HttpRequest) -> HttpResponse:
    day = _day(request)
    if day is None or day > timezone.localdate():
        return _invalid(request, _("Not a date."))
    report, _generated = pages.kept_daily_report(dealer=request.dealer, day=day)
    return _xlsx(
        daily_report_xlsx(pages.in_report_order(report)),
        f"{request.dealer.code}-daily-{day.isoformat()}",
    )


@kpi_viewers
def scores_page(request: HttpRequest) -> HttpResponse:
    """Per role, the month's people ranked by points, with what they are scored on."""
    month = Month.parse(request.GET.get("month")) or Month.current()
    roles = pages.scores_by_role(dealer=request.dealer, month=month)
    return render(
        request,
        "kpi/scores.html",
        {
            "month": month,
            "roles": [
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
            ],
        },
    )


def _invalid(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "kpi/invalid.html", {"message": message}, status=400)


@kpi_viewers
def drill_down(request: HttpRequest) -> HttpResponse:
    """The leads behind one number of the dashboard, those this person may see, a page at a
    time; says how many more it counts that they may not see."""
    measure = request.GET.get("measure", "")
    by = request.GET.get("by") or None
    if measure not in MEASURES or measure == "spend":
        return _invalid(request, _("Unknown measure."))
    if by is not None and by not in DIMENSIONS:
        return _invalid(request, _("Unknown dimension."))
    try:
        first = date.fromisoformat(request.GET.get("from", ""))
        last = date.fromisoformat(request.GET.get("to", ""))
        group = dashboard.parse_group(by, request.GET.get("group"))
    except ValueError:
        return _invalid(request, _("Not a date range or group the dashboard gives."))
    if last < first:
        return _invalid(request, _("“to” must not be before “from”."))
    view = _view(request)
    window = day_window(dealer_ids=[request.dealer.pk], first=first, last=last, view=view)
    behind = dashboard.leads_behind(
        staff=request.user,
        dealer_id=request.dealer.pk,
        measure=measure,
        window=window,
        by=by,
        group=group,
    )
    # Page through ids only, then load the page's rows (as the lead list does).
    page = Paginator(behind.leads.values_list("pk", flat=True), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ids = list(page.object_list)
    on_page = Lead.objects.select_related("customer", "channel", "owner").in_bulk(ids)
    rows = [
        (
            lead,
            lead.customer.phone
            if may_see_phone(request.user, lead)
            else mask_phone(lead.customer.phone),
        )
        for lead in (on_page[pk] for pk in ids)
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "kpi/drill_down.html",
        {
            "measure": MEASURES[measure],
            "first": first,
            "last": last,
            "view": view,
            "by": by,
            "by_name": dashboard.DIMENSION_NAMES.get(by or "", ""),
            "group_label": dashboard.group_label(by, group),
            "page": page,
            "rows": rows,
            "total": behind.total,
            "hidden": behind.total - page.paginator.count,
            "query": query.urlencode(),
            "month": Month.of(first) if first.day == 1 and Month.of(first).last == last else None,
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
    board = supervision.dcc_board(dealer=request.dealer)
    context = {
        "board": board,
        "lines": supervision.board_lines(board),
        "chart": supervision.board_chart(board),
        "refresh_seconds": DCC_BOARD_REFRESH_SECONDS,
        "updated_at": timezone.localtime(),
    }
    return render(request, "kpi/_dcc_table.html" if partial else "kpi/dcc.html", context)
