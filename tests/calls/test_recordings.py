"""Recordings: fetched only from the provider's hosts, played with the lead's access rules,
every play in the ledger, purged after the dealer's retention period."""

from __future__ import annotations

import io
import threading
import wave
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from calls import actions, recordings
from calls.models import PhoneSettings, Recording
from calls.report import CallReport, Direction, Phase
from leads.models import Event, EventKind
from tests.calls.reports import CALLER, answered
from tests.factories import make_lead
from tests.kit import login


def tone() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x10" * 800)
    return out.getvalue()


@pytest.fixture
def storage(settings, tmp_path):
    settings.DCC_RECORDING_DIR = tmp_path / "recordings"
    return settings.DCC_RECORDING_DIR


@pytest.fixture
def audio_host():
    """A provider's recording storage on 127.0.0.1, counting what it was asked."""
    asked: list[str] = []
    body = tone()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked, body
    server.shutdown()


def recorded_call(team, account, url: str, *, hosts: str = "127.0.0.1"):
    account.credentials = {"recording_hosts": hosts}
    account.save()
    lead = make_lead(team.dealer, phone=CALLER)
    actions.receive(account, answered("REC1"))
    actions.receive(
        account,
        CallReport(
            provider="generic",
            call_id="REC1",
            phase=Phase.RECORDING,
            direction=Direction.INBOUND,
            recording_urls=(url,),
            raw={"recording": url},
        ),
    )
    return lead, Recording.objects.get()


def test_a_recording_plays_for_who_sees_the_lead_and_each_play_is_in_the_ledger(
    team, account, storage, audio_host
):
    base, asked, body = audio_host
    lead, recording = recorded_call(team, account, f"{base}/rec/REC1.wav")
    supervisor = login(team.dcc_supervisor)
    page = supervisor.get(f"/leads/{lead.pk}/").content.decode()
    assert f"/leads/{lead.pk}/recordings/" in page
    players = supervisor.get(f"/leads/{lead.pk}/recordings/").content.decode()
    assert f"/calls/recordings/{recording.pk}/" in players
    played = supervisor.get(f"/calls/recordings/{recording.pk}/")
    assert played.status_code == 200
    assert played["Content-Type"] == "audio/wav"
    assert b"".join(played.streaming_content) == body
    supervisor.get(f"/calls/recordings/{recording.pk}/", headers={"Range": "bytes=0-"})
    supervisor.get(f"/calls/recordings/{recording.pk}/", headers={"Range": "bytes=4000-"})
    plays = Event.objects.filter(lead=lead, kind=EventKind.RECORDING_PLAYED)
    assert plays.count() == 2  # two plays; the seek within the second is not a third
    assert plays.first().actor_id == team.dcc_supervisor.pk
    assert asked == ["/rec/REC1.wav"]  # fetched once, then served from our copy


def test_others_cannot_listen(team, other_team, account, storage, audio_host):
    base, _asked, _body = audio_host
    _lead, recording = recorded_call(team, account, f"{base}/rec/REC1.wav")
    for stranger in (other_team.dcc_supervisor, team.headquarters):
        assert login(stranger).get(f"/calls/recordings/{recording.pk}/").status_code in (403, 404)
    assert not Event.objects.filter(kind=EventKind.RECORDING_PLAYED).exists()


def test_a_recording_on_a_host_the_provider_does_not_use_is_never_fetched(
    team, account, storage, audio_host
):
    base, asked, _body = audio_host
    _lead, recording = recorded_call(team, account, f"{base}/rec/REC1.wav", hosts="cos.example")
    answer = login(team.dcc_supervisor).get(f"/calls/recordings/{recording.pk}/")
    assert answer.status_code == 404
    assert asked == []
    recording.refresh_from_db()
    assert recording.fetch_error == "host not allowed"


@pytest.mark.parametrize(
    ("url", "hosts", "allowed"),
    [
        ("https://a.cos.ap-shanghai.myqcloud.com/r.mp3", (".myqcloud.com",), True),
        ("https://myqcloud.com.evil.test/r.mp3", (".myqcloud.com",), False),
        ("https://user:pw@rec.example/r.mp3", ("rec.example",), False),
        ("file:///etc/passwd", ("",), False),
        ("http://169.254.169.254/latest", ("rec.example",), False),
    ],
)
def test_the_host_check(url, hosts, allowed):
    assert recordings.host_allowed(url, hosts) is allowed


def test_recordings_are_purged_after_the_retention_period(team, account, storage, audio_host):
    base, _asked, _body = audio_host
    _lead, recording = recorded_call(team, account, f"{base}/rec/REC1.wav")
    path = recordings.fetch(recording, hosts=("127.0.0.1",))
    PhoneSettings.objects.create(dealer=team.dealer, recording_retention_days=30)
    assert recordings.purge_expired(timezone.now() + timedelta(days=29)) == 0
    assert recordings.purge_expired(timezone.now() + timedelta(days=31)) == 1
    assert not path.exists()
    recording.refresh_from_db()
    assert recording.purged_at is not None
    assert login(team.dcc_supervisor).get(f"/calls/recordings/{recording.pk}/").status_code == 404
