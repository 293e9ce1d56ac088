"""The dealer's phone settings: its accounts with the providers (API keys, push
authentication), its lines, the seats mapped to people, the block list, the call scripts and
how long recordings are kept. Every change goes through one of these functions, which checks
that the person may configure the dealer, validates, writes and records who changed what
(accounts.audit), as the channel settings do (leads.setup.configuration).

Secrets (API keys, the push password, token and signing secret) are write-only: they are
stored as given, never shown again and never written to the change log; an empty value keeps
the stored one."""

from __future__ import annotations

import ipaddress
import re
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import record_change
from accounts.models import Dealer, Staff
from accounts.roles import Role, check_configure
from calls.matching import caller_number, digits
from calls.models import (
    MIN_RETENTION_DAYS,
    BlockedNumber,
    Line,
    LineKind,
    PhoneAccount,
    PhoneSettings,
    Provider,
    Script,
    ScriptPurpose,
    Seat,
    new_push_key,
)
from calls.scripts import save_script
from dcc.errors import InvalidInput, whole_number_in
from leads.models import Channel
from leads.stages import Grade, Stage

NAME_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 200
CALLBACK_MINUTES_RANGE = (1, 24 * 60)
NUMBER_DIGITS_RANGE = (5, 20)
RETENTION_DAYS_RANGE = (MIN_RETENTION_DAYS, 10 * 366)
SCRIPT_TITLE_MAX_LENGTH = 100
SCRIPT_BODY_MAX_LENGTH = 5000
SCRIPT_PLACEHOLDERS = ("agent", "dealer", "channel", "model", "appointment")
# Who may sit at a seat: the DCC, and the consultants and owner-ops specialists who call their
# own customers (test drives, deliveries, return visits).
SEAT_ROLES = (Role.DCC_AGENT, Role.DCC_SUPERVISOR, Role.CONSULTANT, Role.OWNER_OPS)
# What a typed number may hold besides digits: 400-800-1234, +86 (21) 6123 4567.
NUMBER_PUNCTUATION = re.compile(r"^[\d\s+()\-.]*$")
HOST_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _text(raw: str, *, field: str, max_length: int = NAME_MAX_LENGTH) -> str:
    text = " ".join((raw or "").split())
    if len(text) > max_length:
        raise InvalidInput(
            _("At most %(max)d characters.") % {"max": max_length},
            code=f"{field}_too_long",
            field=field,
        )
    return text


# ---------------------------------------------------------------- accounts


@dataclass(frozen=True)
class CredentialField:
    """One setting of a provider account, as the adapter names it (calls.providers)."""

    key: str
    label: str | Promise
    secret: bool = False  # write-only: never shown, an empty value keeps the stored one
    help_text: str | Promise = ""


_PUSH_USERNAME = CredentialField(
    "push_username",
    gettext_lazy("Push username"),
    help_text=gettext_lazy("Basic auth on the push address, with the push password."),
)
_PUSH_PASSWORD = CredentialField("push_password", gettext_lazy("Push password"), secret=True)
_PUSH_TOKEN = CredentialField(
    "push_token",
    gettext_lazy("Push token"),
    secret=True,
    help_text=gettext_lazy("Sent as ?token=… on the push address, or an X-DCC-Token header."),
)
_RECORDING_HOSTS = CredentialField(
    "recording_hosts",
    gettext_lazy("Recording hosts"),
    help_text=gettext_lazy(
        "Extra hosts recordings may be fetched from, comma-separated (e.g. your own "
        "storage bucket); “.example.com” stands for any host under it."
    ),
)
_CALLER = CredentialField(
    "caller",
    gettext_lazy("Number shown to customers"),
    help_text=gettext_lazy("The outbound number (TCCC: several, comma-separated, with 0086)."),
)
_ACCESS_KEY_ID = CredentialField("access_key_id", gettext_lazy("AccessKey ID"))
_ACCESS_KEY_SECRET = CredentialField(
    "access_key_secret", gettext_lazy("AccessKey secret"), secret=True
)

