"""Campaigns created and changed, and the capture codes issued for them: the campaign's own
code comes with it, each staff member may get one more (the leads it brings are credited to
them)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Dealer, Membership, Role, Staff
from calls.models import Line
from campaigns.models import Campaign, CampaignKind, CaptureCode
from campaigns.permissions import runs_campaigns
from dcc.errors import InvalidInput, NotPermitted
from leads.models import Channel
from owners.events import money_in

# Codes are in printed QR codes and sometimes typed from a poster: no 0/o, 1/l/i.
# 31**12 ≈ 2**59: not guessed by anyone hammering the public page (which is rate-limited).
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 12
LONGEST_CAMPAIGN = timedelta(days=731)
MAX_MODELS = 30
NAME_LENGTH = 100
OFFER_LENGTH = 200
WORDING_LENGTH = 1000


def default_consent_wording(dealer: Dealer) -> str:
    """What a new campaign's page asks, unless marketing words it otherwise."""
    return _(
        "I agree that %(dealer)s may call me and send me SMS about its models, events and "
        "offers. I can withdraw this at any time by replying R or telling the caller."
    ) % {"dealer": dealer.name}


@dataclass(frozen=True)
class CampaignFields:
    name: str
    kind: str
    starts_on: date | None
    ends_on: date | None
    channel: Channel | int | None
    budget: Decimal | str = Decimal(0)
    cost: Decimal | str = Decimal(0)
    line: Line | int | None = None
    offer: str = ""
    consent_wording: str = ""
    car_models: str = ""
    monthly_subsidy: Decimal | str = Decimal(0)


def _check_runner(by: Staff, dealer_id: int) -> None:
    if not runs_campaigns(by, dealer_id):
        raise NotPermitted(
            _("Only the marketing manager, the GM and the sales manager run campaigns.")
        )


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


def _checked(dealer: Dealer, fields: CampaignFields) -> dict[str, Any]:
    name = (fields.name or "").strip()
    if not name:
        raise InvalidInput(_("Give the campaign a name."), field="name")
    if len(name) > NAME_LENGTH:
        raise InvalidInput(
            _("The name is too long: at most %(limit)d characters.") % {"limit": NAME_LENGTH},
            field="name",
        )
    if fields.kind not in CampaignKind.values:
        raise InvalidInput(_("Choose one of the options."), field="kind")
    if fields.starts_on is None:
        raise InvalidInput(_("Say on which day the campaign starts."), field="starts_on")
    if fields.ends_on is None:
        raise InvalidInput(_("Say on which day the campaign ends."), field="ends_on")
    if fields.ends_on < fields.starts_on:
        raise InvalidInput(_("The last day cannot be before the first."), field="ends_on")
    if fields.ends_on - fields.starts_on > LONGEST_CAMPAIGN:
        raise InvalidInput(_("A campaign lasts two years at most."), field="ends_on")
    channel = Channel.objects.filter(dealer=dealer, pk=_pk(fields.channel), is_active=True).first()
    if channel is None:
        raise InvalidInput(_("Choose one of this dealer's channels."), field="channel")
    line = None
    if fields.line not in (None, ""):
        line = Line.objects.filter(dealer=dealer, pk=_pk(fields.line)).first()
        if line is None:
            raise InvalidInput(_("Choose one of this dealer's lines."), field="line")
    offer = (fields.offer or "").strip()
    if len(offer) > OFFER_LENGTH:
        raise InvalidInput(
            _("The offer is too long: at most %(limit)d characters.") % {"limit": OFFER_LENGTH},
            field="offer",
        )
    wording = (fields.consent_wording or "").strip() or default_consent_wording(dealer)
    if len(wording) > WORDING_LENGTH:
        raise InvalidInput(
            _("The consent wording is too long: at most %(limit)d characters.")
            % {"limit": WORDING_LENGTH},
            field="consent_wording",
        )
    models_ = [m.strip() for m in (fields.car_models or "").splitlines() if m.strip()]
    if len(models_) > MAX_MODELS or any(len(m) > 100 for m in models_):
        raise InvalidInput(
            _("At most %(n)d models of up to 100 characters each, one a line.") % {"n": MAX_MODELS},
            field="car_models",
        )
    return {
        "name": name,
        "kind": fields.kind,
        "starts_on": fields.starts_on,
        "ends_on": fields.ends_on,
        "channel": channel,
        "line": line,
        "budget": money_in(fields.budget, field="budget"),
        "cost": money_in(fields.cost, field="cost"),
        "offer": offer,
        "consent_wording": wording,
        "car_models": "\n".join(dict.fromkeys(models_)),
        "monthly_subsidy": money_in(fields.monthly_subsidy or 0, field="monthly_subsidy"),
    }


def create_campaign(
    *, dealer: Dealer, by: Staff, fields: CampaignFields, at: datetime | None = None
) -> Campaign:
    """A new campaign with its own capture code."""
    _check_runner(by, dealer.pk)
    values = _checked(dealer, fields)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            dealer=dealer, created_by=by, created_at=at or timezone.now(), **values
        )
        _new_code(campaign, staff=None, by=by)
    return campaign


def edit_campaign(*, campaign: Campaign, by: Staff, fields: CampaignFields) -> Campaign:
    _check_runner(by, campaign.dealer_id)
    values = _checked(campaign.dealer, fields)
    for name, value in values.items():
        setattr(campaign, name, value)
    campaign.save(update_fields=list(values))
    return campaign


def issue_code(*, campaign: Campaign, staff: Staff, by: Staff) -> CaptureCode:
    """The capture code of `staff` for the campaign: made on the first call, the same after."""
    _check_runner(by, campaign.dealer_id)
    works_here = (
        Membership.objects.filter(staff=staff, dealer_id=campaign.dealer_id, is_active=True)
        .exclude(role=Role.HEADQUARTERS)
        .exists()
    )
    if not works_here or not staff.is_active:
        raise InvalidInput(_("Choose a person who works at this dealer."), field="staff")
    existing = CaptureCode.objects.filter(campaign=campaign, staff=staff).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _new_code(campaign, staff=staff, by=by)
    except IntegrityError:  # issued by someone else a moment ago
        return CaptureCode.objects.get(campaign=campaign, staff=staff)


def _new_code(campaign: Campaign, *, staff: Staff | None, by: Staff) -> CaptureCode:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return CaptureCode.objects.create(
        dealer_id=campaign.dealer_id, campaign=campaign, staff=staff, code=code, created_by=by
    )


def code_staff_choices(dealer: Dealer):
    """The people a code may be issued to: everyone working at the dealer."""
    working = Membership.objects.filter(dealer=dealer, is_active=True).exclude(
        role=Role.HEADQUARTERS
    )
    return Staff.objects.filter(is_active=True, pk__in=working.values("staff_id")).order_by(
        "display_name", "username"
    )
