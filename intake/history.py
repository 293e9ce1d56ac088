"""Replaying a lead's history from an imported row.

A dealer moving from spreadsheets brings leads that already lived: called, booked, arrived,
bought or lost. Each lifecycle column becomes the backdated action it stands for, through
leads.actions like any live step, so the ledger, the stage machine and the tasks are the same
as if the lead had been worked here. Rows that do not add up are rejected with the reason,
never guessed into shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Dealer, Staff
from accounts.roles import Role, roles_at
from dcc.errors import DomainError, InvalidInput, NotPermitted
from dcc.phone import PhoneError, normalise_phone
from intake.mapping import field_label
from intake.rows import CANONICAL_COLUMNS, LIFECYCLE, LeadRow
from leads import actions
from leads.batch import Batch
from leads.decisions import Intake, IntakeOutcome
from leads.models import CallOutcome, Channel, Lead, ReasonCode, ReasonKind
from leads.permissions import may_import
from leads.stages import GRADES, Action, Grade, may_perform

# Columns that make a row history rather than a plain enquiry.
HISTORY_COLUMNS = (*LIFECYCLE[1:], "defeated_at", "defeat_reason", "invalid_reason")
# Stages a lead must have reached before it can be defeated.
_DEFEATABLE_AFTER = ("contacted_at", "appointed_at", "arrived_at", "ordered_at")


class RowRejected(InvalidInput):
    """The row cannot be imported as it stands; `field` names the canonical column at fault
    ("" when the row as a whole is)."""

    code = "row_rejected"

    def __init__(self, message: str, *, field: str = "", code: str | None = None) -> None:
        super().__init__(message, code=code, field=field)


class Lookups:
    """The dealer's staff, channels and reason codes as an import names them, read once per
    import instead of once per row."""

    def __init__(self, dealer: Dealer) -> None:
        self.dealer = dealer
        self._staff: dict[str, Staff] | None = None
        self._channels: dict[str, Channel] | None = None
        self._reasons: dict[ReasonKind, dict[str, str]] = {}

    def owner(self, text: str) -> Staff:
        """The person at this dealer with `text` as username or mobile."""
        if self._staff is None:
            self._staff = {}
            people = Staff.objects.filter(
                memberships__dealer=self.dealer, memberships__is_active=True, is_active=True
            ).distinct()
            for person in people:
                self._staff[person.username.casefold()] = person
                if number := _mobile(person.mobile):
                    self._staff.setdefault(number, person)
        key = text.strip()
        found = self._staff.get(key.casefold()) or self._staff.get(_mobile(key) or "")
        if found is None:
            raise RowRejected(
                _("Nobody at this dealer has the username or mobile “%(owner)s”.") % {"owner": key},
                field="owner",
                code="unknown_owner",
            )
        return found

    def channel(self, text: str) -> Channel | None:
        """The dealer's channel with `text` as its code or name (as stored or translated)."""
        if self._channels is None:
            self._channels = {}
            for channel in Channel.objects.filter(dealer=self.dealer):
                for key in (channel.code, channel.name, _(channel.name)):
                    self._channels.setdefault(key.strip().casefold(), channel)
        return self._channels.get(text.strip().casefold())

    def reason(self, kind: ReasonKind, text: str) -> str | None:
        """The active reason code of `kind` written as its code or label, else None."""
        if kind not in self._reasons:
            codes: dict[str, str] = {}
            for code, label in ReasonCode.objects.filter(
                dealer=self.dealer, kind=kind, is_active=True
            ).values_list("code", "label"):
                for key in (code, label, _(label)):
                    codes.setdefault(key.strip().casefold(), code)
            self._reasons[kind] = codes
        return self._reasons[kind].get(text.strip().casefold())


def _mobile(text: str) -> str | None:
    try:
        return normalise_phone(text).number if text else None
    except PhoneError:
        return None


def check_importer(importer: Staff, dealer: Dealer) -> None:
    """History is entered in other people's names: only supervisors and managers may."""
    if not may_import(importer, dealer.pk):
        raise NotPermitted(_("Only supervisors and managers import leads."), code="not_permitted")


def has_history(row: LeadRow) -> bool:
    """Whether the row says more than that the customer enquired (created_at)."""
    return any(getattr(row, column) for column in HISTORY_COLUMNS)


