"""Frame views: the home page that sends each person to their workbench, dealer switch, and
the pages that refuse a request."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import throttle
from accounts.roles import roles_by_dealer
from dcc_site.middleware import SESSION_KEY
from leads.permissions import home_page


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
