"""What every adapter shares: reading a push defensively (every fault a PayloadError naming
its field), checking a push's credentials, and calling a provider's HTTP API.

Pure functions: no models, no database. Messages are translated with gettext; none of them
quotes a secret, a signature or a URL with credentials in it."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from calls.report import PayloadError

MAX_BODY = 1024 * 1024  # one push; a batch of CDRs stays far below
MAX_TEXT = 2048  # any one string field (a recording URL, a reference)
MAX_ITEMS = 500  # reports in one push
MAX_SECONDS = 7 * 24 * 3600  # no call lasts a week: a duration above is a fault
MAX_RESPONSE = 8 * 1024 * 1024  # what a provider's API may answer
CHINA = ZoneInfo("Asia/Shanghai")  # the vendors' local time, for times sent without a zone
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class BadCredentials(Exception):
    """A push whose signature, token or basic auth is missing or wrong (answered with 401)."""


class ProviderError(Exception):
    """A provider's API could not be called or refused the call; the message says why, in
    words a dealer can act on, and never holds a secret."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------------------
# Reading a push


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def load_json(body: bytes) -> Any:
    if len(body) > MAX_BODY:
        raise PayloadError(_("The push is too large."), field="body")
    try:
        text = body.decode("utf-8-sig")
        return json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise PayloadError(_("The push is not valid JSON."), field="body") from error


def load_form(body: bytes) -> dict[str, str]:
    if len(body) > MAX_BODY:
        raise PayloadError(_("The push is too large."), field="body")
    try:
        text = body.decode("utf-8-sig")
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=500)
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError(_("The push is not a valid form."), field="body") from error
    return dict(pairs)