def replay(
    *,
    row: LeadRow,
    dealer: Dealer,
    channel: Channel,
    importer: Staff,
    lookups: Lookups | None = None,
    batch: Batch | None = None,
) -> Intake:
    """Create the row's lead at `created_at` (or now) and replay its history as backdated
    actions, all in one transaction: a row is imported whole or not at all. With a `batch`
    (leads.batch) the actions are carried out in memory with the batch's other rows, else
    written through leads.actions one by one.

    Steps are done by the named owner where the stage machine lets them, else by the importer.
    A plain row for a customer with an open lead is a touch, as in live intake (its owner and
    grade are the open lead's business); history for such a customer is rejected."""
    check_importer(importer, dealer)
    lookups = lookups or Lookups(dealer)
    owner = lookups.owner(row.owner) if row.owner else None
    history = has_history(row)
    defeat_reason, invalid_reason = _check(
        row, owner=owner, importer=importer, lookups=lookups, now=timezone.now()
    )
    steps: Any = batch or actions
    with batch.row() if batch else transaction.atomic():
        intake = steps.create_lead(
            dealer=dealer,
            phone=row.phone,
            channel=channel,
            by=importer,
            name=row.name,
            car_model=row.car_model,
            city=row.city,
            note=row.note,
            external_id=row.external_id,
            owner=owner,
            at=row.created_at,
        )
        if intake.outcome is not IntakeOutcome.CREATED:
            if intake.outcome is IntakeOutcome.TOUCHED and history:
                raise RowRejected(
                    _(
                        "History for a customer with an open lead (#%(lead)s): finish or close "
                        "that lead first, or import this row without its history."
                    )
                    % {"lead": intake.lead.pk},
                    field="mobile",
                    code="history_for_open_lead",
                )
            return intake
        lead = intake.lead
        if history or row.grade:
            lead = _replay_steps(
                steps,
                lead,
                row,
                owner=owner,
                importer=importer,
                defeat_reason=defeat_reason,
                invalid_reason=invalid_reason,
            )
        if history or row.grade or row.created_at:
            # A past of its own: its SLA and old tasks are judged by it, not by today.
            lead = steps.settle_imported_history(lead=lead)
        return Intake(lead, IntakeOutcome.CREATED)


def _check(
    row: LeadRow, *, owner: Staff | None, importer: Staff, lookups: Lookups, now: datetime
) -> tuple[str, str]:
    """Reject what does not add up; return the defeat and invalid reason codes."""
    if row.grade and row.grade not in GRADES:
        raise RowRejected(
            _("“%(grade)s” is not a grade; use H, A, B, C or N.") % {"grade": row.grade},
            field="grade",
        )
    stamps = [(column, getattr(row, column)) for column in (*LIFECYCLE, "defeated_at")]
    for column, value in stamps:
        if value is not None and value > now:
            raise RowRejected(
                _("%(column)s (%(when)s) is in the future.")
                % {"column": field_label(column), "when": _shown(value)},
                field=column,
                code="in_future",
            )
    if not has_history(row):
        return "", ""
    if row.created_at is None:
        raise RowRejected(
            _("A row with history needs “%(created)s”: when the customer first enquired.")
            % {"created": field_label("created_at")},
            field="created_at",
        )
    _check_order(row)
    if row.delivered_at and not row.ordered_at:
        raise RowRejected(
            _("Delivered, but “%(ordered)s” is empty: a car is ordered before it is delivered.")
            % {"ordered": field_label("ordered_at")},
            field="ordered_at",
        )
    if row.ordered_at and not row.arrived_at:
        raise RowRejected(
            _("Ordered, but “%(arrived)s” is empty: a customer orders in the showroom.")
            % {"arrived": field_label("arrived_at")},
            field="arrived_at",
        )
    defeat = _check_defeat(row, owner=owner, importer=importer, lookups=lookups)
    invalid = ""
    if row.invalid_reason:
        later = [c for c in (*LIFECYCLE[2:], "defeated_at") if getattr(row, c)]
        if later:
            raise RowRejected(
                _(
                    "Marked invalid, but also “%(column)s”: a lead is invalid only before an "
                    "appointment."
                )
                % {"column": field_label(later[0])},
                field="invalid_reason",
            )
        invalid = lookups.reason(ReasonKind.INVALID, row.invalid_reason) or ""
        if not invalid:
            raise RowRejected(
                _("“%(reason)s” is not one of this dealer's invalid reasons.")
                % {"reason": row.invalid_reason},
                field="invalid_reason",
                code="unknown_reason",
            )
    return defeat, invalid


def _check_order(row: LeadRow) -> None:
    """Lifecycle stamps that are present must not go back in time, and a defeat comes last."""
    seen: list[tuple[str, datetime]] = []
    for column in (*LIFECYCLE, "defeated_at"):
        value = getattr(row, column)
        if value is None:
            continue
        for earlier, when in seen:
            if value < when:
                raise RowRejected(
                    _("%(column)s (%(when)s) is before %(earlier)s (%(earlier_when)s).")
                    % {
                        "column": field_label(column),
                        "when": _shown(value),
                        "earlier": field_label(earlier),
                        "earlier_when": _shown(when),
                    },
                    field=column,
                    code="out_of_order",
                )
        seen.append((column, value))


