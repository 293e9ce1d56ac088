"""The call center in a real browser, in Chinese: a ringing call pops the caller's lead on the
agent's page without a reload; an unknown caller is captured into a lead from the panel; the
call button rings through the provider (a fake Clink on 127.0.0.1) and the call comes back
matched; a recording plays in the lead's timeline and the play is in its ledger; a missed
call waits on the DCC board as a callback until a reached call to the number closes it."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from django.test import Client

from calls import actions
from calls.models import Call, Callback, PhoneAccount, Recording, Seat
from calls.report import CallReport, Direction, Phase
from calls.simulation import tone
from kpi import views as kpi_views
from leads.models import Event, EventKind, Lead
from tests.calls.reports import CALLER, HOTLINE, answered, missed, phone_account, ringing
from tests.calls.test_dial import serving_fake_clink
from tests.factories import make_lead

pytestmark = pytest.mark.browser


@pytest.fixture
def account(team) -> PhoneAccount:
    return phone_account(team)


@pytest.fixture
def fake_clink():
    with serving_fake_clink() as served:
        yield served


def test_a_ringing_call_pops_the_callers_lead_then_ends(open_session, team, account):
    lead = make_lead(team.dealer, phone=CALLER, name="王女士", car_model="星途 S7")
    agent = open_session(team.dcc_agent, language="zh-hans")
    agent.goto("/queue/")
    agent.page.get_by_text("我的待办").first.wait_for()
    actions.receive(account, ringing("B1"))
    panel = agent.page.locator("#call-panel")
    panel.get_by_text("王女士").wait_for(timeout=5000)
    assert "来电" in panel.inner_text() and "振铃" in panel.inner_text()
    assert "星途 S7" in panel.inner_text()
    assert panel.get_by_role("link", name="打开线索").get_attribute("href") == f"/leads/{lead.pk}/"
    agent.screenshot("call-pop-zh-hans")
    actions.receive(account, answered("B1"))
    panel.get_by_text("已结束").wait_for(timeout=6000)
    assert Event.objects.filter(lead=lead, kind=EventKind.CALLED).count() == 1


def test_an_unknown_caller_is_captured_into_a_lead(open_session, team, account):
    agent = open_session(team.dcc_agent, language="zh-hans")
    agent.goto("/queue/")
    actions.receive(account, ringing("B2", number="13566667777"))
    panel = agent.page.locator("#call-panel")
    panel.get_by_text("未知来电").wait_for(timeout=5000)
    panel.get_by_label("姓名").fill("钱先生")
    panel.get_by_label("意向车型").fill("星途 EV3")
    panel.get_by_label("级别").select_option("A")
    agent.screenshot("call-capture-zh-hans")
    panel.get_by_role("button", name="创建线索").click()
    panel.get_by_text("已留资").wait_for()
    lead = Lead.objects.get(customer__phone="13566667777")
    assert (lead.customer.name, lead.car_model, lead.grade) == ("钱先生", "星途 EV3", "A")
    assert lead.owner_id == team.dcc_agent.pk
    assert Call.objects.get(call_id="B2").captured


def test_the_call_button_rings_through_the_provider_and_comes_back_matched(
    open_session, team, fake_clink
):
    base, seen, _state = fake_clink
    clink = PhoneAccount.objects.create(
        dealer=team.dealer,
        provider="clink",
        api_url=base,
        credentials={"access_key_id": "AK", "access_key_secret": "S", "push_token": "t" * 24},
    )
    Seat.objects.create(account=clink, seat="0001", staff=team.dcc_agent)
    lead = make_lead(team.dealer, phone=CALLER, owner=team.dcc_agent, name="孙女士")
    agent = open_session(team.dcc_agent, language="zh-hans")
    agent.goto("/queue/")
    agent.page.get_by_test_id("dial").first.click()
    agent.page.get_by_text("正在呼叫").wait_for()
    agent.page.locator("#call-panel").get_by_text("孙女士").wait_for(timeout=5000)
    reference = seen[0]["body"]["requestUniqueId"]
    push = {
        "mainUniqueId": "clink-B3",
        "cdrType": "cdr_ob_agent",
        "cno": "0001",
        "customerNumber": CALLER,
        "clid": HOTLINE,
        "startTime": "1763431200",
        "answerTime": "1763431210",
        "endTime": "1763431300",
        "status": "33",
        "requestUniqueId": reference,
    }
    answer = Client(HTTP_HOST="127.0.0.1").post(
        f"/phone/push/{clink.push_key}/?token={'t' * 24}",
        json.dumps(push),
        content_type="application/json",
    )
    assert answer.status_code == 200
    call = Call.objects.get()
    assert (call.call_id, call.lead_id, call.disposition) == ("clink-B3", lead.pk, "answered")


def test_a_recording_plays_in_the_timeline_and_the_play_is_recorded(
    open_session, team, account, settings, tmp_path
):
    settings.DCC_RECORDING_DIR = tmp_path
    lead = make_lead(team.dealer, phone=CALLER, name="周先生")
    actions.receive(account, answered("B4"))
    actions.receive(
        account,
        CallReport(
            provider="generic",
            call_id="B4",
            phase=Phase.RECORDING,
            direction=Direction.INBOUND,
            recording_urls=("https://rec.example/B4.wav",),
            raw={"rec": "B4"},
        ),
    )
    recording = Recording.objects.get()
    (tmp_path / "b4.wav").write_bytes(tone(seconds=2))
    Recording.objects.filter(pk=recording.pk).update(path="b4.wav", content_type="audio/wav")
    supervisor = open_session(team.dcc_supervisor, language="zh-hans")
    supervisor.goto(f"/leads/{lead.pk}/")
    player = supervisor.page.locator("audio.dcc-recording")
    player.wait_for()
    supervisor.page.evaluate("document.querySelector('audio.dcc-recording').play()")
    # Polled from here: wait_for_function evaluates its text in the page, which the Content
    # Security Policy (no 'unsafe-eval') refuses whenever the first look is not already true.
    played = "document.querySelector('audio.dcc-recording').currentTime > 0"
    deadline = time.monotonic() + 5
    while not supervisor.page.evaluate(played) and time.monotonic() < deadline:
        supervisor.page.wait_for_timeout(100)
    assert supervisor.page.evaluate(played)
    supervisor.screenshot("call-recording-zh-hans")
    played = Event.objects.filter(lead=lead, kind=EventKind.RECORDING_PLAYED)
    assert played.count() >= 1 and played.first().actor_id == team.dcc_supervisor.pk
    supervisor.goto(f"/leads/{lead.pk}/")
    supervisor.page.get_by_text("播放了通话录音").first.wait_for()


def test_a_missed_call_waits_on_the_dcc_board_until_a_reached_call_closes_it(
    open_session, team, account, monkeypatch
):
    monkeypatch.setattr(kpi_views, "DCC_BOARD_REFRESH_SECONDS", 1)
    supervisor = open_session(team.dcc_supervisor, language="zh-hans")
    supervisor.goto("/dashboard/dcc/")
    board = supervisor.page.locator("#dcc-board")
    board.get_by_text("没有待回拨").wait_for()
    actions.receive(account, missed("B5", number="13588889999"))
    waiting = board.get_by_test_id("callbacks")
    waiting.get_by_text("135****9999").wait_for(timeout=6000)
    assert board.get_by_test_id("missed-today").inner_text().strip() == "1"
    supervisor.screenshot("dcc-board-callback-zh-hans")
    callback = Callback.objects.get()
    assert callback.closed_at is None
    back = replace(answered("B6", number="13588889999"), direction=Direction.OUTBOUND)
    actions.receive(account, back)
    board.get_by_text("没有待回拨").wait_for(timeout=6000)
    callback.refresh_from_db()
    assert callback.closed_by.call_id == "B6"
