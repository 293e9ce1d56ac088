"""Frame views: the home page that sends each person to their workbench, dealer switch, and
the pages that refuse a request."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import throttle
from dcc.middleware import SESSION_KEY
from leads.permissions import home_page, roles_by_dealer


@login_required
def home(request: HttpRequest) -> HttpResponse:
    dealer = request.dealer
    page = home_page(request.user, dealer.pk) if dealer is not None else None
    if page is None:
        return render(request, "no_dealer.html", status=403)
    return redirect(page)


@login_required
@require_POST
def switch_dealer(request: HttpRequest) -> HttpResponse:
    try:
        dealer_id = int(request.POST.get("dealer", ""))
    except ValueError:
        dealer_id = None
    if dealer_id in roles_by_dealer(request.user):
        request.session[SESSION_KEY] = dealer_id
    return redirect("home")


# ---------------------------------------------------------------- refusals
# Every refusal is a page in the person's language with the menu and a way back; the API and
# webhooks (under /api/) answer in the API's error shape instead.

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
    if back == request.build_absolute_uri() or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
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


# ---------------------------------------------------------------- signing in


class ThrottledLoginForm(AuthenticationForm):
    """The login form, held back after repeated failures (accounts.throttle): while an
    account or address waits, no password is checked at all."""

    def clean(self) -> dict:
        username = self.cleaned_data.get("username") or ""
        address = throttle.client_address(self.request)
        if wait := throttle.login_wait(username, address):
            raise self.throttled(wait)
        try:
            cleaned = super().clean()
        except ValidationError as error:
            failed = error.code == "invalid_login"
            if failed and (wait := throttle.login_failed(username, address)):
                raise ValidationError([error, self.throttled(wait)]) from error
            raise
        throttle.login_succeeded(username)
        return cleaned

    def throttled(self, wait: int) -> ValidationError:
        self.retry_after = wait
        at = timezone.localtime(timezone.now() + timedelta(seconds=wait))
        return ValidationError(
            ngettext(
                "Too many failed attempts. Try again in %(seconds)d second (at %(time)s).",
                "Too many failed attempts. Try again in %(seconds)d seconds (at %(time)s).",
                wait,
            ),
            code="throttled",
            params={"seconds": wait, "time": at.strftime("%H:%M:%S")},
        )


class LoginView(auth_views.LoginView):
    form_class = ThrottledLoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: ThrottledLoginForm) -> HttpResponse:
        response = super().form_invalid(form)
        if wait := getattr(form, "retry_after", 0):
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response