CREDENTIALS: dict[str, tuple[CredentialField, ...]] = {
    Provider.TCCC: (
        CredentialField("sdk_app_id", gettext_lazy("SdkAppId"), help_text=gettext_lazy("Digits.")),
        CredentialField("secret_id", gettext_lazy("SecretId")),
        CredentialField("secret_key", gettext_lazy("SecretKey"), secret=True),
        CredentialField(
            "region", gettext_lazy("Region"), help_text=gettext_lazy("Optional, e.g. ap-shanghai.")
        ),
        _CALLER,
        _PUSH_USERNAME,
        _PUSH_PASSWORD,
        _PUSH_TOKEN,
        _RECORDING_HOSTS,
    ),
    Provider.ALIYUN: (
        _ACCESS_KEY_ID,
        _ACCESS_KEY_SECRET,
        CredentialField("instance_id", gettext_lazy("Instance ID")),
        _CALLER,
        _PUSH_USERNAME,
        _PUSH_PASSWORD,
        _PUSH_TOKEN,
        _RECORDING_HOSTS,
    ),
    Provider.CLINK: (
        _ACCESS_KEY_ID,
        _ACCESS_KEY_SECRET,
        _CALLER,
        _PUSH_USERNAME,
        _PUSH_PASSWORD,
        _PUSH_TOKEN,
        _RECORDING_HOSTS,
    ),
    Provider.GENERIC: (
        CredentialField(
            "push_secret",
            gettext_lazy("Push signing secret"),
            secret=True,
            help_text=gettext_lazy("X-DCC-Signature: HMAC-SHA256 of the body with this secret."),
        ),
        _PUSH_USERNAME,
        _PUSH_PASSWORD,
        _PUSH_TOKEN,
        _RECORDING_HOSTS,
    ),
}
# The push secrets DCC makes up for the dealer to give the provider (shown once).
GENERATED = ("push_token", "push_secret")


def credential_fields(provider: str) -> tuple[CredentialField, ...]:
    try:
        return CREDENTIALS[provider]
    except KeyError:
        raise InvalidInput(_("Choose a provider."), code="bad_provider", field="provider") from None


def secret_keys(provider: str) -> list[str]:
    return [field.key for field in credential_fields(provider) if field.secret]


def has_push_auth(credentials: Mapping[str, str]) -> bool:
    """Whether a push can be accepted at all (a provider with none configured accepts none)."""
    return any(credentials.get(key) for key in ("push_password", "push_token", "push_secret"))


def _api_url(raw: str) -> str:
    url = (raw or "").strip()
    if not url:
        return ""
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise InvalidInput(
            _("Enter the API address as https://host/…, or leave it empty."),
            code="bad_api_url",
            field="api_url",
        ) from None
    if len(url) > 200:
        raise InvalidInput(
            _("At most %(max)d characters.") % {"max": 200},
            code="api_url_too_long",
            field="api_url",
        )
    return url


def _recording_hosts(raw: str) -> str:
    """Host names only (an address would let a forged push make us fetch inside the network)."""
    hosts = []
    for entry in (raw or "").replace("，", ",").split(","):
        host = entry.strip().lower().rstrip(".")
        if not host:
            continue
        name = host.removeprefix(".")
        labels = name.split(".")
        bad = (
            name == "localhost"
            or _is_address(name)
            or len(name) > 253
            or not all(HOST_LABEL.match(label) for label in labels)
            or (host.startswith(".") and len(labels) < 2)
        )
        if bad:
            raise InvalidInput(
                _("“%(host)s” is not a host name such as oss.example.com or .example.com.")
                % {"host": entry.strip()[:100]},
                code="bad_host",
                field="recording_hosts",
            )
        if host not in hosts:
            hosts.append(host)
    return ",".join(hosts)


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return all(label.isdigit() for label in name.split("."))
    return True


def _credential_value(field: CredentialField, raw: str) -> str:
    if field.key == "recording_hosts":
        return _recording_hosts(raw)
    value = (raw or "").strip()
    if len(value) > TEXT_MAX_LENGTH:
        raise InvalidInput(
            _("At most %(max)d characters.") % {"max": TEXT_MAX_LENGTH},
            code="too_long",
            field=field.key,
        )
    if field.key == "sdk_app_id" and value and not value.isdigit():
        raise InvalidInput(_("The SdkAppId is a number."), code="bad_sdk_app_id", field=field.key)
    return value


