"""Platform webhooks: a platform posts one enquiry per request to its channel, signed with the
channel's secret, as JSON or ADF XML; each becomes a lead, a touch or a duplicate through
leads.actions.create_lead, like every other way a lead gets in.

A request passes, in order: the size cap, the signature, the channel's rate limit, parsing
and validation, then the action. Nothing is written before the last step."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import secrets
import time
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field
from ninja.errors import ValidationError
from pydantic import ConfigDict
from pydantic import ValidationError as PydanticError

from accounts.audit import record_change
from accounts.models import Staff
from accounts.roles import check_configure
from dcc.errors import DomainError, InvalidInput, NotFound
from dcc.schema import Input, Moment
from intake import adf
from leads import actions
from leads.models import Channel

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-DCC-Signature"
SIGNATURE_SCHEME = "sha256="
JSON_CONTENT_TYPES = frozenset({"application/json"})
# One enquiry is a few hundred bytes; the cap bounds the work an unsigned request can cause.
MAX_BODY_BYTES = 64 * 1024
RATE_WINDOW_SECONDS = 60
# Platform clocks run a little ahead; further ahead than this is bad data, not skew.
CLOCK_SKEW = timedelta(minutes=10)
SECRET_LENGTH = (32, 128)


class BadSignature(DomainError):
    status = 401
    code = "bad_signature"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class WebhookEnquiry(Input):
    """One enquiry as a platform sends it; unknown keys are ignored, numbers accepted as ids
    (read as the text sent: `1e999999` stays that, never a float)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    external_id: str = Field(
        ..., min_length=1, max_length=100, description="The platform's id of the lead."
    )
    mobile: str = Field(
        ..., max_length=40, description="Customer's phone; +86, spaces and dashes are fine."
    )
    name: str = Field("", max_length=100)
    car_model: str = Field("", max_length=100)
    city: str = Field("", max_length=64)
    note: str = Field("", max_length=2000)
    created_at: Moment | None = Field(
        None,
        description="When the customer enquired, from 2000 on; naive times are China time. "
        "Default: now.",
    )


def webhook_channel(*, dealer_code: str, channel_code: str) -> Channel:
    """The active channel a webhook URL names. Both codes are needed: channel codes are unique
    per dealer only (every dealer has an `autohome`)."""
    channel = (
        Channel.objects.select_related("dealer")
        .filter(dealer__code=dealer_code, code=channel_code, is_active=True)
        .first()
    )
    if channel is None:
        raise NotFound(_("Unknown dealer or channel."))
    return channel


def sign(secret: str, body: bytes) -> str:
    """The signature header value a platform sends for `body`."""
    return SIGNATURE_SCHEME + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(channel: Channel, body: bytes, signature: str | None) -> None:
    """Raise BadSignature unless `signature` is the body's HMAC under the channel's secret.
    A channel without a secret accepts nothing; the answer does not say which case it was."""
    given = (signature or "").strip()
    if given[: len(SIGNATURE_SCHEME)].lower() == SIGNATURE_SCHEME:
        given = SIGNATURE_SCHEME + given[len(SIGNATURE_SCHEME) :].lower()
    if not channel.webhook_secret:
        log.warning("webhook refused: channel %s has no secret", channel.pk)
    elif not hmac.compare_digest(
        sign(channel.webhook_secret, body).encode(), given.encode("utf-8", "replace")
    ):
        log.warning("webhook refused: bad or missing signature for channel %s", channel.pk)
    else:
        return
    raise BadSignature(
        _("Missing or wrong signature (HMAC-SHA256 of the raw body with the channel's secret).")
    )


def check_rate(channel: Channel, *, now: float | None = None) -> None:
    """Count a request against the channel's budget for the current minute (a fixed window in
    Django's cache); raise RateLimited when it is spent. The cache must be shared by every
    process for the limit to hold: LocMemCache is per process, production points CACHES at
    Redis."""
    now = time.time() if now is None else now
    window = int(now // RATE_WINDOW_SECONDS)
    key = f"dcc:intake:rate:{channel.pk}:{window}"
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS * 2)
        count = 1
    if count > channel.webhook_rate_per_minute:
        retry_after = max(1, math.ceil((window + 1) * RATE_WINDOW_SECONDS - now))
        raise RateLimited(
            _("Too many requests for this channel; retry in %(seconds)d seconds.")
            % {"seconds": retry_after},
            retry_after=retry_after,
        )


