"""What every workbench view shares: the signed-in person at their current dealer."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import Staff

# A page's rule (leads.permissions): may this person open it at this dealer?
PagePredicate = Callable[[Staff, int], bool]


def workbench(may: PagePredicate | None = None) -> Callable:
    """Login required, a current dealer required, and (if given) `may` allowing the person
    there: the same predicate the menu asks."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.dealer is None:
                raise PermissionDenied
            if may is not None and not may(request.user, request.dealer.pk):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"
