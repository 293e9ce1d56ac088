"""Platform operations' pages (平台运营): the accounts with today's checklist and their alerts,
an account with its history and scores, setting accounts up, importing scores, the alert strip
on the dashboard, and headquarters' table. Views parse and show; platforms.actions,
platforms.imports and platforms.selectors decide, write and read."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dcc.forms import perform_or_403, save_form
from kpi.headquarters import kpi_dealer_ids
from leads.views.common import workbench
from platforms import actions, imports, selectors
from platforms.forms import AccountForm, ComputeForm, ImportForm, ItemForm, ScoreForm
from platforms.models import ChecklistItem, PlatformAccount, ScoreKind
from platforms.permissions import (
    may_manage_accounts,
    may_see_platforms_hq,
    may_use_platforms,
    may_work_account,
    oversees_platforms,
    visible_accounts,
)

SHOWN_REJECTED = 200


def _account(request: HttpRequest, account_id: int) -> PlatformAccount:
    """The account, when this person may see it here; another dealer's is not found."""
    return get_object_or_404(
        visible_accounts(request.user, request.dealer.pk).select_related("channel", "specialist"),
        pk=account_id,
    )


@workbench(may_use_platforms)
def platform_home(request: HttpRequest) -> HttpResponse:
    """The accounts this person runs or oversees: today's checklist, the last 14 days, the
    latest scores, and the alerts first."""
    accounts = visible_accounts(request.user, request.dealer.pk)
    standings = selectors.standings(accounts.filter(is_active=True))
    for standing in standings:
        standing.may_tick = may_work_account(request.user, standing.account)
    return render(
        request,
        "platforms/home.html",
        {
            "standings": standings,
            "alerts": [standing for standing in standings if standing.below],
            "today": timezone.localdate(),
            "days": selectors.history_days(timezone.localdate()),
            "kinds": ScoreKind.choices,
            "may_manage": may_manage_accounts(request.user, request.dealer.pk),
            "may_import": any(standing.may_tick for standing in standings),
            "inactive": accounts.filter(is_active=False).order_by("platform", "name"),
        },
    )


@workbench(may_use_platforms)
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    may_work = may_work_account(request.user, account)
    today = timezone.localdate()
    score_form = ScoreForm(
        request.POST if request.method == "POST" else None,
        prefix="score",
        initial={"day": today},
    )
    if request.method == "POST":
        if not may_work:
            raise PermissionDenied
        if save_form(
            score_form,
            lambda: actions.record_score(
                account=account, by=request.user, **score_form.cleaned_data
            ),
        ):
            messages.success(request, _("Score recorded."))
            return redirect("platform_account", account.pk)
    standing = selectors.standings(PlatformAccount.objects.filter(pk=account.pk))[0]
    standing.may_tick = may_work
    return render(
        request,
        "platforms/account.html",
        {
            "account": account,
            "standing": standing,
            "scores": selectors.account_scores(account),
            "may_work": may_work,
            "may_manage": may_manage_accounts(request.user, request.dealer.pk),
            "score_form": score_form,
            "compute_form": ComputeForm(prefix="compute", initial={"day": today}),
            "item_form": ItemForm(prefix="item"),
            "kinds": ScoreKind.choices,
            "today": today,
        },
        status=422 if score_form.errors else 200,
    )


def _back(request: HttpRequest, account: PlatformAccount) -> HttpResponse:
    if request.POST.get("back") == "home":
        return redirect("platforms")
    return redirect("platform_account", account.pk)


@workbench(may_use_platforms)
@require_POST
def tick_item(request: HttpRequest, account_id: int, item_id: int) -> HttpResponse:
    """Tick today's item (done=1) or take the tick back (done=0)."""
    account = _account(request, account_id)
    item = get_object_or_404(ChecklistItem, pk=item_id, account=account)
    item.account = account
    if request.POST.get("done") == "1":
        perform_or_403(lambda: actions.tick(item=item, by=request.user))
    else:
        perform_or_403(lambda: actions.untick(item=item, by=request.user))
    return _back(request, account)


