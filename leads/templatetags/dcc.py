"""Template filters for lead pages: labels of stored codes, event summaries, and money as
every page shows it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dcc.formats import format_money
from leads.models import CallOutcome, Event, EventKind, HandoffReason, Lead, TaskKind
from leads.sla import lead_has_sla
from leads.stages import Grade, Stage

register = template.Library()


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.filter
def stage_label(value: str) -> str:
    return _label(Stage, value) if value else ""


@register.filter
def grade_label(value: str) -> str:
    return _label(Grade, value) if value else _("not graded")


@register.filter
def event_label(value: str) -> str:
    return _label(EventKind, value)


@register.filter
def task_label(value: str) -> str:
    return _label(TaskKind, value)


@register.filter
def reason_label(code: str, reasons: dict) -> str:
    """The dealer's label of a reason code, or the label of a handoff reason."""
    if code in reasons:
        return _(reasons[code])
    return _label(HandoffReason, code)


@register.filter
def money(value: Decimal | float | int | str | None) -> str:
    return format_money(value)


def _when(iso: str | None) -> str:
    moment = parse_datetime(iso) if iso else None
    return (
        formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else ""
    )


@register.simple_tag
def event_summary(event: Event, channels: dict[str, str]) -> str:
    """One line of what an event's data says, in the reader's language."""
    data = event.data or {}
    if event.kind == EventKind.CALLED:
        minutes, seconds = divmod(int(data.get("duration_seconds") or 0), 60)
        return _("%(outcome)s, talk time %(m)d:%(s)02d") % {
            "outcome": _label(CallOutcome, data.get("outcome", "")),
            "m": minutes,
            "s": seconds,
        }
    if event.kind == EventKind.GRADED:
        return f"{data.get('from') or '—'} → {data.get('to')}"
    if event.kind in (EventKind.APPOINTMENT_SET, EventKind.APPOINTMENT_MOVED):
        return _("visit at %(when)s") % {"when": _when(data.get("appointment_at"))}
    if event.kind in (EventKind.QUOTED, EventKind.ORDERED) and data.get("amount"):
        return f"{data.get('car_model') or ''} {format_money(data['amount'])}".strip()
    if event.kind in (EventKind.CREATED, EventKind.TOUCHED):
        channel = data.get("channel")
        channel = _(channels[channel]) if channel in channels else channel
        return " · ".join(part for part in (channel, data.get("car_model")) if part)
    if event.kind == EventKind.RETURN_VISIT:
        if not data.get("reached"):
            return _("not reached")
        if data.get("satisfaction"):
            return _("satisfaction %(n)s/5") % {"n": data["satisfaction"]}
        return _("reached")
    if event.kind == EventKind.TEST_DRIVE:
        return data.get("car_model") or ""
    return ""


@register.filter
def overdue(moment: datetime | None) -> bool:
    return bool(moment and moment < timezone.now())


@register.filter
def has_sla(lead: Lead) -> bool:
    """False for a lead imported after its deadline without a first response (leads.sla)."""
    return lead_has_sla(lead)


@register.filter
def clock_or_day(moment: datetime | None) -> str:
    """The time alone today ("14:05"), with its day on any other day."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return formats.time_format(local, "H:i")
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


def countdown_text(deadline: datetime, now: datetime) -> str:
    """Time left as a clock (1:05:09, 4:30), or how long overdue in words: minutes under an
    hour, hours under a day, then days. static/js/dcc.js says the same every second."""
    left = int((deadline - now).total_seconds())
    if left >= 0:
        hours, rest = divmod(left, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    late = -left
    if late < 3600:
        return _("%(n)s min overdue") % {"n": max(1, late // 60)}
    if late < 86400:
        return _("%(n)s h overdue") % {"n": late // 3600}
    days = late // 86400
    return ngettext("%(n)s day overdue", "%(n)s days overdue", days) % {"n": days}


@register.simple_tag
def countdown(deadline: datetime | None, css: str = "", label: str = "") -> str:
    """A live countdown to a deadline, its first paint already in words. The overdue phrases
    ride along as data attributes ({n} in place of the number) for the script."""
    if deadline is None:
        return ""
    now = timezone.now()
    phrases = {
        "late-min": _("%(n)s min overdue"),
        "late-h": _("%(n)s h overdue"),
        "late-day": ngettext("%(n)s day overdue", "%(n)s days overdue", 1),
        "late-days": ngettext("%(n)s day overdue", "%(n)s days overdue", 2),
    }
    return format_html(
        '<span class="dcc-countdown{}{}" data-deadline="{}"{}{}>{}</span>',
        " dcc-overdue" if deadline < now else "",
        f" {css}" if css else "",
        deadline.isoformat(),
        format_html(' title="{}"', label) if label else "",
        format_html_join(
            "", ' data-{}="{}"', ((key, text % {"n": "{n}"}) for key, text in phrases.items())
        ),
        countdown_text(deadline, now),
    )
