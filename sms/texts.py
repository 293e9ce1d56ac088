"""A message's wording: the variables a template may quote, how a template is filled in for one
lead, how Chinese SMS count its length, and what a template must be before it is saved or sent.

Length as the carriers and Aliyun count it: every character (a Chinese character, a letter, a
digit, a space, punctuation) is one, the signature 【…】 included; up to 70 is one message,
longer is sent in parts of 67."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dcc.errors import InvalidInput
from leads.models import Lead
from sms.models import MAX_PARTS_CEILING, Kind, SmsSettings

SINGLE = 70
PART = 67
MAX_TEXT = 500  # Aliyun's limit for one long message, signature included
OPT_OUT = "拒收请回复R"  # what the carriers require at the end of marketing SMS
# Replies that opt a number out of marketing messages (trimmed, any case).
OPT_OUT_REPLIES = frozenset({"r", "td", "退订"})
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Variable:
    name: str
    label: object  # lazily translated
    sample: str  # a typical, long-ish value: what a template is measured with when saved
    value: Callable[[Lead, SmsSettings], str]


def _customer_name(lead: Lead, settings: SmsSettings) -> str:
    return lead.customer.name or "客户"


def _consultant(lead: Lead, settings: SmsSettings) -> str:
    person = lead.consultant or lead.owner
    return (person.display_name or person.get_full_name() or person.username) if person else ""


def _appointment(lead: Lead, settings: SmsSettings) -> str:
    if lead.appointment_at is None:
        return ""
    return timezone.localtime(lead.appointment_at).strftime("%Y-%m-%d %H:%M")


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable("name", gettext_lazy("customer's name"), "欧阳先生", _customer_name),
        Variable(
            "dealer",
            gettext_lazy("dealer's name"),
            "某某汽车4S店",
            lambda lead, s: lead.dealer.name,
        ),
        Variable("consultant", gettext_lazy("consultant"), "王小明", _consultant),
        Variable("appointment", gettext_lazy("appointment time"), "2026-11-19 10:00", _appointment),
        Variable(
            "model", gettext_lazy("model of interest"), "瑶光 2.0T", lambda lead, s: lead.car_model
        ),
        Variable(
            "phone", gettext_lazy("dealer's phone"), "400-800-8888", lambda lead, s: s.dealer_phone
        ),
        Variable(
            "address",
            gettext_lazy("dealer's address"),
            "某某路88号",
            lambda lead, s: s.dealer_address,
        ),
    )
}


def placeholders(text: str) -> list[str]:
    """The variable names `text` quotes, in order, each once."""
    return list(dict.fromkeys(name.strip() for name in PLACEHOLDER.findall(text)))


def parts(length: int) -> int:
    """How many messages a text of `length` characters (signature included) is sent as."""
    if length <= SINGLE:
        return 1
    return math.ceil(length / PART)


def fill(text: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1).strip(), ""), text)


def check_wording(*, text: str, kind: str, settings: SmsSettings) -> None:
    """InvalidInput naming what is wrong with a template's wording: a variable nobody fills, a
    marketing text without the opt-out at its end, or a text too long even with typical
    values (measured again with the real ones when sent)."""
    text = text.strip()
    if not text:
        raise InvalidInput(_("Write the message."), field="text")
    if kind not in Kind.values:
        raise InvalidInput(_("Choose notification or marketing."), field="kind")
    unknown = [name for name in placeholders(text) if name not in VARIABLES]
    if unknown:
        raise InvalidInput(
            _("Unknown variable: %(names)s. Known: %(known)s.")
            % {
                "names": ", ".join("${" + name + "}" for name in unknown),
                "known": ", ".join("${" + name + "}" for name in VARIABLES),
            },
            field="text",
        )
    if kind == Kind.MARKETING and not text.endswith(OPT_OUT):
        raise InvalidInput(
            _("A marketing message must end with the opt-out text “%(opt_out)s”.")
            % {"opt_out": OPT_OUT},
            field="text",
        )
    sample = fill(text, {name: v.sample for name, v in VARIABLES.items()})
    check_length(settings.signature_shown + sample, settings)


def check_length(whole: str, settings: SmsSettings) -> int:
    """The number of parts `whole` (signature and text) is sent as, or InvalidInput when it is
    more than the dealer allows."""
    limit = min(settings.max_parts, MAX_PARTS_CEILING)
    count = parts(len(whole))
    if count > limit or len(whole) > MAX_TEXT:
        raise InvalidInput(
            _(
                "The message is too long: %(length)d characters with the signature, %(parts)d "
                "parts; at most %(limit)d parts (%(chars)d characters)."
            )
            % {
                "length": len(whole),
                "parts": count,
                "limit": limit,
                "chars": min(limit * PART if limit > 1 else SINGLE, MAX_TEXT),
            },
            field="text",
        )
    return count


def values_for(lead: Lead, settings: SmsSettings, names: list[str]) -> dict[str, str]:
    return {name: VARIABLES[name].value(lead, settings) for name in names if name in VARIABLES}


@dataclass(frozen=True)
class Filled:
    text: str  # signature and text, as the phone shows it
    params: dict[str, str]  # the variables' values (Aliyun's TemplateParam)
    parts: int


def render(*, text: str, kind: str, lead: Lead, settings: SmsSettings) -> Filled:
    """The message for `lead`, checked as it will go: InvalidInput when the dealer has no
    signature, the template is wrong, or the filled-in text is too long."""
    if not settings.signature:
        raise InvalidInput(_("Set the dealer's SMS signature first."), field="signature")
    check_wording(text=text, kind=kind, settings=settings)
    params = values_for(lead, settings, placeholders(text))
    whole = settings.signature_shown + fill(text.strip(), params)
    return Filled(text=whole, params=params, parts=check_length(whole, settings))


def is_opt_out(reply: str) -> bool:
    return reply.strip().lower() in OPT_OUT_REPLIES
