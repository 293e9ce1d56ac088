"""The audit group's settings pages: the sampling plans (one row per source, each saved on its
own, the next draw taking it) and each source's check items (saving makes a new version, audits
scored keep theirs, default texts stay translated when left as shown)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import SettingsChange
from accounts.roles import Role
from audit import sources
from audit.actions import draw_sample, ensure_form, save_form, submit_audit
from audit.models import AuditForm, AuditTask, CheckItem, SamplingPlan
from tests.audit.conftest import WEEK
from tests.kit import login

pytestmark = pytest.mark.django_db
PLANS = reverse("audit_plans")


def form_url(source: str) -> str:
    return reverse("audit_form_edit", args=[source])


def plan_post(source: str, share: object, minimum: object, active: bool = True) -> dict:
    data = {"source": source, f"{source}-share_percent": share, f"{source}-min_per_person": minimum}
    return data | ({f"{source}-is_active": "on"} if active else {})


def items_post(form: AuditForm, rows: list[tuple], *, version: int | None = None) -> dict:
    """The editor's post: `rows` of (item or None, text, points, required)."""
    data = {
        "version": form.version if version is None else version,
        "item-TOTAL_FORMS": len(rows),
        "item-INITIAL_FORMS": sum(1 for row in rows if row[0] is not None),
        "item-MIN_NUM_FORMS": 0,
        "item-MAX_NUM_FORMS": 1000,
    }
    for n, (item, text, points, required) in enumerate(rows):
        data |= {
            f"item-{n}-item": item.pk if item else "",
            f"item-{n}-text": text,
            f"item-{n}-points": points,
        }
        if required:
            data[f"item-{n}-required"] = "on"
    return data


def as_shown(form: AuditForm) -> list[tuple]:
    """The editor's rows as the page shows them, unchanged, and its blank rows."""
    rows = [(item, item.shown_text, item.points, item.required) for item in form.items.all()]
    return rows + [(None, "", "", True)] * 3


# ---------------------------------------------------------------- sampling plans


def test_a_plan_saved_on_the_page_is_what_the_next_draw_takes(team, week_of_work):
    client = login(team.auditor)
    page = client.get(PLANS).content.decode()
    assert page.count('name="source"') == len(sources.SOURCES)  # a row per source
    assert "The default" in page and "Set by this dealer" not in page
    response = client.post(PLANS, plan_post(sources.CALL, 30, 2))
    assert response.status_code == 302
    client.post(PLANS, plan_post(sources.INVALID, 10, 1, active=False))
    page = client.get(PLANS).content.decode()
    assert page.count("Set by this dealer") == 2 and "Switched off" in page
    draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=5)
    calls = AuditTask.objects.filter(source=sources.CALL)
    # Agent 1 took 10 recorded calls: 30 % is 3; agent 2 took 3, raised to the minimum 2.
    assert calls.filter(person=team.dcc_agent).count() == 3
    assert calls.filter(person=team.dcc_agent_2).count() == 2
    assert not AuditTask.objects.filter(source=sources.INVALID).exists()  # switched off
    assert AuditTask.objects.filter(source=sources.DEFEAT).exists()  # its default
    change = SettingsChange.objects.filter(what="audit_sampling_plan", subject=sources.CALL).get()
    assert change.changed_by == team.auditor and change.detail["share"] == 30


