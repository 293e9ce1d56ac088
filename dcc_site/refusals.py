"""Refusals: every refused request gets a page in the person's language with the menu and a
way back; the API and webhooks (under /api/) answer in the API's error shape instead. The
error handlers of the URLs and the middleware both answer through `refusal`."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

API_PREFIX = "/api/"

_REFUSALS = {
    400: ("bad_request", _("Bad request"), _("The request could not be understood.")),
    403: ("forbidden", _("Not allowed"), _("You may not open this page.")),
    404: (
        "not_found",
        _("Page not found"),
        _("This page does not exist, or it belongs to another dealer."),
    ),
    405: (
        "method_not_allowed",
        _("Not allowed"),
        _("This page cannot be opened this way."),
    ),
    413: ("too_large", _("Too large"), None),  # the message states the limit
}


def body_limit_message() -> str:
    megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
    return _("The data sent is larger than the limit of %(limit)s MB.") % {
        "limit": f"{megabytes:g}"
    }


def refusal(request: HttpRequest, status: int, detail: str = "") -> HttpResponse:
    """The answer to a refused request: JSON for the API, else the refusal page."""
    code, title, message = _REFUSALS[status]
    message = body_limit_message() if status == 413 else str(message)
    if request.path.startswith(API_PREFIX):
        body = {"code": code, "message": detail or message}
        if status == 413:
            body["max_bytes"] = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return JsonResponse(body, status=status)
    back = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except DisallowedHost:  # the refusal of a host not ours: no way back to offer
        host = None
    if (
        host is None
        or back == request.build_absolute_uri()
        or not url_has_allowed_host_and_scheme(
            back, allowed_hosts={host}, require_https=request.is_secure()
        )
    ):
        back = ""
    context = {"status": status, "title": title, "message": message, "detail": detail, "back": back}
    # htmx swaps a refused form's answer into the page: send the notice, not a second page.
    template = "includes/refusal.html" if request.headers.get("HX-Request") else "refused.html"
    return render(request, template, context, status=status)


def _domain_detail(exception: Exception | None) -> str:
    """A refusal's own reason when a view gave one in words (PermissionDenied(message))."""
    if exception is None or not exception.args or not isinstance(exception.args[0], str):
        return ""
    return exception.args[0]


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return refusal(request, 413)
    return refusal(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return refusal(request, 403, _domain_detail(exception))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The resolver's own message lists URL patterns: never shown.
    return refusal(request, 404)