def load_body(body: bytes, content_type: str) -> Any:
    """JSON or form-encoded, as the content type says; a push with no useful content type is
    read as JSON when it looks like JSON, else as a form."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind.endswith("json"):
        return load_json(body)
    if kind == "application/x-www-form-urlencoded":
        return load_form(body)
    if body.lstrip()[:1] in (b"{", b"["):
        return load_json(body)
    return load_form(body)


def items_of(payload: Any, *, list_keys: Iterable[str] = ()) -> list[Fields]:
    """A push as a list of objects: one object, an array of them (a batch), or an object that
    holds the array under one of `list_keys`."""
    if isinstance(payload, dict):
        folded = {str(k).lower(): v for k, v in payload.items()}
        for key in list_keys:
            if isinstance(folded.get(key.lower()), list):
                payload = folded[key.lower()]
                break
    if isinstance(payload, dict):
        return [Fields(payload)]
    if isinstance(payload, list):
        if len(payload) > MAX_ITEMS:
            raise PayloadError(_("The push holds too many calls."), field="body")
        if not all(isinstance(item, dict) for item in payload):
            raise PayloadError(_("Each call in the push must be an object."), field="body")
        return [Fields(item) for item in payload]
    raise PayloadError(_("The push must be an object or a list of objects."), field="body")


def invalid(field: str) -> PayloadError:
    return PayloadError(_("%(field)s has an invalid value.") % {"field": field}, field=field)


class Fields:
    """One object of a push, read by field name whatever its case (vendors and their
    versions disagree: SessionId, sessionId, sessionid), every value checked on the way out."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self.data = dict(data)
        self.prefix = prefix
        self._folded: dict[str, tuple[str, Any]] = {}
        for key, value in self.data.items():
            self._folded.setdefault(str(key).lower(), (str(key), value))

    def _get(self, names: tuple[str, ...]) -> tuple[str, Any]:
        for name in names:
            found = self._folded.get(name.lower())
            if found is not None and found[1] is not None and found[1] != "":
                return self.prefix + found[0], found[1]
        return self.prefix + names[0], None

    def has(self, *names: str) -> bool:
        return self._get(names)[1] is not None

    def text(self, *names: str, required: bool = False, max_length: int = MAX_TEXT) -> str:
        field, value = self._get(names)
        if value is None:
            if required:
                raise PayloadError(_("%(field)s is missing.") % {"field": field}, field=field)
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise invalid(field)
        if isinstance(value, float):
            if not math.isfinite(value) or value != int(value):
                raise invalid(field)
            value = int(value)
        text = str(value).strip()
        if "\x00" in text:  # no database keeps it (PostgreSQL refuses it in text)
            raise PayloadError(
                _("%(field)s contains a NUL character.") % {"field": field}, field=field
            )
        if len(text) > max_length:
            raise PayloadError(_("%(field)s is too long.") % {"field": field}, field=field)
        if required and not text:
            raise PayloadError(_("%(field)s is missing.") % {"field": field}, field=field)
        return text

    def integer(self, *names: str) -> int | None:
        field, value = self._get(names)
        if value is None:
            return None
        if isinstance(value, bool):
            raise invalid(field)
        if isinstance(value, float):
            if not math.isfinite(value) or value != int(value):
                raise invalid(field)
            value = int(value)
        if isinstance(value, str):
            value = value.strip()
            if len(value) > 20:
                raise invalid(field)
            try:
                value = int(value)
            except ValueError:
                raise invalid(field) from None
        if not isinstance(value, int) or abs(value) > 10**15:
            raise invalid(field)
        return value

    def seconds(self, *names: str) -> int | None:
        """A duration in whole seconds: negative or over a week is a fault."""
        field, _value = self._get(names)
        value = self.integer(*names)
        if value is None:
            return None
        check_seconds(value, field)
        return value

    def time(self, *names: str, tz: tzinfo = CHINA) -> datetime | None:
        """A point in time: Unix seconds or milliseconds (a number or a string of digits),
        or ISO 8601 / 'YYYY-MM-DD HH:MM:SS' (in `tz` when it names no zone). 0 or empty:
        not (yet) happened."""
        field, value = self._get(names)
        if value is None:
            return None
        return parse_time(value, field, tz=tz)

    def obj(self, *names: str) -> Fields | None:
        field, value = self._get(names)
        if value is None:
            return None
        if isinstance(value, str):  # some vendors send nested objects as JSON strings
            try:
                value = json.loads(value, parse_constant=_reject_constant)
            except (ValueError, RecursionError):
                raise invalid(field) from None
        if not isinstance(value, dict):
            raise invalid(field)
        return Fields(value, prefix=f"{field}.")

    def texts(self, *names: str) -> tuple[str, ...]:
        """A list of strings, or one string of comma-separated values."""
        field, value = self._get(names)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [part for part in value.split(",")]
        if not isinstance(value, list) or len(value) > 100:
            raise invalid(field)
        out = []
        for item in value:
            if not isinstance(item, str) or len(item) > MAX_TEXT:
                raise invalid(field)
            if item.strip():
                out.append(item.strip())
        return tuple(out)


def check_seconds(value: int, field: str) -> int:
    if value < 0:
        raise PayloadError(_("%(field)s cannot be negative.") % {"field": field}, field=field)
    if value > MAX_SECONDS:
        raise PayloadError(_("%(field)s is too long.") % {"field": field}, field=field)
    return value


