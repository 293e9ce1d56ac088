"""(in progress)"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from leads.views.common import workbench


@workbench()
def dealer_settings(request: HttpRequest) -> HttpResponse:
    return redirect("lead_list")
