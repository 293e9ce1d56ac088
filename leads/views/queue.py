"""The DCC agent's queue: new leads by SLA deadline with a live countdown, follow-ups due
today, overdue in red. It refreshes itself (htmx polling) so a newly assigned lead appears
without a reload."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from leads.permissions import may_use_queue
from leads.selectors import work_queue
from leads.views.common import is_htmx, workbench

REFRESH_SECONDS = 10


@workbench(may_use_queue)
def queue(request: HttpRequest) -> HttpResponse:
    context = {
        "queue": work_queue(staff=request.user, dealer=request.dealer),
        "refresh_seconds": REFRESH_SECONDS,
    }
    template = "leads/_queue_body.html" if is_htmx(request) else "leads/queue.html"
    return render(request, template, context)
