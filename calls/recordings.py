"""Call recordings: fetched from the provider into our storage before its address expires
(Tencent keeps them three months), served through our server with the lead's access rules,
and purged after the dealer's retention period.

A recording's address comes from a push, so it is fetched only from the hosts its provider
serves recordings from (calls.providers … recording_hosts): a forged push cannot make the
server fetch an internal address."""

from __future__ import annotations

import logging
import mimetypes
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from calls.models import Call, PhoneAccount, PhoneSettings, Recording
from calls.providers import PROVIDERS

log = logging.getLogger(__name__)

MAX_BYTES = 50 * 1024 * 1024  # an hour of 8 kHz mono WAV is ~58 MB; MP3, a tenth of it
TIMEOUT_SECONDS = 20
CHUNK = 64 * 1024
AUDIO_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".ogg": "audio/ogg", ".m4a": "audio/mp4"}


class RecordingUnavailable(Exception):
    pass


def recording_hosts(call: Call) -> tuple[str, ...]:
    """Where `call`'s provider serves recordings from, as its adapter and the dealer's
    account say."""
    account = PhoneAccount.objects.filter(dealer_id=call.dealer_id, provider=call.provider).first()
    provider = PROVIDERS.get(call.provider)
    if account is None or provider is None:
        return ()
    return tuple(provider.recording_hosts(account.credentials))


def host_allowed(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether `url` is http(s) on one of `hosts` (".example.com": any host under it)."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        return False
    return any(
        host.endswith(allowed) if allowed.startswith(".") else host == allowed
        for allowed in (entry.lower() for entry in hosts)
        if allowed
    )


def stored_file(recording: Recording) -> Path | None:
    if not recording.path or recording.purged_at:
        return None
    path = Path(settings.DCC_RECORDING_DIR) / recording.path
    return path if path.is_file() else None


def fetch(recording: Recording, *, hosts: tuple[str, ...], now: datetime | None = None) -> Path:
    """Download the recording into our storage (once); the reason it could not be is kept on
    the recording and raised as RecordingUnavailable."""
    if (found := stored_file(recording)) is not None:
        return found
    if recording.purged_at:  # past the dealer's retention: gone for good, never fetched again
        raise RecordingUnavailable("purged")
    now = now or timezone.now()
    if not host_allowed(recording.url, hosts):
        return _failed(recording, "host not allowed")
    suffix = Path(urllib.parse.urlsplit(recording.url).path).suffix.lower()
    relative = Path(str(recording.call.dealer_id), f"{now:%Y/%m}", f"{recording.pk}{suffix}")
    target = Path(settings.DCC_RECORDING_DIR) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        request = urllib.request.Request(recording.url, headers={"User-Agent": "DCC"})
        with (
            _no_redirects().open(request, timeout=TIMEOUT_SECONDS) as answer,
            partial.open("wb") as out,
        ):
            content_type = answer.headers.get_content_type()
            size = 0
            while chunk := answer.read(CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise RecordingUnavailable("too large")
                out.write(chunk)
    except (OSError, urllib.error.URLError, RecordingUnavailable, ValueError) as error:
        partial.unlink(missing_ok=True)
        return _failed(recording, str(getattr(error, "reason", error))[:200] or "unreachable")
    partial.replace(target)
    recording.path, recording.size, recording.fetched_at = str(relative), size, now
    recording.content_type = (
        content_type
        if content_type.startswith("audio/")
        else AUDIO_TYPES.get(suffix) or mimetypes.guess_type(target.name)[0] or ""
    )
    recording.fetch_error = ""
    recording.save(update_fields=["path", "size", "fetched_at", "content_type", "fetch_error"])
    return target


def _failed(recording: Recording, reason: str):
    recording.fetch_error = reason
    recording.save(update_fields=["fetch_error"])
    log.warning("recording %s not fetched: %s", recording.pk, reason)
    raise RecordingUnavailable(reason)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could lead anywhere, past the host check: refuse it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.URLError(f"redirected ({code})")


def _no_redirects() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirect)


def purge_expired(now: datetime | None = None) -> int:
    """Delete our copies of recordings older than their dealer's retention period (the call
    record stays, saying the recording was purged). Returns how many were purged."""
    now = now or timezone.now()
    kept_days = dict(PhoneSettings.objects.values_list("dealer_id", "recording_retention_days"))
    default = PhoneSettings._meta.get_field("recording_retention_days").default
    purged = 0
    dealers = Recording.objects.filter(purged_at__isnull=True).values_list("call__dealer_id")
    for dealer_id in {row[0] for row in dealers.distinct()}:
        cutoff = now - timedelta(days=kept_days.get(dealer_id, default))
        old = Recording.objects.filter(
            call__dealer_id=dealer_id, call__rang_at__lt=cutoff, purged_at__isnull=True
        )
        for path in old.exclude(path="").values_list("path", flat=True):
            (Path(settings.DCC_RECORDING_DIR) / path).unlink(missing_ok=True)
        purged += old.update(purged_at=now, path="")
    return purged
