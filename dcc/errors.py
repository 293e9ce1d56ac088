"""Domain errors. Each carries a machine-readable code and a human message; the API maps the
class to its HTTP status, the UI shows the message in place."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = str(message)
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict[str, str]:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class InvalidInput(DomainError):
    status = 422
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class NotPermitted(DomainError):
    status = 403
    code = "forbidden"


class TransitionNotAllowed(DomainError):
    status = 409
    code = "transition_not_allowed"


class Conflict(DomainError):
    status = 409
    code = "conflict"


def whole_number_in(value: object, bounds: tuple[int, int], *, field: str) -> int:
    """`value` when it is a whole number within `bounds` (both included), else InvalidInput on
    `field`. A bool is not a number here, though Python counts it as one."""
    from django.utils.translation import gettext as _

    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high},
            code="out_of_range",
            field=field,
        )
    return value
