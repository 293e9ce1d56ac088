"""REST API v1: one NinjaAPI with token (integrations) and session (UI) auth, and one error
shape for everything: {"code": machine-readable, "message": human, "field": where}."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth

from accounts import throttle
from accounts.models import ApiToken, Staff
from dcc.errors import DomainError


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` for integrations; tokens are stored hashed."""

    def authenticate(self, request: HttpRequest, token: str) -> Staff | None:
        row = (
            ApiToken.objects.select_related("staff")
            .filter(
                digest=ApiToken.digest_of(token), revoked_at__isnull=True, staff__is_active=True
            )
            .first()
        )
        if row is None:
            # A token was sent and is wrong: answer 401 now rather than trying the session.
            # Too many from one address and it waits (429,
            # dcc_site.middleware.TokenThrottleMiddleware).
            throttle.token_failed(throttle.client_address(request))
            raise AuthenticationError
        row.note_use()
        return row.staff


class UnreadableBody(ValueError):
    """A request body that is not one JSON object; the message says why."""


class BodyParser(Parser):
    """Every body of the API is one JSON object. Anything else (`false`, `[]`, `123`) is
    refused rather than read as an object with every field left at its default."""

    def parse_body(self, request: HttpRequest) -> dict:
        try:
            data = json.loads(request.body)
        except RecursionError as error:
            raise UnreadableBody(_("The body is nested too deeply.")) from error
        except ValueError as error:  # not JSON, not UTF-8, or a number of thousands of digits
            message = _("The body is not valid JSON: %(reason)s") % {"reason": error}
            raise UnreadableBody(message) from error
        if not isinstance(data, dict):
            raise UnreadableBody(_("The body must be a JSON object."))
        return data


api = NinjaAPI(
    title="DCC API",
    version="1",
    description="Leads, their stage actions, events and tasks for dealer systems and platforms.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api-v1",
    parser=BodyParser(),
)


def _error(request: HttpRequest, status: int, body: dict) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.as_dict())


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "payload")]
    body = {
        "code": "validation_error",
        "message": f"{'.'.join(location)}: {first.get('msg', _('invalid'))}".strip(": "),
        "errors": exc.errors,
    }
    # The field, not the position in a list of them (`metric.1` is the field `metric`).
    names = [part for part in location if not part.isdigit()]
    if names:
        body["field"] = names[-1]
    return _error(request, 422, body)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request, 401, {"code": "unauthenticated", "message": _("Log in or send a valid token.")}
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:  # the body could not be parsed at all
        cause = exc.__cause__
        message = str(cause) if isinstance(cause, UnreadableBody) else str(exc)
        return _error(request, 422, {"code": "validation_error", "message": message})
    return _error(request, exc.status_code, {"code": "error", "message": str(exc)})


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, {"code": "not_found", "message": _("Not found.")})


api.add_router("/", "leads.api.router")
api.add_router("/intake", "intake.api.router")
api.add_router("/", "kpi.api.router")