@pytest.mark.parametrize(
    "share, minimum, field, message",
    [
        ("0", "1", "share_percent", "The share is from 1 to 100 %."),
        ("101", "1", "share_percent", "The share is from 1 to 100 %."),
        ("abc", "1", "share_percent", "Enter a whole number."),
        ("", "1", "share_percent", "This field is required."),
        ("1" * 40, "1", "share_percent", "The share is from 1 to 100 %."),
        ("10", "-1", "min_per_person", "The minimum cannot be negative."),
        ("10", "1" * 40, "min_per_person", "At most 1000 per person a week."),
        ("10", "2\x00", "min_per_person", "Enter a whole number."),
    ],
)
def test_a_bad_plan_is_refused_on_its_field_and_nothing_is_stored(
    team, share, minimum, field, message
):
    response = login(team.auditor).post(PLANS, plan_post(sources.DEFEAT, share, minimum))
    assert response.status_code == 422
    form = dict((row.code, form) for row, form in response.context["rows"])[sources.DEFEAT]
    assert message in form.errors[field]
    assert 'class="form-control is-invalid"' in response.content.decode()
    assert not SamplingPlan.objects.exists()
    assert not SettingsChange.objects.filter(what="audit_sampling_plan").exists()


def test_a_plan_of_no_known_source_is_not_found(team):
    response = login(team.auditor).post(PLANS, plan_post("sms", 10, 1))
    assert response.status_code == 404 and not SamplingPlan.objects.exists()


# Who opens the settings pages, and who changes them: the audit group edits, the workbench's
# other readers (headquarters) read, everyone else is refused.
EDITORS = {
    Role.AUDITOR,
    Role.GM,
    Role.SALES_MANAGER,
    Role.DCC_SUPERVISOR,
    Role.SHOWROOM_MANAGER,
}
READERS = EDITORS | {Role.HEADQUARTERS}


@pytest.mark.parametrize("role", list(Role), ids=[str(r) for r in Role])
def test_each_role_reads_and_changes_exactly_what_it_may(team, role):
    client = login(team.by_role(role))
    form = ensure_form(team.dealer, sources.DEFEAT)
    # What only an editor's page has: the fields of a row of plans, or of check items.
    for url, fields in ((PLANS, b'name="source"'), (form_url(sources.DEFEAT), b"TOTAL_FORMS")):
        page = client.get(url)
        assert page.status_code == (200 if role in READERS else 403), f"{role} {url}"
        if role in READERS:
            assert (fields in page.content) == (role in EDITORS), f"{role} {url}"
    saved = client.post(PLANS, plan_post(sources.DEFEAT, 50, 1))
    edited = client.post(
        form_url(sources.DEFEAT), items_post(form, [(None, "回访客户核实原因", 100, True)])
    )
    if role in EDITORS:
        assert (saved.status_code, edited.status_code) == (302, 302)
        assert SamplingPlan.objects.get(dealer=team.dealer).share_percent == 50
        assert ensure_form(team.dealer, sources.DEFEAT).version == 2
    else:
        assert (saved.status_code, edited.status_code) == (403, 403)
        assert not SamplingPlan.objects.exists()
        assert ensure_form(team.dealer, sources.DEFEAT).version == 1


def test_another_dealers_staff_change_only_their_own_dealer(team, other_team):
    mine = ensure_form(team.dealer, sources.CALL)
    assert login(other_team.consultant).post(PLANS, plan_post(sources.CALL, 50, 1)).status_code == (
        403
    )
    client = login(other_team.auditor)
    client.post(PLANS, plan_post(sources.CALL, 50, 1))
    client.post(form_url(sources.CALL), items_post(mine, [(mine.items.first(), "x", 5, True)]))
    assert not SamplingPlan.objects.filter(dealer=team.dealer).exists()
    assert ensure_form(team.dealer, sources.CALL).pk == mine.pk
    theirs = ensure_form(other_team.dealer, sources.CALL)
    # An item of this dealer's form named in their post is a new item of theirs, unlinked.
    assert [(i.text, i.link) for i in theirs.items.all()] == [("x", "")]
    page = client.get(form_url(sources.CALL)).content.decode()
    assert "Greeting and introduction" not in page


def test_the_workbench_links_the_settings_for_those_who_change_them(team):
    page = login(team.auditor).get(reverse("audit_workbench")).content.decode()
    assert f'href="{PLANS}"' in page
    assert all(f'href="{form_url(code)}"' in page for code in sources.SOURCES)
    read_only = login(team.headquarters).get(reverse("audit_workbench")).content.decode()
    assert f'href="{PLANS}"' not in read_only