def _merged_credentials(
    provider: str,
    stored: Mapping[str, str],
    given: Mapping[str, str],
    clear: Iterable[str],
) -> tuple[dict[str, str], list[str]]:
    """The account's settings after the change, and the names of those that changed.
    A secret left empty keeps its stored value unless it is in `clear`."""
    fields = credential_fields(provider)
    known = {field.key for field in fields}
    unknown = (set(given) | set(clear)) - known
    if unknown:
        raise InvalidInput(
            _("Unknown setting: %(keys)s.") % {"keys": ", ".join(sorted(unknown))},
            code="unknown_setting",
        )
    clear = set(clear)
    merged: dict[str, str] = {}
    for field in fields:
        value = _credential_value(field, given.get(field.key, ""))
        if field.secret and not value and field.key not in clear:
            value = stored.get(field.key, "")
        if value:
            merged[field.key] = value
    if merged.get("push_username") and not merged.get("push_password"):
        raise InvalidInput(
            _("Set a push password with the username, or leave both empty."),
            code="password_required",
            field="push_password",
        )
    changed = sorted(key for key in known if merged.get(key, "") != stored.get(key, ""))
    return merged, changed


def create_account(
    *,
    dealer: Dealer,
    by: Staff,
    provider: str,
    credentials: Mapping[str, str],
    api_url: str = "",
    is_active: bool = True,
) -> PhoneAccount:
    """The dealer's account with a provider: one per provider."""
    check_configure(by, dealer)
    if provider not in Provider.values:
        raise InvalidInput(_("Choose a provider."), code="bad_provider", field="provider")
    merged, changed = _merged_credentials(provider, {}, credentials, ())
    url = _api_url(api_url)
    taken = InvalidInput(
        _("This dealer already has an account with %(provider)s.")
        % {"provider": Provider(provider).label},
        code="provider_taken",
        field="provider",
    )
    if PhoneAccount.objects.filter(dealer=dealer, provider=provider).exists():
        raise taken
    try:
        with transaction.atomic():
            account = PhoneAccount.objects.create(
                dealer=dealer,
                provider=provider,
                credentials=merged,
                api_url=url,
                is_active=is_active,
            )
    except IntegrityError as error:
        raise taken from error
    record_change(
        dealer=dealer,
        by=by,
        what="phone_account_created",
        subject=provider,
        detail={"settings": changed, "api_url": url, "is_active": is_active},
    )
    return account


def update_account(
    *,
    account: PhoneAccount,
    by: Staff,
    credentials: Mapping[str, str],
    api_url: str = "",
    is_active: bool = True,
    clear: Iterable[str] = (),
) -> PhoneAccount:
    """Change an account's settings. A secret left empty keeps its stored value; those in
    `clear` are removed."""
    check_configure(by, account.dealer)
    merged, changed = _merged_credentials(account.provider, account.credentials, credentials, clear)
    url = _api_url(api_url)
    account.credentials = merged
    account.api_url = url
    account.is_active = is_active
    account.save(update_fields=["credentials", "api_url", "is_active"])
    record_change(
        dealer=account.dealer,
        by=by,
        what="phone_account_updated",
        subject=account.provider,
        # Which settings changed, never their values.
        detail={"settings": changed, "api_url": account.api_url, "is_active": is_active},
    )
    return account


def renew_push_key(*, account: PhoneAccount, by: Staff) -> PhoneAccount:
    """A new push address: the old one stops working at once (tell the provider the new one)."""
    check_configure(by, account.dealer)
    account.push_key = new_push_key()
    account.save(update_fields=["push_key"])
    record_change(
        dealer=account.dealer, by=by, what="phone_push_key_renewed", subject=account.provider
    )
    return account


def generate_push_secret(*, account: PhoneAccount, by: Staff, key: str) -> str:
    """Make up a new push token or signing secret, store it and return it: the only time it
    is seen (the provider must be given it now)."""
    check_configure(by, account.dealer)
    if key not in GENERATED or key not in secret_keys(account.provider):
        raise InvalidInput(
            _("%(provider)s does not use this setting.") % {"provider": account},
            code="unknown_setting",
        )
    value = secrets.token_urlsafe(32)
    account.credentials = {**account.credentials, key: value}
    account.save(update_fields=["credentials"])
    record_change(
        dealer=account.dealer,
        by=by,
        what="phone_push_secret_generated",
        subject=account.provider,
        detail={"settings": [key]},
    )
    return value