def parse_enquiry(body: bytes, content_type: str, charset: str | None = None) -> WebhookEnquiry:
    """Read a JSON or ADF body into a validated enquiry, or raise saying what and where."""
    kind = content_type.strip().lower()
    if kind in adf.CONTENT_TYPES:
        raw: object = adf.parse_adf(body)
    elif kind in JSON_CONTENT_TYPES:
        raw = _json(body, charset)
    else:
        raise UnsupportedMediaType(
            _("Send application/json, or ADF as application/xml, text/xml or application/adf+xml.")
        )
    if not isinstance(raw, dict):
        raise InvalidInput(_("The body must be a JSON object."), code="malformed_json")
    try:
        enquiry = WebhookEnquiry.model_validate(raw)
    except PydanticError as error:
        # The API's one error shape for field errors; the input is not echoed back.
        raise ValidationError(
            error.errors(include_url=False, include_context=False, include_input=False)
        ) from error
    if enquiry.created_at is not None:
        enquiry.created_at = _checked_time(enquiry.created_at)
    return enquiry


def _json(body: bytes, charset: str | None) -> object:
    try:
        # JSON is UTF-8, but some platforms send GBK and say so in the charset parameter.
        text = body.decode(charset) if charset else body
    except (LookupError, UnicodeError) as error:
        raise InvalidInput(
            _("The body is not text in the declared character set."), code="malformed_json"
        ) from error
    try:
        # Numbers are kept as the text sent: every field is text, and an id of 5,000 digits
        # or `1e999999` must not become a float or overflow the integer parser.
        return json.loads(text, parse_int=str, parse_float=str)
    except RecursionError as error:
        raise InvalidInput(_("The body is nested too deeply."), code="malformed_json") from error
    except ValueError as error:  # also a body that is not UTF-8
        raise InvalidInput(
            _("The body is not valid JSON: %(reason)s") % {"reason": error}, code="malformed_json"
        ) from error


def _checked_time(at: datetime) -> datetime:
    """`at` (aware, in the window) no later than now, allowing for a platform's clock skew."""
    now = timezone.now()
    if at > now + CLOCK_SKEW:
        raise InvalidInput(
            _("The enquiry time lies in the future."), code="validation_error", field="created_at"
        )
    return min(at, now)


def receive_enquiry(
    *,
    channel: Channel,
    body: bytes,
    content_type: str,
    signature: str | None,
    charset: str | None = None,
) -> actions.Intake:
    """Authenticate, rate-limit, parse and record one platform enquiry as system intake (the
    dealer's assignment rules pick the owner). Idempotent on the platform's external id."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            _("The body is larger than %(limit)d bytes.") % {"limit": MAX_BODY_BYTES}
        )
    verify_signature(channel, body, signature)
    # Counted after the signature, so that nobody without the secret can use up a channel's
    # budget and lock its platform out.
    check_rate(channel)
    enquiry = parse_enquiry(body, content_type, charset)
    return actions.create_lead(
        dealer=channel.dealer,
        phone=enquiry.mobile,
        channel=channel,
        by=None,
        name=enquiry.name,
        car_model=enquiry.car_model,
        city=enquiry.city,
        note=enquiry.note,
        external_id=enquiry.external_id,
        at=enquiry.created_at,
    )


def rotate_webhook_secret(
    channel: Channel, *, by: Staff | None = None, secret: str | None = None
) -> str:
    """Give the channel a new signing secret (random unless `secret` is given, for platforms
    that issue their own) and return it; the old one stops working at once. Stored as is:
    checking an HMAC needs the secret itself. With `by`, the change is checked and recorded
    like any settings change; without, it is an operator's (command line)."""
    if by is not None:
        check_configure(by, channel.dealer)
    new = secrets.token_hex(32) if secret is None else secret.strip()
    low, high = SECRET_LENGTH
    if not (low <= len(new) <= high and new.isascii() and new.isprintable()):
        raise InvalidInput(
            _("A webhook secret has %(low)d to %(high)d printable ASCII characters.")
            % {"low": low, "high": high},
            field="webhook_secret",
        )
    channel.webhook_secret = new
    channel.save(update_fields=["webhook_secret"])
    if by is not None:
        # Never the secret itself: the record says who changed it and when.
        record_change(
            dealer=channel.dealer, by=by, what="webhook_secret_rotated", subject=channel.code
        )
    return new
