"""The dealer's phone settings, in the settings area: provider accounts (with their seats),
lines, blocked numbers, call scripts, how long recordings are kept, and the import of past
calls. For those who may change the dealer's settings. The views parse and show; calls.setup
(and calls.history) check, decide and write."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from calls import history, setup
from calls.forms_setup import (
    AccountForm,
    BlockForm,
    HistoryImportForm,
    LineForm,
    RetentionForm,
    ScriptForm,
    SeatForm,
)
from calls.models import (
    BlockedNumber,
    Line,
    PhoneAccount,
    PhoneSettings,
    Provider,
    Script,
    ScriptPurpose,
    Seat,
)
from calls.providers import PROVIDERS
from calls.scripts import script_for
from dcc.forms import perform_or_403, save_form
from intake import uploads
from leads.permissions import may_change_settings
from leads.setup.views import SECTIONS
from leads.stages import Grade, Stage
from leads.views.common import workbench

SECTION = "settings_phone"
# (url name, tab label) of the phone settings' own pages
TABS = [
    ("settings_phone", gettext_lazy("Accounts and seats")),
    ("settings_phone_lines", gettext_lazy("Lines")),
    ("settings_phone_blocked", gettext_lazy("Blocked numbers")),
    ("settings_phone_scripts", gettext_lazy("Call scripts")),
    ("settings_phone_retention", gettext_lazy("Recordings")),
    ("settings_phone_history", gettext_lazy("Import call history")),
]
# Rejected rows shown on the result page; the command lists them all.
SHOWN_REJECTED = 500


def _page(
    request: HttpRequest, template: str, context: dict, *, tab: str, status: int = 200
) -> HttpResponse:
    context = {"sections": SECTIONS, "section": SECTION, "tabs": TABS, "tab": tab, **context}
    return render(request, f"calls/settings/{template}", context, status=status)


def _form_page(
    request: HttpRequest, form: forms.Form, *, tab: str, title: str, submit: str, intro: str = ""
) -> HttpResponse:
    """A form on its own page: 422 with the errors in place when it failed."""
    return _page(
        request,
        "form.html",
        {"form": form, "title": title, "submit": submit, "intro": intro, "back": tab},
        tab=tab,
        status=422 if form.errors else 200,
    )


def _account(request: HttpRequest, account_id: int) -> PhoneAccount:
    return get_object_or_404(
        PhoneAccount.objects.select_related("dealer"), pk=account_id, dealer=request.dealer
    )


def push_address(request: HttpRequest, account: PhoneAccount) -> str:
    return request.build_absolute_uri(reverse("phone_push", args=[account.push_key]))


# ---------------------------------------------------------------- accounts


@workbench(may_change_settings)
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = (
        PhoneAccount.objects.filter(dealer=request.dealer)
        .annotate(seat_count=Count("seats"))
        .order_by("-is_active", "provider")
    )
    rows = [(account, setup.has_push_auth(account.credentials)) for account in accounts]
    configured = {account.provider for account in accounts}
    addable = [(value, label) for value, label in Provider.choices if value not in configured]
    return _page(request, "accounts.html", {"rows": rows, "addable": addable}, tab="settings_phone")


def _account_page(
    request: HttpRequest,
    form: AccountForm,
    account: PhoneAccount | None,
    *,
    revealed: tuple[str, str] | None = None,
) -> HttpResponse:
    context = {
        "form": form,
        "account": account,
        "provider_label": PROVIDERS[form.provider].label,
        "secrets": form.secret_status(),
        "revealed": revealed,
    }
    if account is not None:
        context |= {
            "push_address": push_address(request, account),
            "push_auth": setup.has_push_auth(account.credentials),
            "generated": [
                (key, label)
                for key, label in (
                    ("push_token", _("Generate a push token")),
                    ("push_secret", _("Generate a push signing secret")),
                )
                if key in setup.secret_keys(account.provider)
            ],
            "seat_count": account.seats.count(),
        }
    return _page(
        request,
        "account.html",
        context,
        tab="settings_phone",
        status=422 if form.errors else 200,
    )


@workbench(may_change_settings)
def account_new(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in Provider.values:
        raise Http404
    form = AccountForm(request.POST or None, provider=provider)
    saved: list[PhoneAccount] = []
    if request.method == "POST" and save_form(
        form,
        lambda: saved.append(
            setup.create_account(
                dealer=request.dealer, by=request.user, provider=provider, **form.action_kwargs()
            )
        ),
    ):
        messages.success(request, _("Account added. Give the provider the push address below."))
        return redirect("settings_phone_account", saved[0].pk)
    return _account_page(request, form, None)


@workbench(may_change_settings)
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    form = AccountForm(request.POST or None, provider=account.provider, account=account)
    if request.method == "POST" and save_form(
        form,
        lambda: setup.update_account(
            account=account, by=request.user, clear=form.clear(), **form.action_kwargs()
        ),
    ):
        messages.success(request, _("Account saved."))
        return redirect("settings_phone_account", account.pk)
    if form.errors:
        account.refresh_from_db()  # show what is stored, not what failed
    return _account_page(request, form, account)


@workbench(may_change_settings)
@require_POST
def account_push_key(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    perform_or_403(lambda: setup.renew_push_key(account=account, by=request.user))
    messages.success(
        request,
        _("The push address changed: the old one no longer works. Give the provider the new one."),
    )
    return redirect("settings_phone_account", account.pk)


@never_cache
@workbench(may_change_settings)
@require_POST
def account_generate(request: HttpRequest, account_id: int, key: str) -> HttpResponse:
    """Make up a new push token or signing secret and show it this once."""
    account = _account(request, account_id)
    if key not in setup.GENERATED or key not in setup.secret_keys(account.provider):
        raise Http404
    values: list[str] = []
    perform_or_403(
        lambda: values.append(setup.generate_push_secret(account=account, by=request.user, key=key))
    )
    form = AccountForm(provider=account.provider, account=account)
    return _account_page(request, form, account, revealed=(key, values[0]))


# ---------------------------------------------------------------- seats


def _seats_page(request: HttpRequest, account: PhoneAccount, form: SeatForm) -> HttpResponse:
    seats = Seat.objects.filter(account=account).select_related("staff").order_by("seat")
    return _page(
        request,
        "seats.html",
        {"account": account, "seats": seats, "form": form},
        tab="settings_phone",
        status=422 if form.errors else 200,
    )


@workbench(may_change_settings)
def seat_list(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    return _seats_page(request, account, SeatForm(dealer=request.dealer))


@workbench(may_change_settings)
@require_POST
def seat_add(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    form = SeatForm(request.POST, dealer=request.dealer)
    if save_form(
        form,
        lambda: setup.add_seat(
            account=account,
            by=request.user,
            seat=form.cleaned_data["seat"],
            staff=form.cleaned_data["staff"],
        ),
    ):
        messages.success(
            request,
            _("%(name)s now sits at seat %(seat)s.")
            % {"name": form.cleaned_data["staff"], "seat": form.cleaned_data["seat"].strip()},
        )
        return redirect("settings_phone_seats", account.pk)
    return _seats_page(request, account, form)


@workbench(may_change_settings)
@require_POST
def seat_remove(request: HttpRequest, account_id: int, seat_id: int) -> HttpResponse:
    account = _account(request, account_id)
    seat = get_object_or_404(Seat.objects.select_related("staff"), pk=seat_id, account=account)
    seat.account = account
    perform_or_403(lambda: setup.remove_seat(seat=seat, by=request.user))
    messages.success(request, _("Seat %(seat)s removed.") % {"seat": seat.seat})
    return redirect("settings_phone_seats", account.pk)


# ---------------------------------------------------------------- lines


@workbench(may_change_settings)
def line_list(request: HttpRequest) -> HttpResponse:
    lines = (
        Line.objects.filter(dealer=request.dealer)
        .select_related("channel")
        .order_by("-is_active", "kind", "number")
    )
    return _page(request, "lines.html", {"lines": lines}, tab="settings_phone_lines")


def _line_form(request: HttpRequest, line: Line | None) -> HttpResponse:
    dealer = request.dealer
    form = LineForm(request.POST or None, dealer=dealer, line=line)

    def perform() -> Line:
        if line is None:
            return setup.create_line(dealer=dealer, by=request.user, **form.action_kwargs())
        return setup.update_line(line=line, by=request.user, **form.action_kwargs())

    if request.method == "POST" and save_form(form, perform):
        messages.success(request, _("Line saved."))
        return redirect("settings_phone_lines")
    return _form_page(
        request,
        form,
        tab="settings_phone_lines",
        title=_("New line") if line is None else _("Line %(number)s") % {"number": line.number},
        submit=_("Add line") if line is None else _("Save line"),
        intro=_("Calls on the number count for its channel; calls already taken keep theirs."),
    )


@workbench(may_change_settings)
def line_new(request: HttpRequest) -> HttpResponse:
    return _line_form(request, None)


@workbench(may_change_settings)
def line_edit(request: HttpRequest, line_id: int) -> HttpResponse:
    line = get_object_or_404(
        Line.objects.select_related("dealer", "channel"), pk=line_id, dealer=request.dealer
    )
    return _line_form(request, line)


# ---------------------------------------------------------------- blocked numbers


def _blocked_page(request: HttpRequest, form: BlockForm) -> HttpResponse:
    blocked = (
        BlockedNumber.objects.filter(dealer=request.dealer)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )
    return _page(
        request,
        "blocked.html",
        {"blocked": blocked, "form": form},
        tab="settings_phone_blocked",
        status=422 if form.errors else 200,
    )


@workbench(may_change_settings)
def blocked_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _blocked_page(request, BlockForm())
    form = BlockForm(request.POST)
    done: list[BlockedNumber] = []
    if save_form(
        form,
        lambda: done.append(
            setup.block_number(dealer=request.dealer, by=request.user, **form.cleaned_data)
        ),
    ):
        messages.success(
            request,
            _("Calls from %(number)s will not become leads.") % {"number": done[0].number},
        )
        return redirect("settings_phone_blocked")
    return _blocked_page(request, form)


@workbench(may_change_settings)
@require_POST
def blocked_remove(request: HttpRequest, blocked_id: int) -> HttpResponse:
    blocked = get_object_or_404(
        BlockedNumber.objects.select_related("dealer"), pk=blocked_id, dealer=request.dealer
    )
    perform_or_403(lambda: setup.unblock_number(blocked=blocked, by=request.user))
    messages.success(request, _("%(number)s is no longer blocked.") % {"number": blocked.number})
    return redirect("settings_phone_blocked")


# ---------------------------------------------------------------- call scripts


@dataclass
class ScriptRow:
    purpose: ScriptPurpose
    title: str
    body: str
    version: int | None  # None: the product's default
    current: Script | None  # the dealer's version in force, with who saved it and when
    variants: list[Script]  # the dealer's scripts for one stage and/or grade


def _script_url(purpose: str, stage: str = "", grade: str = "") -> str:
    url = reverse("settings_phone_script", args=[purpose])
    query = {key: value for key, value in (("stage", stage), ("grade", grade)) if value}
    return f"{url}?{urlencode(query)}" if query else url


@workbench(may_change_settings)
def script_list(request: HttpRequest) -> HttpResponse:
    dealer = request.dealer
    current = list(
        Script.objects.filter(dealer=dealer, is_current=True)
        .select_related("created_by")
        .order_by("purpose", "stage", "grade")
    )
    rows = []
    for purpose in ScriptPurpose:
        in_force = script_for(dealer, purpose=purpose, lead=None)
        mine = [script for script in current if script.purpose == purpose.value]
        general = next((s for s in mine if not s.stage and not s.grade), None)
        rows.append(
            ScriptRow(
                purpose=purpose,
                # The default's title is the purpose's name, already the heading.
                title="" if in_force.title == str(purpose.label) else in_force.title,
                body=in_force.body,
                version=in_force.version,
                current=general,
                variants=[s for s in mine if s is not general],
            )
        )
    return _page(request, "scripts.html", {"rows": rows}, tab="settings_phone_scripts")


@workbench(may_change_settings)
def script_edit(request: HttpRequest, purpose: str) -> HttpResponse:
    """The script for a purpose (optionally one stage and/or grade): saving makes a new
    version; the versions before are listed below it."""
    if purpose not in ScriptPurpose.values:
        raise Http404
    dealer = request.dealer
    purpose = ScriptPurpose(purpose)
    stage = request.GET.get("stage", "")
    grade = request.GET.get("grade", "")
    if stage not in ("", *Stage.values) or grade not in ("", *Grade.values):
        raise Http404
    versions = list(
        Script.objects.filter(dealer=dealer, purpose=purpose, stage=stage, grade=grade)
        .select_related("created_by")
        .order_by("-version")
    )
    current = next((script for script in versions if script.is_current), None)
    if current is not None:
        initial = {"title": current.title, "body": current.body}
    else:  # start from what is in force now for the purpose
        in_force = script_for(dealer, purpose=purpose, lead=None)
        initial = {"title": in_force.title, "body": in_force.body}
    form = ScriptForm(request.POST or None, initial={**initial, "stage": stage, "grade": grade})
    if request.method == "POST":
        saved: list[Script | None] = []
        if save_form(
            form,
            lambda: saved.append(
                setup.edit_script(
                    dealer=dealer,
                    by=request.user,
                    purpose=purpose,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    stage=form.cleaned_data["stage"],
                    grade=form.cleaned_data["grade"],
                )
            ),
        ):
            script = saved[0]
            if script is None:
                messages.info(request, _("Nothing changed: the script in force stays."))
            else:
                messages.success(
                    request, _("Script saved as version %(version)d.") % {"version": script.version}
                )
            data = form.cleaned_data
            return redirect(_script_url(purpose, data["stage"], data["grade"]))
    return _page(
        request,
        "script.html",
        {
            "form": form,
            "purpose": purpose,
            "stage": Stage(stage).label if stage else "",
            "grade": grade,
            "versions": versions,
            "current": current,
        },
        tab="settings_phone_scripts",
        status=422 if form.errors else 200,
    )


# ---------------------------------------------------------------- retention


@workbench(may_change_settings)
def retention(request: HttpRequest) -> HttpResponse:
    dealer = request.dealer
    current = PhoneSettings.of(dealer)
    form = RetentionForm(
        request.POST or None,
        initial={"recording_retention_days": current.recording_retention_days},
    )
    if request.method == "POST" and save_form(
        form,
        lambda: setup.set_retention_days(
            dealer=dealer, by=request.user, days=form.cleaned_data["recording_retention_days"]
        ),
    ):
        messages.success(request, _("Recording retention saved."))
        return redirect("settings_phone_retention")
    return _form_page(
        request,
        form,
        tab="settings_phone_retention",
        title=_("Recordings"),
        submit=_("Save"),
        intro=_(
            "Recordings are kept on our server for this long, then deleted; the calls and "
            "their ledger entries stay."
        ),
    )


# ---------------------------------------------------------------- call history


@csrf_exempt
def history_import(request: HttpRequest) -> HttpResponse:
    """Upload a CDR export and import it at once; the result lists the counts and the
    rejected rows. The upload is read through the lead import's size limit before anything
    else looks at it (so CSRF is checked inside, once the limit is in place)."""
    limit = uploads.SizeLimit(request, limit=uploads.max_upload_bytes())
    request.upload_handlers.insert(0, limit)
    return _history_import(request, limit=limit)


@csrf_protect
@workbench(may_change_settings)
def _history_import(request: HttpRequest, *, limit: uploads.SizeLimit) -> HttpResponse:
    form = HistoryImportForm(request.POST or None, request.FILES or None, dealer=request.dealer)
    if request.method == "POST" and limit.exceeded:
        form.is_valid()  # the file was cut off: say why rather than that it is missing
        form.errors["file"] = form.error_class([uploads.too_large_message()])
    elif request.method == "POST":
        done: list[history.CallHistoryResult] = []
        if save_form(
            form,
            lambda: done.append(
                history.import_upload(
                    account=form.cleaned_data["account"],
                    by=request.user,
                    file=form.cleaned_data["file"],
                    dry_run=form.cleaned_data["dry_run"],
                )
            ),
        ):
            result = done[0]
            return _page(
                request,
                "history_result.html",
                {
                    "result": result,
                    "account": form.cleaned_data["account"],
                    "file_name": uploads.shown_name(form.cleaned_data["file"].name or ""),
                    "shown": result.rejected[:SHOWN_REJECTED],
                    "hidden": max(0, len(result.rejected) - SHOWN_REJECTED),
                },
                tab="settings_phone_history",
            )
    return _page(
        request,
        "history.html",
        {
            "form": form,
            "columns": history.COLUMNS,
            "required": history.REQUIRED,
            "max_rows": f"{history.PAGE_MAX_ROWS:,}",
            "max_mb": uploads.max_upload_bytes() // 1024**2,
        },
        tab="settings_phone_history",
        status=422 if form.errors else 200,
    )