# ---------------------------------------------------------------- lines


def line_number(raw: str) -> str:
    """A line's number as digits (calls.matching.digits): 400 numbers, landlines with their
    area code, mobiles, platform numbers."""
    low, high = NUMBER_DIGITS_RANGE
    number = digits(raw or "") if NUMBER_PUNCTUATION.match(raw or "") else ""
    if not low <= len(number) <= high:
        raise InvalidInput(
            _("Enter the number as %(low)d to %(high)d digits, e.g. 4008001234 or 02161234567.")
            % {"low": low, "high": high},
            code="bad_number",
            field="number",
        )
    return number


def line_channels(dealer: Dealer, line: Line | None = None) -> QuerySet[Channel]:
    """The channels a line's calls may be attributed to: the dealer's active ones (and the
    line's own, should it have been switched off since)."""
    channels = Channel.objects.filter(dealer=dealer, is_active=True)
    if line is not None:
        channels = channels | Channel.objects.filter(pk=line.channel_id)
    return channels.order_by("group", "code")


@dataclass(frozen=True)
class _LineFields:
    number: str
    kind: str
    name: str
    channel: Channel
    callback_minutes: int


def _line_fields(
    dealer: Dealer,
    *,
    line: Line | None,
    number: str,
    kind: str,
    name: str,
    channel: Channel | None,
    callback_minutes: int,
) -> _LineFields:
    number = line_number(number)
    if kind not in LineKind.values:
        raise InvalidInput(_("Choose the kind of number."), code="bad_kind", field="kind")
    if channel is None or not line_channels(dealer, line).filter(pk=channel.pk).exists():
        raise InvalidInput(
            _("Choose one of the dealer's active channels."), code="bad_channel", field="channel"
        )
    same = Line.objects.filter(dealer=dealer, number=number)
    if line is not None:
        same = same.exclude(pk=line.pk)
    if same.exists():
        raise _number_taken(number)
    return _LineFields(
        number=number,
        kind=kind,
        name=_text(name, field="name"),
        channel=channel,
        callback_minutes=whole_number_in(
            callback_minutes, CALLBACK_MINUTES_RANGE, field="callback_minutes"
        ),
    )


def _number_taken(number: str) -> InvalidInput:
    return InvalidInput(
        _("This dealer already has the line %(number)s.") % {"number": number},
        code="number_taken",
        field="number",
    )


def create_line(
    *,
    dealer: Dealer,
    by: Staff,
    number: str,
    kind: str,
    channel: Channel | None,
    name: str = "",
    callback_minutes: int = 30,
    is_active: bool = True,
) -> Line:
    """A number of the dealer's that calls come in on or go out from; its calls count for
    `channel`."""
    check_configure(by, dealer)
    fields = _line_fields(
        dealer,
        line=None,
        number=number,
        kind=kind,
        name=name,
        channel=channel,
        callback_minutes=callback_minutes,
    )
    try:
        with transaction.atomic():
            line = Line.objects.create(
                dealer=dealer,
                number=fields.number,
                kind=fields.kind,
                name=fields.name,
                channel=fields.channel,
                callback_minutes=fields.callback_minutes,
                is_active=is_active,
            )
    except IntegrityError as error:
        raise _number_taken(fields.number) from error
    record_change(
        dealer=dealer,
        by=by,
        what="phone_line_created",
        subject=line.number,
        detail={"channel": fields.channel.code, "kind": fields.kind},
    )
    return line


def update_line(
    *,
    line: Line,
    by: Staff,
    number: str,
    kind: str,
    channel: Channel | None,
    name: str = "",
    callback_minutes: int = 30,
    is_active: bool = True,
) -> Line:
    """Change a line. Calls already taken keep the channel they were attributed to."""
    dealer = line.dealer
    check_configure(by, dealer)
    fields = _line_fields(
        dealer,
        line=line,
        number=number,
        kind=kind,
        name=name,
        channel=channel,
        callback_minutes=callback_minutes,
    )
    line.number = fields.number
    line.kind = fields.kind
    line.name = fields.name
    line.channel = fields.channel
    line.callback_minutes = fields.callback_minutes
    line.is_active = is_active
    try:
        with transaction.atomic():
            line.save(
                update_fields=[
                    "number",
                    "kind",
                    "name",
                    "channel",
                    "callback_minutes",
                    "is_active",
                ]
            )
    except IntegrityError as error:
        raise _number_taken(fields.number) from error
    record_change(
        dealer=dealer,
        by=by,
        what="phone_line_updated",
        subject=line.number,
        detail={
            "channel": fields.channel.code,
            "kind": fields.kind,
            "callback_minutes": fields.callback_minutes,
            "is_active": is_active,
        },
    )
    return line


