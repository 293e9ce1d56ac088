"""A phone system for the demo: a realistic day of a dealer's calls, pushed through the real
push address, signed, in the DCC JSON format, as a provider would push them.

The day: inbound calls on the 400 line and the platforms' numbers through opening hours,
more of them missed at lunch and after 18:00; morning callbacks of the numbers missed
before; outbound follow-ups to the leads due (leads still new are left for the demo's
visitors to call); some inbound calls missed at one seat and taken at another
(transferred); a recording for every answered call, a short generated tone, stored as if
fetched (the demo has no provider to fetch from)."""

from __future__ import annotations

import io
import json
import math
import random
import wave
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import Dealer, Staff
from accounts.roles import Role
from calls.models import Callback, Line, LineKind, PhoneAccount, Provider, Recording, Seat
from calls.providers.generic import SIGNATURE_HEADER, signature
from leads.models import Channel, ChannelGroup, Customer, Lead
from leads.stages import OPEN_STAGES, Stage

DEMO_HOTLINE = "4008{:06d}"
RECORDING_HOST = "recordings.demo.invalid"


@dataclass
class DayPlayed:
    pushes: int = 0
    inbound: int = 0
    missed: int = 0
    outbound: int = 0


def set_up_demo_phone(dealer: Dealer) -> PhoneAccount:
    """A generic phone account for the dealer, a seat per DCC agent and supervisor, the 400
    line on the hotline channel and a virtual number per vertical platform (idempotent)."""
    account, _ = PhoneAccount.objects.get_or_create(
        dealer=dealer,
        provider=Provider.GENERIC,
        defaults={
            "credentials": {
                "push_secret": f"demo-push-secret-{dealer.code}-0123456789",
                "recording_hosts": RECORDING_HOST,
            }
        },
    )
    agents = Staff.objects.filter(
        memberships__dealer=dealer,
        memberships__role__in=[Role.DCC_AGENT, Role.DCC_SUPERVISOR],
        memberships__is_active=True,
    ).distinct()
    for number, person in enumerate(agents.order_by("pk"), start=8001):
        Seat.objects.get_or_create(account=account, staff=person, defaults={"seat": str(number)})
    hotline = Channel.objects.filter(dealer=dealer, group=ChannelGroup.PHONE).order_by("pk")
    if hotline.exists():
        Line.objects.get_or_create(
            dealer=dealer,
            number=DEMO_HOTLINE.format(dealer.pk),
            defaults={"kind": LineKind.HOTLINE_400, "channel": hotline.first(), "name": "400"},
        )
    platforms = Channel.objects.filter(dealer=dealer, group=ChannelGroup.VERTICAL).order_by("pk")
    for index, channel in enumerate(platforms[:3]):
        Line.objects.get_or_create(
            dealer=dealer,
            number=f"021{dealer.pk:04d}{index:04d}",
            defaults={"kind": LineKind.PLATFORM, "channel": channel, "name": channel.name},
        )
    return account


def tone(seconds: float = 1.5, pitch: float = 440.0) -> bytes:
    """A short WAV (8 kHz mono), so that the demo's player plays something."""
    rate = 8000
    frames = bytearray()
    for i in range(int(rate * seconds)):
        fade = min(1.0, i / 400, (rate * seconds - i) / 400)
        sample = int(9000 * fade * math.sin(2 * math.pi * pitch * i / rate))
        frames += sample.to_bytes(2, "little", signed=True)
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(bytes(frames))
    return out.getvalue()


def http_sender(account: PhoneAccount, *, url: str = "") -> Callable[[dict], int]:
    """Push one JSON report to `account`'s push address, signed: in process (the Django test
    client), or to a running server at `url`."""
    secret = account.credentials.get("push_secret", "")
    path = f"/phone/push/{account.push_key}/"
    # In process: as a request to this server's own name (the first it answers to).
    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost")
    client = Client(HTTP_HOST=host)

    def send(payload: dict) -> int:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {SIGNATURE_HEADER: signature(secret, body), "Content-Type": "application/json"}
        if url:
            import urllib.request

            request = urllib.request.Request(url.rstrip("/") + path, body, headers, method="POST")
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        answer = client.post(path, body, content_type="application/json", headers=headers)
        return answer.status_code

    return send


