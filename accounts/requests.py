"""Who sent an API request."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Staff


def current_staff(request: HttpRequest) -> Staff:
    """The person behind an API request: both authenticators of the API (a token, the
    session) answer with the Staff."""
    return request.auth
