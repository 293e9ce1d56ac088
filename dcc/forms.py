"""What every page that changes something does with a form: carry out the action when the form
is valid, and put a refusal where it belongs — a domain error on the field it names (or the
form), a permission refusal as a 403."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import PermissionDenied

from dcc.errors import DomainError, NotPermitted


def save_form(form: forms.Form, perform: Callable[[], object]) -> bool:
    """Run `perform` when the form is valid; its DomainError goes onto the field it names.
    True when saved."""
    if not form.is_valid():
        return False
    try:
        perform()
    except NotPermitted as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return False
    return True


def perform_or_403(perform: Callable[[], object]) -> None:
    """An action without a form (remove, renew): a refusal is a 403."""
    try:
        perform()
    except NotPermitted as error:
        raise PermissionDenied(error.message) from error