def play_day(
    account: PhoneAccount,
    day: date,
    *,
    seed: int = 2026,
    inbound: int = 24,
    send: Callable[[dict], int] | None = None,
    now: datetime | None = None,
) -> DayPlayed:
    """Push a day of calls (only those that ended before `now`)."""
    rng = random.Random(f"{seed}-{account.dealer_id}-{day.isoformat()}")
    send = send or http_sender(account)
    now = now or timezone.now()
    dealer = account.dealer
    zone = timezone.get_current_timezone()
    seats = list(Seat.objects.filter(account=account).select_related("staff"))
    lines = list(Line.objects.filter(dealer=dealer, is_active=True))
    if not seats or not lines:
        return DayPlayed()
    seat_of = {seat.staff_id: seat.seat for seat in seats}
    # Leads still new are the demo's work left for its visitors: the phone leaves them alone.
    fresh = Lead.objects.filter(dealer=dealer, stage=Stage.NEW).values("customer_id")
    known = list(
        Customer.objects.filter(dealer=dealer)
        .exclude(pk__in=fresh)
        .values_list("phone", flat=True)[:400]
    )
    played = DayPlayed()
    audio = tone()

    def at(minutes: float) -> datetime:
        return datetime.combine(day, time(8, 30), tzinfo=zone) + timedelta(minutes=minutes)

    def push(report: dict) -> None:
        if datetime.fromisoformat(report["ended_at"]) > now:
            return
        if send(report) == 200:
            played.pushes += 1
            if report.get("recording_urls"):
                _store_demo_audio(account, report["call_id"], audio)

    for n in range(inbound):
        start = at(rng.uniform(0, 12 * 60))  # 08:30–20:30
        local = start.astimezone(zone).time()
        busy_hour = time(12) <= local < time(13, 30) or local >= time(18)
        number = rng.choice(known) if known and rng.random() < 0.55 else _mobile(rng)
        line = rng.choice(lines)
        call_id = f"demo-{day:%Y%m%d}-{account.dealer_id}-in{n}"
        wait = rng.randrange(3, 45)
        base = {
            "call_id": call_id,
            "phase": "ended",
            "direction": "inbound",
            "line_number": line.number,
            "customer_number": number,
            "rang_at": start.isoformat(),
        }
        played.inbound += 1
        if rng.random() < (0.55 if busy_hour else 0.1):
            played.missed += 1
            push(
                base
                | {
                    "ended_at": (start + timedelta(seconds=wait)).isoformat(),
                    "wait_seconds": wait,
                    "disposition": "out_of_hours" if local >= time(18) else "missed_in_queue",
                }
            )
            continue
        seat = rng.choice(seats)
        if rng.random() < 0.08:  # rang at one seat, nobody took it, transferred to another
            push(
                base
                | {
                    "seat": seat.seat,
                    "ended_at": (start + timedelta(seconds=wait)).isoformat(),
                    "disposition": "missed_ringing",
                }
            )
            seat = rng.choice(seats)
        talk = rng.randrange(30, 420)
        answered = start + timedelta(seconds=wait)
        push(
            base
            | {
                "seat": seat.seat,
                "answered_at": answered.isoformat(),
                "ended_at": (answered + timedelta(seconds=talk)).isoformat(),
                "disposition": "answered",
                "hung_up_by": rng.choice(["customer", "agent"]),
                "recording_urls": [f"https://{RECORDING_HOST}/{call_id}.wav"],
            }
        )

    # Callbacks: most numbers missed before today are called back in the morning.
    waiting = Callback.objects.filter(
        dealer=dealer, closed_at__isnull=True, last_missed_at__lt=at(0)
    ).order_by("pk")
    for n, callback in enumerate(waiting):
        if rng.random() < 0.2:
            continue
        start = at(rng.uniform(30, 150))
        answered = start + timedelta(seconds=rng.randrange(5, 20))
        reached = rng.random() < 0.75
        call_id = f"demo-{day:%Y%m%d}-{account.dealer_id}-back{n}"
        push(
            {
                "call_id": call_id,
                "phase": "ended",
                "direction": "outbound",
                "line_number": lines[0].number,
                "customer_number": callback.number,
                "seat": rng.choice(seats).seat,
                "rang_at": start.isoformat(),
                "ended_at": (answered + timedelta(seconds=rng.randrange(40, 300))).isoformat(),
            }
            | (
                {"answered_at": answered.isoformat(), "disposition": "answered"}
                if reached
                else {"disposition": "no_answer"}
            )
        )

    # Outbound: the day's follow-ups, by the lead's owner where they have a seat.
    due = (
        Lead.objects.filter(dealer=dealer, stage__in=OPEN_STAGES, owner_id__in=seat_of)
        .exclude(stage=Stage.NEW)
        .filter(next_follow_up_at__date=day)
        .select_related("customer")
        .order_by("pk")[:30]
    )
    for n, lead in enumerate(due):
        start = at(rng.uniform(30, 9 * 60))
        reached = rng.random() < 0.6
        call_id = f"demo-{day:%Y%m%d}-{account.dealer_id}-out{n}"
        base = {
            "call_id": call_id,
            "phase": "ended",
            "direction": "outbound",
            "line_number": lines[0].number,
            "customer_number": lead.customer.phone,
            "seat": seat_of[lead.owner_id],
            "rang_at": start.isoformat(),
        }
        played.outbound += 1
        if not reached:
            push(
                base
                | {
                    "ended_at": (start + timedelta(seconds=rng.randrange(15, 40))).isoformat(),
                    "disposition": rng.choice(["no_answer", "busy", "rejected"]),
                }
            )
            continue
        answered = start + timedelta(seconds=rng.randrange(5, 20))
        push(
            base
            | {
                "answered_at": answered.isoformat(),
                "ended_at": (answered + timedelta(seconds=rng.randrange(40, 500))).isoformat(),
                "disposition": "answered",
                "hung_up_by": "agent",
                "recording_urls": [f"https://{RECORDING_HOST}/{call_id}.wav"],
            }
        )
    return played


def _store_demo_audio(account: PhoneAccount, call_id: str, audio: bytes) -> None:
    """The demo's recordings, stored as if fetched from the provider."""
    recording = Recording.objects.filter(
        call__dealer_id=account.dealer_id, call__provider=account.provider, call__call_id=call_id
    ).first()
    if recording is None or recording.path:
        return
    relative = Path(str(account.dealer_id), "demo", f"{recording.pk}.wav")
    target = Path(settings.DCC_RECORDING_DIR) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(audio)
    recording.path, recording.size, recording.content_type = str(relative), len(audio), "audio/wav"
    recording.fetched_at = timezone.now()
    recording.save(update_fields=["path", "size", "content_type", "fetched_at"])


def _mobile(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "186", "177"]) + f"{rng.randrange(10**8):08d}"