@workbench(may_use_platforms)
@require_POST
def compute_scores(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    form = ComputeForm(request.POST, prefix="compute")
    done: list = []
    if save_form(
        form,
        lambda: done.extend(
            actions.compute_scores(account=account, by=request.user, day=form.cleaned_data["day"])
        ),
    ):
        if done:
            messages.success(request, _("Scores computed from our calls and leads."))
        else:
            messages.info(request, _("Nothing to compute a score from on that day."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("platform_account", account.pk)


@workbench(may_manage_accounts)
@require_POST
def add_item(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    form = ItemForm(request.POST, prefix="item")
    if not save_form(
        form, lambda: actions.add_item(account=account, by=request.user, **form.cleaned_data)
    ):
        messages.error(request, _("Name the item."))
    return redirect("platform_account", account.pk)


@workbench(may_manage_accounts)
@require_POST
def remove_item(request: HttpRequest, account_id: int, item_id: int) -> HttpResponse:
    account = _account(request, account_id)
    item = get_object_or_404(ChecklistItem, pk=item_id, account=account, is_active=True)
    item.account = account
    perform_or_403(lambda: actions.remove_item(item=item, by=request.user))
    return redirect("platform_account", account.pk)


@workbench(may_manage_accounts)
def account_new(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None, dealer=request.dealer)
    done: list[PlatformAccount] = []
    if request.method == "POST" and save_form(
        form,
        lambda: done.append(
            actions.create_account(dealer=request.dealer, by=request.user, **form.cleaned_data)
        ),
    ):
        messages.success(request, _("Platform account set up."))
        return redirect("platform_account", done[0].pk)
    return render(
        request,
        "platforms/account_form.html",
        {"form": form, "account": None},
        status=422 if form.errors else 200,
    )


@workbench(may_manage_accounts)
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _account(request, account_id)
    initial = {
        "name": account.name,
        "channel": account.channel,
        "specialist": account.specialist,
        "threshold": account.threshold,
        "is_active": account.is_active,
    }
    form = AccountForm(request.POST or None, dealer=request.dealer, editing=True, initial=initial)
    if request.method == "POST" and save_form(
        form, lambda: actions.update_account(account=account, by=request.user, **form.cleaned_data)
    ):
        messages.success(request, _("Platform account saved."))
        return redirect("platform_account", account.pk)
    return render(
        request,
        "platforms/account_form.html",
        {"form": form, "account": account},
        status=422 if form.errors else 200,
    )


@workbench(may_use_platforms)
def score_import(request: HttpRequest) -> HttpResponse:
    """Upload the platforms' scores: all rows stored, or none and every bad row listed."""
    form = ImportForm(request.POST or None, request.FILES or None)
    result: list[imports.ScoreImport] = []
    if (
        request.method == "POST"
        and save_form(
            form,
            lambda: result.append(
                imports.import_upload(
                    dealer=request.dealer, by=request.user, file=form.cleaned_data["file"]
                )
            ),
        )
        and not result[0].rejected
    ):
        messages.success(request, _("%(n)s scores imported.") % {"n": result[0].stored})
        return redirect("platforms")
    found = result[0] if result else None
    return render(
        request,
        "platforms/import.html",
        {
            "form": form,
            "result": found,
            "shown": found.rejected[:SHOWN_REJECTED] if found else [],
            "columns": imports.COLUMNS,
        },
        status=422 if form.errors or (found and found.rejected) else 200,
    )


@workbench()
def alert_strip(request: HttpRequest) -> HttpResponse:
    """The dashboard's strip of accounts below their threshold (loaded into it): for those who
    oversee the platforms; empty for everyone else."""
    if not oversees_platforms(request.user, request.dealer.pk):
        return HttpResponse("")
    found = selectors.alerts(request.dealer.pk, visible_accounts(request.user, request.dealer.pk))
    return render(request, "platforms/_alert_strip.html", {"alerts": found})


@workbench(may_see_platforms_hq)
def headquarters_page(request: HttpRequest) -> HttpResponse:
    """Every granted dealer's platform accounts: the latest scores against the threshold and
    the brand average of the platform, those below marked."""
    rows = selectors.headquarters_rows(kpi_dealer_ids(request.user))
    return render(
        request,
        "platforms/headquarters.html",
        {
            "rows": rows,
            "below": sum(1 for row in rows if row.below),
            "kinds": ScoreKind.choices,
        },
    )