# ---------------------------------------------------------------- seats


def seat_candidates(dealer: Dealer) -> QuerySet[Staff]:
    """The people of `dealer` who may sit at a seat (SEAT_ROLES), active."""
    return (
        Staff.objects.filter(
            memberships__dealer=dealer,
            memberships__role__in=SEAT_ROLES,
            memberships__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("display_name", "username")
    )


def add_seat(*, account: PhoneAccount, by: Staff, seat: str, staff: Staff | None) -> Seat:
    """Map the provider's seat id to the person who sits at it (a person may have several)."""
    dealer = account.dealer
    check_configure(by, dealer)
    seat_id = (seat or "").strip()
    if not seat_id or len(seat_id) > 64 or any(ch.isspace() for ch in seat_id):
        raise InvalidInput(
            _("Enter the provider's seat id (up to 64 characters, no spaces)."),
            code="bad_seat",
            field="seat",
        )
    if staff is None or not seat_candidates(dealer).filter(pk=staff.pk).exists():
        raise InvalidInput(
            _("Choose a DCC agent, DCC supervisor, consultant or owner-ops specialist here."),
            code="bad_person",
            field="staff",
        )
    taken = InvalidInput(
        _("The seat %(seat)s is already in this account.") % {"seat": seat_id},
        code="seat_taken",
        field="seat",
    )
    if Seat.objects.filter(account=account, seat=seat_id).exists():
        raise taken
    try:
        with transaction.atomic():
            row = Seat.objects.create(account=account, seat=seat_id, staff=staff)
    except IntegrityError as error:
        raise taken from error
    record_change(
        dealer=dealer,
        by=by,
        what="phone_seat_added",
        subject=f"{account.provider}/{seat_id}",
        detail={"staff": staff.username},
    )
    return row


def remove_seat(*, seat: Seat, by: Staff) -> None:
    """Nobody sits at the seat any more; its calls so far keep their agent."""
    account = seat.account
    check_configure(by, account.dealer)
    seat.delete()
    record_change(
        dealer=account.dealer,
        by=by,
        what="phone_seat_removed",
        subject=f"{account.provider}/{seat.seat}",
    )


# ---------------------------------------------------------------- blocked numbers


def block_number(*, dealer: Dealer, by: Staff, number: str, reason: str = "") -> BlockedNumber:
    """Calls from `number` are kept but never become leads or callbacks."""
    check_configure(by, dealer)
    low, high = NUMBER_DIGITS_RANGE
    raw = number or ""
    normalised = caller_number(raw) if NUMBER_PUNCTUATION.match(raw) else ""
    if not low <= len(normalised) <= high:
        raise InvalidInput(
            _("Enter the number as %(low)d to %(high)d digits, e.g. 13812345678.")
            % {"low": low, "high": high},
            code="bad_number",
            field="number",
        )
    reason = _text(reason, field="reason", max_length=TEXT_MAX_LENGTH)
    taken = InvalidInput(
        _("%(number)s is already blocked.") % {"number": normalised},
        code="number_taken",
        field="number",
    )
    if BlockedNumber.objects.filter(dealer=dealer, number=normalised).exists():
        raise taken
    try:
        with transaction.atomic():
            blocked = BlockedNumber.objects.create(
                dealer=dealer, number=normalised, reason=reason, created_by=by
            )
    except IntegrityError as error:
        raise taken from error
    record_change(
        dealer=dealer,
        by=by,
        what="phone_number_blocked",
        subject=normalised,
        detail={"reason": reason},
    )
    return blocked


def unblock_number(*, blocked: BlockedNumber, by: Staff) -> None:
    """Calls from the number may become leads again (those already taken stay as they are)."""
    check_configure(by, blocked.dealer)
    blocked.delete()
    record_change(
        dealer=blocked.dealer, by=by, what="phone_number_unblocked", subject=blocked.number
    )


# ---------------------------------------------------------------- call scripts


def _script_body(body: str) -> str:
    text = (body or "").strip().replace("\r\n", "\n")
    if not text:
        raise InvalidInput(_("Enter the script."), code="body_required", field="body")
    if len(text) > SCRIPT_BODY_MAX_LENGTH:
        raise InvalidInput(
            _("At most %(max)d characters.") % {"max": SCRIPT_BODY_MAX_LENGTH},
            code="body_too_long",
            field="body",
        )
    allowed = ", ".join(f"{{{name}}}" for name in SCRIPT_PLACEHOLDERS)
    try:
        names = [
            name for _text, name, _spec, _conv in string.Formatter().parse(text) if name is not None
        ]
    except ValueError:
        raise InvalidInput(
            _("A “{” or “}” is unmatched. Placeholders: %(allowed)s.") % {"allowed": allowed},
            code="bad_placeholder",
            field="body",
        ) from None
    unknown = sorted({name for name in names if name not in SCRIPT_PLACEHOLDERS})
    if unknown:
        raise InvalidInput(
            _("Unknown placeholder %(names)s. Placeholders: %(allowed)s.")
            % {"names": ", ".join(f"{{{name}}}" for name in unknown), "allowed": allowed},
            code="bad_placeholder",
            field="body",
        )
    return text


def edit_script(
    *,
    dealer: Dealer,
    by: Staff,
    purpose: str,
    title: str,
    body: str,
    stage: str = "",
    grade: str = "",
) -> Script | None:
    """A new version of the dealer's script for (purpose, stage, grade) through
    calls.scripts.save_script; the versions before are kept. None when nothing changed."""
    check_configure(by, dealer)
    if purpose not in ScriptPurpose.values:
        raise InvalidInput(_("Unknown purpose."), code="bad_purpose", field="purpose")
    if stage not in ("", *Stage.values):
        raise InvalidInput(_("Choose a stage."), code="bad_stage", field="stage")
    if grade not in ("", *Grade.values):
        raise InvalidInput(_("Choose a grade."), code="bad_grade", field="grade")
    title = _text(title, field="title", max_length=SCRIPT_TITLE_MAX_LENGTH)
    if not title:
        raise InvalidInput(_("Enter a title."), code="title_required", field="title")
    body = _script_body(body)
    current = Script.objects.filter(
        dealer=dealer, purpose=purpose, stage=stage, grade=grade, is_current=True
    ).first()
    if current is not None and (current.title, current.body) == (title, body):
        return None
    script = save_script(
        dealer,
        by=by,
        purpose=ScriptPurpose(purpose),
        title=title,
        body=body,
        stage=stage,
        grade=grade,
    )
    record_change(
        dealer=dealer,
        by=by,
        what="call_script_saved",
        subject="/".join(part for part in (purpose, stage, grade) if part),
        detail={"version": script.version, "title": title},
    )
    return script


# ---------------------------------------------------------------- retention


def set_retention_days(*, dealer: Dealer, by: Staff, days: int) -> PhoneSettings:
    """Keep recordings this many days (at least MIN_RETENTION_DAYS: consented follow-up calls
    must keep their recording that long); `dcc tick` deletes older copies."""
    check_configure(by, dealer)
    low, high = RETENTION_DAYS_RANGE
    if isinstance(days, bool) or not isinstance(days, int) or days < low:
        raise InvalidInput(
            _("Keep recordings at least %(days)d days.") % {"days": low},
            code="retention_too_short",
            field="recording_retention_days",
        )
    if days > high:
        raise InvalidInput(
            _("At most %(days)d days.") % {"days": high},
            code="retention_too_long",
            field="recording_retention_days",
        )
    phone_settings = PhoneSettings.of(dealer)
    if phone_settings.recording_retention_days != days:
        phone_settings.recording_retention_days = days
        phone_settings.save(update_fields=["recording_retention_days"])
        record_change(
            dealer=dealer,
            by=by,
            what="recording_retention_set",
            subject="phone",
            detail={"days": days},
        )
    return phone_settings