def _check_defeat(row: LeadRow, *, owner: Staff | None, importer: Staff, lookups: Lookups) -> str:
    dealer_id = lookups.dealer.pk
    if not row.defeated_at:
        if row.defeat_reason:
            raise RowRejected(
                _("A defeat reason, but “%(defeated)s” is empty.")
                % {"defeated": field_label("defeated_at")},
                field="defeated_at",
            )
        return ""
    if row.delivered_at:
        raise RowRejected(_("Both delivered and defeated."), field="defeated_at")
    if not any(getattr(row, column) for column in _DEFEATABLE_AFTER):
        raise RowRejected(
            _("Defeated, but the customer was never contacted: “%(contacted)s” is empty.")
            % {"contacted": field_label("contacted_at")},
            field="contacted_at",
        )
    if not row.defeat_reason:
        raise RowRejected(_("A defeat needs its reason."), field="defeat_reason")
    code = lookups.reason(ReasonKind.DEFEAT, row.defeat_reason)
    if code is None:
        raise RowRejected(
            _("“%(reason)s” is not one of this dealer's defeat reasons.")
            % {"reason": row.defeat_reason},
            field="defeat_reason",
            code="unknown_reason",
        )
    # Four eyes: the owner requests, the importer approves; nobody approves their own request.
    if (
        owner is None
        or owner.pk == importer.pk
        or not _may(owner, dealer_id, Action.REQUEST_DEFEAT)
    ):
        raise RowRejected(
            _(
                "A defeat is requested by the lead's owner and approved by you: name an owner "
                "other than yourself who may request defeats."
            ),
            field="owner",
            code="defeat_needs_owner",
        )
    return code


def _shown(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _may(person: Staff, dealer_id: int, *wanted: Action) -> bool:
    """Whether `person`, owning the lead, may do every one of `wanted`."""
    roles = roles_at(person, dealer_id) - {Role.HEADQUARTERS}
    return all(may_perform(action, roles=roles, is_owner=True) for action in wanted)


@contextmanager
def _step(column: str) -> Iterator[None]:
    """Report a refused step against the column it came from."""
    try:
        yield
    except RowRejected:
        raise
    except DomainError as error:
        raise RowRejected(
            _("Cannot record “%(step)s”: %(problem)s")
            % {"step": field_label(column), "problem": error.message},
            field=column if column in CANONICAL_COLUMNS else "",
            code=error.code,
        ) from error


def _replay_steps(
    steps: Any,
    lead: Lead,
    row: LeadRow,
    *,
    owner: Staff | None,
    importer: Staff,
    defeat_reason: str,
    invalid_reason: str,
) -> Lead:
    """Each lifecycle column as the backdated action it stands for, in the order lived;
    `steps` is leads.actions or a leads.batch.Batch (the same names and arguments)."""

    def by(*wanted: Action) -> Staff:
        if owner is not None and lead.owner_id == owner.pk and _may(owner, lead.dealer_id, *wanted):
            return owner
        return importer

    grade = Grade(row.grade) if row.grade else None
    if row.contacted_at:
        with _step("contacted_at"):
            lead = steps.log_call(
                lead=lead,
                by=by(Action.LOG_CALL, *([Action.GRADE] if grade else [])),
                outcome=CallOutcome.REACHED,
                grade=grade,
                at=row.contacted_at,
            )
    elif grade:
        # No call on record: the grade is what the lead was entered with.
        with _step("grade"):
            lead = steps.set_grade(lead=lead, by=by(Action.GRADE), grade=grade, at=row.created_at)
    if row.appointed_at:
        with _step("appointed_at"):
            lead = steps.book_appointment(
                lead=lead,
                by=by(Action.APPOINT),
                appointment_at=row.arrived_at or row.appointed_at,
                at=row.appointed_at,
            )
    if row.arrived_at:
        with _step("arrived_at"):
            lead = steps.record_arrival(lead=lead, by=by(Action.ARRIVE), at=row.arrived_at)
    if row.ordered_at:
        with _step("ordered_at"):
            lead = steps.record_order(lead=lead, by=by(Action.ORDER), at=row.ordered_at)
    if row.delivered_at:
        with _step("delivered_at"):
            lead = steps.record_delivery(lead=lead, by=by(Action.DELIVER), at=row.delivered_at)
    if row.defeated_at and owner is not None:
        with _step("defeated_at"):
            lead = steps.request_defeat(
                lead=lead, by=owner, reason=defeat_reason, at=row.defeated_at
            )
            lead = steps.approve_defeat(lead=lead, by=importer, at=row.defeated_at)
    if invalid_reason:
        with _step("invalid_reason"):
            lead = steps.invalidate_lead(
                lead=lead,
                by=by(Action.INVALIDATE),
                reason=invalid_reason,
                at=row.contacted_at or row.created_at,
            )
    return lead
