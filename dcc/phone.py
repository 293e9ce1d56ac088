"""Normalise, validate and mask phone numbers (mainland China only) via `phonenumbers`.
The one owner of what a customer's (or a staff member's) phone number is, how it is stored and
how it is shown."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from phonenumbers import CountryCodeSource, NumberParseException, PhoneNumberType, ValidationResult

from dcc.errors import InvalidInput

_REGION = "CN"
_COUNTRY_CODE = 86
_MOBILE_LENGTH = 11
_MOBILE_PREFIX = 5
_VISIBLE_TAIL = 4
# What people put between digit groups; NFKC has already folded the full-width forms.
_SEPARATORS = frozenset(" -.()\u2010\u2011\u2012\u2013\u2014\u2212")
_DIGITS = frozenset("0123456789")
_MOBILE_LEADS = frozenset(f"1{d}" for d in range(3, 10))
_SERVICE_TYPES = frozenset(
    {PhoneNumberType.TOLL_FREE, PhoneNumberType.SHARED_COST, PhoneNumberType.PREMIUM_RATE}
)


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", gettext_lazy("Mobile")
    LANDLINE = "landline", gettext_lazy("Landline")


class PhoneError(InvalidInput):
    """A phone number we can't accept. `code` says why: phone_empty, phone_letters,
    phone_characters, phone_length, phone_not_chinese, phone_invalid, phone_service_number."""

    code = "invalid_phone"

    def __init__(
        self, message: str, *, code: str | None = None, field: str | None = "mobile"
    ) -> None:
        super().__init__(message, code=code, field=field)


@dataclass(frozen=True)
class NormalisedPhone:
    number: str
    kind: PhoneKind

    @property
    def masked(self) -> str:
        return _mask(self.number, self.kind)


def normalise_phone(raw: str) -> NormalisedPhone:
    """Return the canonical national digits and kind of `raw`, or raise PhoneError saying why."""
    if (
        raw
        and len(raw) == _MOBILE_LENGTH
        and raw.isascii()
        and raw.isdigit()
        and _valid_mobile_prefix(raw[:_MOBILE_PREFIX])
    ):
        return NormalisedPhone(raw, PhoneKind.MOBILE)  # most numbers in a file: no parsing
    return _full_check(raw)


def _full_check(raw: str) -> NormalisedPhone:
    text = unicodedata.normalize("NFKC", raw or "")
    # Invisible direction marks and zero-width spaces come along when copying from apps.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()
    plus, digits = _strip_decoration(text)
    if not digits:
        raise PhoneError(_("Enter a phone number."), code="phone_empty")

    try:
        parsed = phonenumbers.parse(("+" if plus else "") + digits, _REGION, keep_raw_input=True)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise _not_chinese(None) from exc
        long = exc.error_type == NumberParseException.TOO_LONG
        raise _length_error(_typed_count(digits, plus), too_long=long) from exc

    if parsed.country_code != _COUNTRY_CODE:
        raise _not_chinese(parsed.country_code)

    national = phonenumbers.national_significant_number(parsed)
    # Everything starting 13-19 is a mobile number, so a wrong length there is the real problem.
    if national[:2] in _MOBILE_LEADS and len(national) != _MOBILE_LENGTH:
        raise _length_error(len(national), too_long=len(national) > _MOBILE_LENGTH, mobile=True)
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    count = _typed_count(digits, plus, parsed.country_code_source)
    if reason == ValidationResult.TOO_SHORT:
        raise _length_error(count, too_long=False)
    if reason == ValidationResult.TOO_LONG:
        raise _length_error(count, too_long=True)
    if reason == ValidationResult.INVALID_LENGTH:
        raise _length_error(count, too_long=None)
    if not phonenumbers.is_valid_number(parsed):
        raise _invalid()

    kind = phonenumbers.number_type(parsed)
    if kind in _SERVICE_TYPES:
        raise PhoneError(
            _(
                "This is a company service number (such as 400 or 800), not a customer's own "
                "number. Ask the customer for their mobile."
            ),
            code="phone_service_number",
        )
    if kind == PhoneNumberType.MOBILE:
        return NormalisedPhone(national, PhoneKind.MOBILE)
    if kind == PhoneNumberType.FIXED_LINE:
        # Stored with the trunk 0, as dealers write and dial landlines domestically.
        return NormalisedPhone("0" + national, PhoneKind.LANDLINE)
    raise _invalid()


@functools.cache
def _valid_mobile_prefix(prefix: str) -> bool:
    """Whether every 11-digit number starting with `prefix` is a valid mobile number. For
    numbers starting 13–19 the national patterns look at no more than the first five digits
    (and no other number type starts so), so one full check per prefix answers for all."""
    if prefix[:2] not in _MOBILE_LEADS:
        return False
    try:
        return _full_check(prefix.ljust(_MOBILE_LENGTH, "0")).kind == PhoneKind.MOBILE
    except PhoneError:
        return False


def mask_phone(number: str) -> str:
    """Mask a stored number for display; never shows more than the area code/prefix and last 4."""
    try:
        return normalise_phone(number).masked
    except PhoneError:
        # Legacy or foreign data: show only the last four digits rather than guess its shape.
        digits = "".join(ch for ch in number if ch in _DIGITS)
        if len(digits) <= _VISIBLE_TAIL:
            return "*" * len(digits)
        return "*" * (len(digits) - _VISIBLE_TAIL) + digits[-_VISIBLE_TAIL:]


def _strip_decoration(text: str) -> tuple[bool, str]:
    """Return (had a leading +, the digits), rejecting anything that is not part of a number."""
    plus = False
    digits: list[str] = []
    for ch in text:
        if ch in _DIGITS:
            digits.append(ch)
        elif ch in _SEPARATORS or ch.isspace():
            continue
        elif ch == "+":
            # Only before the first digit, so "(+86) 138…" passes but "138+1234" does not.
            if digits or plus:
                raise PhoneError(
                    _("“+” can only come at the start of a phone number."),
                    code="phone_characters",
                )
            plus = True
        elif ch.isalpha():
            raise PhoneError(
                _("A phone number can't contain letters, but this one has “%(char)s”.")
                % {"char": ch},
                code="phone_letters",
            )
        else:
            shown = ch if ch.isprintable() else f"U+{ord(ch):04X}"
            raise PhoneError(
                _("“%(char)s” can't be part of a phone number; use only digits.") % {"char": shown},
                code="phone_characters",
            )
    return plus, "".join(digits)


def _typed_count(digits: str, plus: bool, source: int | None = None) -> int:
    """How many digits the user typed, not counting a +86 / 0086 / 86 country prefix."""
    if plus and digits.startswith("86"):
        return len(digits) - 2
    if digits.startswith("0086"):
        return len(digits) - 4
    if source == CountryCodeSource.FROM_NUMBER_WITHOUT_PLUS_SIGN:
        return len(digits) - 2
    return len(digits)


def _length_error(count: int, *, too_long: bool | None, mobile: bool = False) -> PhoneError:
    """too_long=None: neither too short nor too long, just not a length any number has."""
    if mobile:
        message = ngettext(
            "A mobile number has 11 digits, but %(count)d digit was given.",
            "A mobile number has 11 digits, but %(count)d digits were given.",
            count,
        )
    elif too_long:
        message = ngettext(
            "The phone number is too long: %(count)d digit was given.",
            "The phone number is too long: %(count)d digits were given.",
            count,
        )
    elif too_long is None:
        message = ngettext(
            "A phone number can't have %(count)d digit.",
            "A phone number can't have %(count)d digits.",
            count,
        )
    else:
        message = ngettext(
            "The phone number is too short: only %(count)d digit was given.",
            "The phone number is too short: only %(count)d digits were given.",
            count,
        )
    return PhoneError(message % {"count": count}, code="phone_length")


def _not_chinese(country_code: int | None) -> PhoneError:
    if country_code is None:
        message = _("Only Chinese (+86) phone numbers are accepted.")
    else:
        message = _(
            "Only Chinese (+86) phone numbers are accepted; this one is for country code "
            "+%(country_code)d."
        ) % {"country_code": country_code}
    return PhoneError(message, code="phone_not_chinese")


def _invalid() -> PhoneError:
    return PhoneError(
        _(
            "This is not a valid Chinese phone number. Check the digits; "
            "a landline needs its area code."
        ),
        code="phone_invalid",
    )


def _mask(number: str, kind: PhoneKind) -> str:
    if kind == PhoneKind.MOBILE:
        head = 3
    else:
        parsed = phonenumbers.parse(number, _REGION)
        # Keep the trunk 0 and the area code: they say where the customer is, not who.
        head = 1 + phonenumbers.length_of_geographical_area_code(parsed)
    middle = len(number) - head - _VISIBLE_TAIL
    return number[:head] + "*" * middle + number[-_VISIBLE_TAIL:]