# ---------------------------------------------------------------- check items


@pytest.fixture
def scored_on_version_1(team):
    """A defeat drawn and audited on version 1 of the defeat form."""
    from tests.audit.conftest import defeated, during

    defeated(team, team.consultant, during(WEEK, 1))
    draw_sample(dealer=team.dealer, week=WEEK, by=team.auditor, seed=3)
    form = ensure_form(team.dealer, sources.DEFEAT)
    return submit_audit(
        task=AuditTask.objects.get(source=sources.DEFEAT), by=team.auditor, form=form,
        scores={item.pk: item.points for item in form.items.all()}, result="pass",
    )  # fmt: skip


def test_saving_the_items_makes_version_2_and_an_audit_scored_keeps_version_1(
    team, scored_on_version_1
):
    client = login(team.auditor)
    first = ensure_form(team.dealer, sources.DEFEAT)
    page = client.get(form_url(sources.DEFEAT)).content.decode()
    assert "Version 1," in page and "Save as version 2" in page
    reason, follow_ups = first.items.all()
    rows = [
        (reason, "Reason checked with the customer", 50, True),  # changed
        (follow_ups, "", 40, True),  # removed
        (None, "Next step agreed", 30, False),  # added
        (None, "Offer compared", 20, True),  # added
        (None, "", "", True),  # a blank row left blank
    ]
    response = client.post(form_url(sources.DEFEAT), items_post(first, rows))
    assert response.status_code == 302
    second = ensure_form(team.dealer, sources.DEFEAT)
    assert second.version == 2 and second.created_by == team.auditor
    assert [(i.text, i.points, i.required) for i in second.items.all()] == [
        ("Reason checked with the customer", 50, True),
        ("Next step agreed", 30, False),
        ("Offer compared", 20, True),
    ]
    audit = scored_on_version_1
    audit.refresh_from_db()
    assert audit.form_id == first.pk
    assert [i.text for i in audit.form.items.all()] == [reason.text, follow_ups.text]
    shown = client.get(reverse("audit_task", args=[audit.task_id])).content.decode()
    assert "form version 1" in shown and "Follow-ups were enough" in shown
    assert "Version 2," in client.get(form_url(sources.DEFEAT)).content.decode()


def test_an_unchanged_save_keeps_the_english_defaults_and_the_script_link(team):
    client = login(team.auditor, language="zh-hans")
    first = ensure_form(team.dealer, sources.CALL)
    page = client.get(form_url(sources.CALL)).content.decode()
    assert "问候" in page and "Greeting and introduction" not in page  # shown translated
    response = client.post(form_url(sources.CALL), items_post(first, as_shown(first)))
    assert response.status_code == 302
    second = ensure_form(team.dealer, sources.CALL)
    assert second.version == 2
    kept = [(i.text, i.points, i.required, i.link) for i in second.items.all()]
    assert kept == [(i.text, i.points, i.required, i.link) for i in first.items.all()]
    assert kept[0][0] == "Greeting and introduction" and kept[2][3] == CheckItem.SCRIPT
    # Still translated for Chinese readers, and in English for English ones.
    assert "问候" in client.get(form_url(sources.CALL)).content.decode()
    assert (
        "Greeting and introduction"
        in login(team.auditor).get(form_url(sources.CALL)).content.decode()
    )


def test_a_default_changed_in_chinese_is_stored_as_written_and_keeps_its_link(team):
    client = login(team.auditor, language="zh-hans")
    first = ensure_form(team.dealer, sources.CALL)
    rows = as_shown(first)
    script = rows[2][0]
    rows[2] = (script, "按本店话术逐句执行", 25, True)
    client.post(form_url(sources.CALL), items_post(first, rows))
    changed = ensure_form(team.dealer, sources.CALL).items.get(position=3)
    assert (changed.text, changed.points, changed.link) == ("按本店话术逐句执行", 25, "script")


