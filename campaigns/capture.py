"""What a visitor's details on a capture page become: a lead in the DCC queue (or a repeat
enquiry on their open lead) attributed to the campaign and the code's staff member, and their
consent with its evidence. Also the page's defences, none of which needs an outside service:

- a human check: the form carries a signed, time-stamped token (django.core.signing); a form
  sent back sooner than MIN_FILL_SECONDS after it was shown, or with the hidden honeypot field
  filled in, is refused. No puzzle for the visitor; a bot must render the page and wait.
- rate limits in Django's cache, counted per fixed window: per client address (every form
  sent, whatever became of it) and per mobile number (at the dealer). The address limit is
  generous on purpose: visitors at a car show share the venue's Wi-Fi and mobile carriers put
  many phones behind one address.

Attribution: a lead is credited to the campaign whose capture created it, once (CampaignLead).
Someone with an open lead already makes a touch on it, as everywhere else; the touch is
counted for the campaign (CampaignTouch) but the lead keeps its own channel and campaign: the
first wins, so a campaign's leads are exactly the leads of its channel it brought."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import date, datetime

from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from campaigns.models import Campaign, CampaignLead, CampaignTouch, CaptureCode
from dcc.errors import DomainError, InvalidInput, NotFound
from dcc.phone import PhoneKind, normalise_phone
from leads import actions
from leads.actions import IntakeOutcome
from leads.models import Lead
from privacy import consent
from privacy.models import ConsentSource, Purpose

# What a tick in the capture page's box consents to: the wording must say so (the default
# wording does, campaigns.campaigns.default_consent_wording).
CAPTURE_PURPOSES = (Purpose.MARKETING_CALLS, Purpose.SMS)
NAME_LENGTH = 50
MODEL_LENGTH = 100

TOKEN_SALT = "campaigns.capture.form"
MIN_FILL_SECONDS = 3  # nobody types a name and a mobile faster
TOKEN_MAX_AGE = 2 * 3600  # a page left open longer is shown again


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int  # tries allowed per window
    window: int  # seconds


ADDRESS_LIMIT = Limit("address", count=30, window=600)
MOBILE_LIMIT = Limit("mobile", count=3, window=3600)


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CampaignNotRunning(DomainError):
    """The campaign has ended (410) or not started yet (403)."""

    code = "campaign_not_running"

    def __init__(self, message: str, *, ended: bool) -> None:
        super().__init__(message)
        self.status = 410 if ended else 403
        self.ended = ended


class HumanCheckFailed(InvalidInput):
    code = "human_check_failed"


@dataclass(frozen=True)
class Captured:
    lead: Lead
    outcome: IntakeOutcome  # CREATED (a new lead) or TOUCHED (their open lead)
    campaign: Campaign
    code: CaptureCode


# ---------------------------------------------------------------- the code and its campaign


def code_of(code: str) -> CaptureCode:
    """The capture code with its campaign and dealer, or NotFound."""
    found = (
        CaptureCode.objects.select_related("campaign__dealer", "campaign__channel", "staff")
        .filter(code=(code or "").strip().lower()[:24])
        .first()
    )
    if found is None:
        raise NotFound(_("This code is unknown. Please scan the QR code again."))
    return found


def check_running(campaign: Campaign, today: date) -> None:
    """CampaignNotRunning unless `today` is one of the campaign's days."""
    if today > campaign.ends_on:
        raise CampaignNotRunning(
            _("%(campaign)s ended on %(day)s. Thank you for your interest.")
            % {"campaign": campaign.name, "day": campaign.ends_on.isoformat()},
            ended=True,
        )
    if today < campaign.starts_on:
        raise CampaignNotRunning(
            _("%(campaign)s starts on %(day)s. Please come back then.")
            % {"campaign": campaign.name, "day": campaign.starts_on.isoformat()},
            ended=False,
        )


# ---------------------------------------------------------------- the human check


def form_token(code: str) -> str:
    """The signed token a capture form is shown with: which code, and when."""
    return signing.dumps({"code": code, "shown": time.time()}, salt=TOKEN_SALT)


def check_form_token(token: str, code: str, *, honeypot: str = "") -> None:
    """HumanCheckFailed unless the form came back from a page we showed for this code, no
    sooner than a person fills it in and no later than TOKEN_MAX_AGE, its honeypot empty."""
    try:
        shown = signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise HumanCheckFailed(
            _("This page was open for a long time. Please check your details and send again.")
        ) from None
    except signing.BadSignature:
        shown = None
    if not isinstance(shown, dict) or shown.get("code") != code or honeypot:
        raise HumanCheckFailed(_("Please check your details and send them again."))
    if time.time() - float(shown.get("shown", 0)) < MIN_FILL_SECONDS:
        raise HumanCheckFailed(
            _("That was very quick. Please check your details and send them again.")
        )


