"""A customer's rights over their data: the export holds everything kept about them (and is
recorded); the erasure removes their personal data everywhere, all or nothing, while the ledger
still verifies and every count stays; a customer with an open lead is erased only when
confirmed; the retention run erases those whose last contact is too old."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from io import StringIO

import openpyxl
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from calls import actions as call_actions
from calls.models import Call, Callback, Recording
from dcc.errors import Conflict, InvalidInput
from leads import actions, ledger, tallies
from leads.models import Customer, CustomerPhone, Event, EventKind, Lead
from owners.models import Vehicle
from privacy import consent, rights
from privacy.models import (
    ConsentRecord,
    ConsentSource,
    DataRequest,
    DoNotCall,
    ErasureCause,
    PrivacySettings,
    Purpose,
    RequestKind,
)
from tests.calls.reports import CALLER, answered
from tests.factories import make_lead
from tests.owners.conftest import deliver

pytestmark = pytest.mark.django_db

SECRET_NOTE = "王小明说他住在幸福小区3栋"


def event_table() -> str:
    return Event._meta.db_table


def raw(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def wang(team, fixed_clock) -> Customer:
    """A customer who bought: a delivered lead with notes, a call, consent, a complaint."""
    now = timezone.now()
    lead = actions.check_in_visitor(
        dealer=team.dealer, phone=CALLER, by=team.consultant, at=now - timedelta(hours=2)
    )
    lead = actions.record_order(
        lead=lead, by=team.consultant, car_model="S7", note=SECRET_NOTE, at=now - timedelta(hours=1)
    )
    lead = actions.record_delivery(lead=lead, by=team.consultant, at=now - timedelta(minutes=30))
    customer = lead.customer
    customer.name = "王小明"
    customer.city = "杭州"
    customer.save()
    CustomerPhone.objects.create(dealer=team.dealer, customer=customer, phone="13900001111")
    consent.record(
        customer=customer,
        purpose=Purpose.SMS,
        given=True,
        how=ConsentSource.CAPTURE_PAGE,
        evidence="页面 /c/abc/ 地址 10.0.0.7",
    )
    Vehicle.objects.filter(owner=customer).update(vin="LSVAU2180N2123456", plate="浙A12345")
    return customer


def test_the_export_holds_everything_kept_about_the_customer_and_is_recorded(team, wang):
    result = rights.export(wang, by=team.gm, file_format="json")
    body = json.loads(result.as_json())
    sections = body["sections"]
    assert sections["customer"][0]["name"] == "王小明"
    assert "13900001111" in sections["customer"][0]["other_phones"]
    assert any(row["note"] == SECRET_NOTE for row in sections["ledger"])
    assert sections["consents"][0]["evidence"].startswith("页面")
    assert any(
        row["kind"] == "vehicle" and "浙A12345" in row["detail"] for row in sections["owners"]
    )
    request = DataRequest.objects.get(customer=wang)
    assert (request.kind, request.by, request.file_format) == (RequestKind.EXPORT, team.gm, "json")
    assert request.counts["ledger"] == len(sections["ledger"]) > 0


def test_the_xlsx_export_has_a_sheet_per_section_with_its_columns(team, wang):
    book = openpyxl.load_workbook(
        io.BytesIO(rights.export(wang, by=team.gm, file_format="xlsx").as_xlsx())
    )
    assert {"Customer", "History", "Consent", "Owner operations"} <= set(book.sheetnames) or {
        "客户",
        "历史",
    } <= set(book.sheetnames)
    first = book.worksheets[0]
    header = [cell.value for cell in first[1]]
    assert header == ["name", "phone", "other_phones", "city", "first_contact"]
    assert first.cell(row=2, column=1).value == "王小明"


def test_an_export_in_another_format_is_refused(team, wang):
    with pytest.raises(InvalidInput) as error:
        rights.export(wang, by=team.gm, file_format="pdf")
    assert error.value.field == "format"
    assert not DataRequest.objects.exists()


def test_erasure_removes_the_personal_data_and_the_ledger_still_verifies(
    team, wang, account, settings, tmp_path
):
    settings.DCC_RECORDING_DIR = tmp_path
    call_actions.receive(account, answered("ERASE1"))
    call = Call.objects.get(call_id="ERASE1")
    (tmp_path / "erase1.wav").write_bytes(b"RIFF")
    Recording.objects.create(call=call, url="http://127.0.0.1/r.wav", path="erase1.wav", size=4)
    now = timezone.now()
    callback = Callback.objects.create(
        dealer=team.dealer, number=CALLER, last_missed_at=now, due_at=now + timedelta(hours=1)
    )
    lead = Lead.objects.get(customer=wang)
    events_before = Event.objects.filter(lead=lead).count()
    delivered_before = Lead.objects.filter(dealer=team.dealer, stage="delivered").count()

    request = rights.erase(wang, by=team.gm, reason="客户来电要求")

    wang.refresh_from_db()
    assert (wang.name, wang.city, wang.name_initials) == ("", "", "")
    assert wang.phone != CALLER and wang.erased_at is not None
    assert str(wang) == "(personal data erased)" or "删除" in str(wang)
    assert not CustomerPhone.objects.filter(customer=wang).exists()
    assert not Event.objects.filter(lead=lead).exclude(note="").exists()
    assert not Event.objects.filter(lead=lead).exclude(note_salt="").exists()
    assert ConsentRecord.objects.get(customer=wang).evidence == ""
    car = Vehicle.objects.get(owner=wang)
    assert (car.vin, car.plate) == ("", "")
    call.refresh_from_db()
    assert (call.number, call.pushes) == ("", [])
    assert not (tmp_path / "erase1.wav").exists()
    assert Recording.objects.get(call=call).path == ""
    callback.refresh_from_db()
    assert callback.number == "" and callback.closed_at is not None  # nobody calls them back
    # Recorded twice: as a request, and as an ERASED event on each of the customer's leads.
    assert (request.kind, request.cause, request.by) == (
        RequestKind.ERASURE,
        ErasureCause.REQUEST,
        team.gm,
    )
    erased = Event.objects.get(lead=lead, kind=EventKind.ERASED)
    assert erased.data == {"request": request.pk}
    # Every count is as before; the chain and the tallies check out.
    assert Event.objects.filter(lead=lead).count() == events_before + 1
    assert Lead.objects.filter(dealer=team.dealer, stage="delivered").count() == delivered_before
    assert ledger.verify().ok
    assert tallies.drift([team.dealer.pk]) == []
    out = StringIO()
    call_command("ledger", "verify", stdout=out)
    call_command("ledger", "tallies", stdout=out)


def test_a_new_enquiry_from_the_erased_number_is_a_new_customer(team, wang):
    rights.erase(wang, by=team.gm)
    again = make_lead(team.dealer, phone=CALLER)
    assert again.customer_id != wang.pk
    assert again.customer.phone == CALLER


def test_an_open_order_asks_for_confirmation_and_nothing_is_erased_meanwhile(team, fixed_clock):
    lead = actions.check_in_visitor(
        dealer=team.dealer, phone=CALLER, by=team.consultant, name="李四"
    )
    lead = actions.record_order(lead=lead, by=team.consultant, car_model="S7")
    customer = lead.customer
    plan = rights.plan_erasure(customer)
    assert (plan.open_orders, plan.open_leads, plan.needs_confirmation) == (1, 1, True)
    assert plan.remains  # counts only: what stays after
    with pytest.raises(Conflict) as asked:
        rights.erase(customer, by=team.gm)
    assert asked.value.code == "confirm_erasure"
    customer.refresh_from_db()
    assert customer.name == "李四" and customer.erased_at is None
    assert not DataRequest.objects.exists()
    rights.erase(customer, by=team.gm, confirmed=True)
    customer.refresh_from_db()
    assert customer.erased_at is not None
    assert Lead.objects.get(pk=lead.pk).stage == "ordered"  # the order stays open
    assert ledger.verify().ok


def test_a_customer_is_erased_once(team, wang):
    rights.erase(wang, by=team.gm)
    with pytest.raises(Conflict):
        rights.erase(wang, by=team.gm)
    assert DataRequest.objects.filter(kind=RequestKind.ERASURE).count() == 1


def test_a_failing_section_leaves_everything_as_it_was(team, wang, monkeypatch):
    from privacy import holdings

    def broken(_customer):
        raise RuntimeError("disk full")

    monkeypatch.setitem(
        holdings._HOLDINGS, "broken", holdings.Holding("broken", "Broken", lambda c: [], broken)
    )
    with pytest.raises(RuntimeError):
        rights.erase(wang, by=team.gm)
    wang.refresh_from_db()
    assert wang.name == "王小明" and wang.erased_at is None
    assert Event.objects.filter(note=SECRET_NOTE).exists()
    assert Vehicle.objects.get(owner=wang).plate == "浙A12345"


def test_the_do_not_call_entry_stays_after_the_erasure(team, wang):
    consent.add_do_not_call(dealer=team.dealer, phone=CALLER, reason="客户要求")
    rights.erase(wang, by=team.gm)
    assert consent.is_do_not_call(team.dealer, CALLER)
    assert DoNotCall.objects.count() == 1


# ---------------------------------------------------------------- the ledger and erasure


def test_a_note_blanked_without_an_erasure_is_found(team, wang):
    event = Event.objects.get(note=SECRET_NOTE)
    # The triggers let the blanking through (it is how an erasure works) ...
    raw(f"UPDATE {event_table()} SET note = '', note_salt = '' WHERE id = %s", event.pk)
    # ... but without an ERASED event after it the chain does not verify.
    report = ledger.verify()
    assert [(b.lead_id, b.seq, b.problem) for b in report.broken] == [
        (event.lead_id, event.seq, "note removed without an erasure")
    ]


def test_a_rewritten_note_is_found_even_with_the_triggers_out_of_the_way(team, wang):
    event = Event.objects.get(note=SECRET_NOTE)
    ledger.drop_triggers()
    try:
        raw(f"UPDATE {event_table()} SET note = %s WHERE id = %s", "客户不想买", event.pk)
    finally:
        ledger.install_triggers()
    assert [b.problem for b in ledger.verify().broken] == ["note does not match its seal"]


@pytest.mark.parametrize(
    "assignment",
    ["note = 'changed'", "note_salt = 'x'", "note = '', hash = 'f'", "note = '', note_seal = ''"],
)
def test_the_database_lets_through_nothing_but_a_blanking(team, wang, assignment):
    event = Event.objects.get(note=SECRET_NOTE)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(f"UPDATE {event_table()} SET {assignment} WHERE id = %s", event.pk)
    event.refresh_from_db()
    assert event.note == SECRET_NOTE


def test_notes_written_before_sealing_are_sealed_and_their_chains_rehashed(team, wang):
    """The migration's work: chains that hashed their notes in clear get seals and new hashes."""
    lead = Lead.objects.get(customer=wang)
    ledger.drop_triggers()
    try:
        prev = ledger.GENESIS
        for event in Event.objects.filter(lead=lead).order_by("seq"):
            event.note_salt, event.note_seal, event.prev_hash = "", "", prev
            # As hashed before notes were sealed: the note itself in the seal's place.
            fields = {f.attname: getattr(event, f.attname) for f in Event._meta.concrete_fields}
            fields["note_seal"] = event.note
            event.hash = ledger.event_digest(**fields)
            Event.objects.filter(pk=event.pk).update(
                note_salt="", note_seal="", prev_hash=prev, hash=event.hash
            )
            prev = event.hash
        Lead.objects.filter(pk=lead.pk).update(last_event_hash=prev)
        assert not ledger.verify().ok
        assert ledger.seal_notes() == 1
    finally:
        ledger.install_triggers()
    assert ledger.verify().ok
    sealed = Event.objects.get(note=SECRET_NOTE)
    assert sealed.note_seal == ledger.seal(sealed.note_salt, SECRET_NOTE) != ""


# ---------------------------------------------------------------- retention


def test_the_retention_run_erases_those_last_heard_from_too_long_ago(team, fixed_clock):
    now = timezone.now()
    PrivacySettings.objects.create(dealer=team.dealer, retention_days=365)
    old = deliver(team, at=now - timedelta(days=400)).customer
    recent = deliver(team, at=now - timedelta(days=300)).customer
    still_open = make_lead(team.dealer, at=now - timedelta(days=500)).customer
    assert rights.erase_past_retention(team.dealer) == 1
    old.refresh_from_db(), recent.refresh_from_db(), still_open.refresh_from_db()
    assert old.erased_at is not None
    assert recent.erased_at is None and still_open.erased_at is None
    request = DataRequest.objects.get(customer=old)
    assert (request.cause, request.by) == (ErasureCause.RETENTION, None)
    assert ledger.verify().ok
    # Kept until asked: nothing is erased by time alone.
    PrivacySettings.objects.filter(dealer=team.dealer).update(retention_days=None)
    assert rights.past_retention(team.dealer) == []