def test_all_items_removed_is_refused_in_place(team):
    first = ensure_form(team.dealer, sources.DEFEAT)
    rows = [(item, "", item.points, True) for item in first.items.all()]
    response = login(team.auditor).post(form_url(sources.DEFEAT), items_post(first, rows))
    assert response.status_code == 422
    assert "A form needs at least one check item." in response.content.decode()
    assert AuditForm.objects.filter(dealer=team.dealer).count() == 1


@pytest.mark.parametrize("points", ["0", "101", "abc", "", "1" * 40, "-5"])
def test_an_item_of_bad_points_is_refused_on_its_row(team, points):
    first = ensure_form(team.dealer, sources.DEFEAT)
    reason, follow_ups = first.items.all()
    rows = [(reason, reason.text, 60, True), (follow_ups, "Called three times", points, True)]
    response = login(team.auditor).post(form_url(sources.DEFEAT), items_post(first, rows))
    assert response.status_code == 422
    row = response.context["formset"].forms[1]
    assert row.errors["points"], row.errors
    assert response.context["formset"].forms[0].is_valid()
    assert AuditForm.objects.filter(dealer=team.dealer).count() == 1


@pytest.mark.parametrize(
    "tampered",
    [
        {"item-TOTAL_FORMS": "abc"},
        {"item-TOTAL_FORMS": "100000"},
        {"version": "x"},
        {"item-2-item": "9" * 40},
        {"item-0-text": "a\x00b"},
        {"item-0-text": "长" * 201},
    ],
)
def test_a_tampered_or_odd_post_is_answered_never_a_server_error(team, tampered):
    first = ensure_form(team.dealer, sources.CALL)
    data = items_post(first, as_shown(first)) | tampered
    response = login(team.auditor).post(form_url(sources.CALL), data)
    assert response.status_code in (302, 422)
    if "item-2-item" in tampered:  # no item's id: the script's row is a new item, unlinked
        assert response.status_code == 302
        second = ensure_form(team.dealer, sources.CALL)
        assert [item.link for item in second.items.all()] == [""] * 6
    else:
        assert response.status_code == 422
        assert AuditForm.objects.filter(dealer=team.dealer).count() == 1


def test_a_version_saved_meanwhile_is_not_replaced_unseen(team):
    first = ensure_form(team.dealer, sources.DEFEAT)
    save_form(
        dealer=team.dealer, by=team.gm, source=sources.DEFEAT,
        items=[("GM's own check", 100, True, "")],
    )  # fmt: skip
    client = login(team.auditor)
    stale = items_post(first, [(None, "Auditor's check", 100, True)])
    response = client.post(form_url(sources.DEFEAT), stale)
    assert response.status_code == 422
    assert "Someone saved version 2" in response.content.decode()
    assert ensure_form(team.dealer, sources.DEFEAT).version == 2
    # The page now says version 2: saving again, having seen it, makes version 3.
    assert 'name="version" value="2"' in response.content.decode()
    again = client.post(form_url(sources.DEFEAT), stale | {"version": 2})
    assert again.status_code == 302
    assert [i.text for i in ensure_form(team.dealer, sources.DEFEAT).items.all()] == [
        "Auditor's check"
    ]


def test_an_unknown_source_is_not_found(team):
    client = login(team.auditor)
    assert client.get(form_url("sms")).status_code == 404
    assert client.post(form_url("sms"), {"version": 1}).status_code == 404
    assert not AuditForm.objects.exists()


def test_the_settings_pages_speak_chinese(team):
    client = login(team.auditor, language="zh-hans")
    plans = client.get(PLANS).content.decode()
    assert "抽样" in plans and "Sampling plans" not in plans
    assert "Check items" not in client.get(form_url(sources.DEFEAT)).content.decode()
