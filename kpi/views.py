"""The dealer dashboard (看板) for managers and supervisors: a month's funnel against the month
before, channels, agents, two months side by side, and the leads behind every number. Reads
come from kpi.dashboard; the views parse the request and render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kpi import dashboard
from kpi.dashboard import Month
from kpi.measures import DIMENSIONS
from kpi.registry import MEASURES, View
from kpi.selectors import day_window
from leads.models import Lead
from leads.permissions import may_see_kpis, may_see_phone
from leads.phone import mask_phone
from leads.views.common import workbench

PAGE_SIZE = 50


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


@kpi_viewers
def dashboard_page(request: HttpRequest) -> HttpResponse:
    """One month (default: this one) against the month before, or two months side by side."""
    view = _view(request)
    month = Month.parse(request.GET.get("month")) or Month.current()
    compare = request.GET.get("mode") == "compare"
    other = Month.parse(request.GET.get("other")) or month.previous
    dealer_ids = [request.dealer.pk]
    context: dict = {
        "view": view,
        "views": View.choices,
        "month": month,
        "other": other,
        "compare": compare,
    }
    if compare:
        compared = dashboard.compare(dealer_ids=dealer_ids, first=other, second=month, view=view)
        context |= {
            "compared": compared,
            "chart": dashboard.compare_chart(compared, first=other, second=month),
        }
    else:
        window = dashboard.month_window(dealer_ids=dealer_ids, month=month, view=view)
        funnel = dashboard.funnel(dealer_ids=dealer_ids, month=month, view=view)
        context |= {
            "funnel": funnel,
            "chart": funnel.chart(),
            "channels": dashboard.channel_table(window=window),
            "agents": dashboard.agent_table(window=window),
        }
    return render(request, "kpi/dashboard.html", context)


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
