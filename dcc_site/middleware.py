"""The dealer a signed-in person is working at: chosen from their memberships, kept in the
session, switchable for people with several dealers."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import throttle
from accounts.models import Dealer
from accounts.roles import roles_by_dealer
from dcc_site.refusals import refusal

SESSION_KEY = "dcc_dealer_id"


class CurrentDealerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.dealer = None
        request.roles = frozenset()
        if request.user.is_authenticated:
            scopes = roles_by_dealer(request.user)
            if scopes:
                wanted = request.session.get(SESSION_KEY)
                dealer_id = wanted if wanted in scopes else min(scopes)
                request.dealer = Dealer.objects.get(pk=dealer_id)
                request.roles = scopes[dealer_id]
        return self.get_response(request)


class ChineseFirstMiddleware:
    """Chinese unless the person chose otherwise: a browser's Accept-Language alone does not
    switch a dealer's screens to English (the API does follow it). Runs before
    LocaleMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # API clients choose by Accept-Language; people by the switch (cookie).
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and not request.path.startswith(
            "/api/"
        ):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class RefusalPageMiddleware:
    """A page refused for its method (405, e.g. opening a POST-only address) gets the same
    refusal page as any other refusal, not Django's empty answer; the Allow header stays."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            refused = refusal(request, 405)
            if "Allow" in response:
                refused["Allow"] = response["Allow"]
            return refused
        return response


class NulRefusalMiddleware:
    """A page's query or form holding a NUL character is refused (400) before any view reads
    it: PostgreSQL cannot store or compare such text, and no person types one. The API
    answers it field by field in its own schemas."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") and _holds_nul(request):
            return refusal(request, 400, _("The request holds a NUL character."))
        return self.get_response(request)


def _holds_nul(request: HttpRequest) -> bool:
    if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.path:
        return True
    # Urlencoded forms only: multipart ones (import files) are left to their own checks.
    return request.content_type == "application/x-www-form-urlencoded" and (
        b"%00" in request.body or b"\x00" in request.body
    )


class TokenThrottleMiddleware:
    """An address that sent too many wrong bearer tokens waits (accounts.throttle): its API
    calls with a token answer 429 with Retry-After, before any token is looked up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
        if (
            bearer
            and request.path.startswith("/api/")
            and (wait := throttle.token_wait(throttle.client_address(request)))
        ):
            message = ngettext(
                "Too many wrong tokens from this address. Try again in %(seconds)d second.",
                "Too many wrong tokens from this address. Try again in %(seconds)d seconds.",
                wait,
            ) % {"seconds": wait}
            response = JsonResponse(
                {"code": "too_many_attempts", "message": message, "retry_after": wait},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY with every answer that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = "; ".join(
            f"{name} {sources}" for name, sources in settings.CONTENT_SECURITY_POLICY.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
