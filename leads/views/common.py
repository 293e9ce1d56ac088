"""What every workbench view shares: the signed-in person at their current dealer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def workbench(roles: Iterable[str] | None = None) -> Callable:
    """Login required, a current dealer required, and (if given) one of `roles` there."""
    allowed = frozenset(roles) if roles is not None else None

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.dealer is None or (allowed is not None and not request.roles & allowed):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"