def parse_time(value: Any, field: str, *, tz: tzinfo = CHINA) -> datetime | None:
    if isinstance(value, bool):
        raise invalid(field)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=tz)
    elif isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().replace(".", "", 1).isdigit()
    ):
        try:
            number = float(value)
        except (ValueError, OverflowError):
            raise invalid(field) from None
        if not math.isfinite(number) or number < 0:
            raise invalid(field)
        if number == 0:
            return None
        if number >= 1e11:  # milliseconds
            number /= 1000
        if number > 4102444800:  # past 2100
            raise invalid(field)
        moment = datetime.fromtimestamp(number, tz=UTC)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("0000-00-00"):
            return None
        if len(text) > 40:
            raise invalid(field)
        try:
            moment = datetime.fromisoformat(text.replace("/", "-"))
        except ValueError:
            raise PayloadError(
                _("%(field)s is not a time.") % {"field": field}, field=field
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
    else:
        raise invalid(field)
    if not EARLIEST <= moment <= LATEST:
        raise invalid(field)
    return moment


def span(start: datetime | None, end: datetime | None, field: str) -> int | None:
    """Whole seconds from start to end; None when either is unknown; an end before its start
    is a fault of the field that holds the end."""
    if start is None or end is None:
        return None
    seconds = int((end - start).total_seconds())
    if seconds < 0:
        raise PayloadError(
            _("%(field)s is before the call started.") % {"field": field}, field=field
        )
    return check_seconds(seconds, field)


def url_list(*candidates: str) -> tuple[str, ...]:
    """The http(s) URLs among `candidates`, each once, in order."""
    out: list[str] = []
    for candidate in candidates:
        if candidate.lower().startswith(("http://", "https://")) and candidate not in out:
            out.append(candidate)
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Authenticating a push


def header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def check_shared_secret(
    headers: Mapping[str, str], query: Mapping[str, str], credentials: Mapping[str, str]
) -> None:
    """The push authentication a dealer configures where the vendor signs nothing: basic
    auth (`push_username`, `push_password`) and/or a shared token (`push_token`) sent as
    `?token=…`, an `X-DCC-Token` header or `Authorization: Bearer …`. Every one configured
    must match; a provider with none configured accepts nothing."""
    username = credentials.get("push_username", "")
    password = credentials.get("push_password", "")
    token = credentials.get("push_token", "")
    if not (password or token):
        raise BadCredentials("no push credentials are configured")
    authorization = header(headers, "Authorization")
    if password:
        scheme, _sep, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            raise BadCredentials("basic auth expected")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise BadCredentials("malformed basic auth") from None
        given_user, _sep, given_password = decoded.partition(":")
        user_ok = same(given_user, username)
        password_ok = same(given_password, password)
        if not (user_ok and password_ok):
            raise BadCredentials("wrong username or password")
    if token:
        given = query.get("token", "") or header(headers, "X-DCC-Token")
        if not given and authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
        if not same(given, token):
            raise BadCredentials("wrong token")


def authenticate_by_shared_secret(
    headers: Mapping[str, str],
    body: bytes,
    query: Mapping[str, str],
    credentials: Mapping[str, str],
) -> None:
    """`authenticate` of a vendor whose pushes carry no signature: the dealer's basic auth
    and/or token (check_shared_secret)."""
    check_shared_secret(headers, query, credentials)


def extra_hosts(credentials: Mapping[str, str]) -> tuple[str, ...]:
    """Hosts the dealer adds (`recording_hosts`, comma-separated): its own storage bucket."""
    raw = credentials.get("recording_hosts", "")
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


def json_ack(status: int, payload: Mapping[str, Any]) -> tuple[int, bytes, str]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return status, body, "application/json; charset=utf-8"


# ---------------------------------------------------------------------------------------------
# Calling a provider's API


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self, vendor: str) -> Any:
        try:
            return json.loads(self.body.decode("utf-8-sig"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ProviderError(
                _("%(vendor)s answered something that is not JSON (HTTP %(status)s).")
                % {"vendor": vendor, "status": self.status}
            ) from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # an API that redirects is answered as the error it is


_OPENER = urllib.request.build_opener(_NoRedirect)


def http(
    vendor: str,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float,
) -> Answer:
    """One HTTP request with the standard library; any HTTP status is returned, only a
    transport failure raises (a ProviderError that names the vendor, not the URL)."""
    if not url.lower().startswith(("http://", "https://")):
        raise ProviderError(
            _("The %(vendor)s API address must start with https://.") % {"vendor": vendor}
        )
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Answer(response.status, response.read(MAX_RESPONSE))
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, error.read(MAX_RESPONSE))
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        kind = "timeout" if isinstance(reason, TimeoutError) else type(reason).__name__
        raise ProviderError(
            _("%(vendor)s could not be reached (%(reason)s).") % {"vendor": vendor, "reason": kind}
        ) from None


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def api_base(base_url: str, vendor: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProviderError(
            _("The %(vendor)s API address must start with https://.") % {"vendor": vendor}
        )
    return parts


def need(credentials: Mapping[str, str], vendor: str, *keys: str) -> list[str]:
    missing = [key for key in keys if not credentials.get(key)]
    if missing:
        raise ProviderError(
            _("The %(vendor)s settings lack: %(keys)s.")
            % {"vendor": vendor, "keys": ", ".join(missing)}
        )
    return [credentials[key] for key in keys]