# ---------------------------------------------------------------- rate limits


def _count(limit: Limit, who: str) -> None:
    """Count one try of `who`'s in the current window; RateLimited when past the limit."""
    now = time.time()
    window = int(now // limit.window)
    key = f"dcc:capture:{limit.scope}:{who}:{window}"
    cache.add(key, 0, timeout=limit.window * 2)
    try:
        tries = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=limit.window * 2)
        tries = 1
    if tries > limit.count:
        retry_after = max(1, math.ceil((window + 1) * limit.window - now))
        raise RateLimited(
            _("Too many tries. Please try again in %(minutes)d minutes.")
            % {"minutes": max(1, math.ceil(retry_after / 60))},
            retry_after=retry_after,
        )


def check_address(address: str) -> None:
    """Count a form sent from `address` (every one, whatever becomes of it)."""
    _count(ADDRESS_LIMIT, address or "-")


# ---------------------------------------------------------------- capture


def capture(
    *,
    code: str,
    name: str,
    mobile: str,
    car_model: str = "",
    consent_given: bool = False,
    address: str = "",
    page_url: str = "",
    at: datetime | None = None,
    entered_by: Staff | None = None,
) -> Captured:
    """A visitor's details left on the capture page of `code`: a lead of the campaign's channel
    (or a touch on their open lead), entered by nobody and assigned to the DCC by the dealer's
    rules; attributed to the campaign and code; their consent recorded when they gave it.
    `entered_by`: a staff member typed them in at the stand, the visitor beside them
    (campaigns.stand); the consent's evidence says so."""
    at = at or timezone.now()
    found = code_of(code)
    campaign = found.campaign
    check_running(campaign, timezone.localdate(at))
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Please enter your name."), field="name")
    if len(name) > NAME_LENGTH:
        raise InvalidInput(
            _("The name is too long: at most %(limit)d characters.") % {"limit": NAME_LENGTH},
            field="name",
        )
    car_model = (car_model or "").strip()
    if len(car_model) > MODEL_LENGTH:
        raise InvalidInput(
            _("At most %(limit)d characters.") % {"limit": MODEL_LENGTH}, field="car_model"
        )
    choices = campaign.model_choices
    if choices and car_model and car_model not in choices:
        raise InvalidInput(_("Choose one of the models."), field="car_model")
    number = normalise_phone(mobile)
    if number.kind != PhoneKind.MOBILE:
        raise InvalidInput(_("Please enter a mobile number."), field="mobile")
    _count(MOBILE_LIMIT, f"{campaign.dealer_id}:{number.number}")
    with transaction.atomic():
        intake = actions.create_lead(
            dealer=campaign.dealer,
            phone=number,
            channel=campaign.channel,
            by=None,
            name=name,
            car_model=car_model,
            note=_note(found),
            at=at,
        )
        lead = intake.lead
        if intake.outcome == IntakeOutcome.CREATED:
            CampaignLead.objects.create(
                dealer_id=campaign.dealer_id,
                lead=lead,
                campaign=campaign,
                capture_code=found,
                at=at,
            )
        else:
            CampaignTouch.objects.create(
                dealer_id=campaign.dealer_id,
                lead=lead,
                campaign=campaign,
                capture_code=found,
                at=at,
            )
        if consent_given:
            evidence = _evidence(campaign, found, page_url=page_url, address=address)
            if entered_by is not None:
                evidence += "\n" + _("Entered at the stand by %(staff)s, the visitor ticking.") % {
                    "staff": entered_by
                }
            for purpose in CAPTURE_PURPOSES:
                consent.record(
                    customer=lead.customer,
                    purpose=purpose,
                    given=True,
                    how=ConsentSource.FORM if entered_by else ConsentSource.CAPTURE_PAGE,
                    evidence=evidence,
                    by=entered_by,
                    at=at,
                )
    return Captured(lead=lead, outcome=intake.outcome, campaign=campaign, code=found)


def _note(code: CaptureCode) -> str:
    if code.staff is None:
        return _("Campaign %(campaign)s, capture page") % {"campaign": code.campaign.name}
    return _("Campaign %(campaign)s, capture code of %(staff)s") % {
        "campaign": code.campaign.name,
        "staff": code.staff,
    }


def _evidence(campaign: Campaign, code: CaptureCode, *, page_url: str, address: str) -> str:
    """What the visitor saw and where: the wording as shown, the page, their address."""
    return "\n".join(
        [
            _("Wording shown: %(wording)s") % {"wording": campaign.consent_wording},
            _("Page: %(url)s") % {"url": page_url or f"/c/{code.code}/"},
            _("Client address: %(address)s") % {"address": address or "-"},
        ]
    )
