"""Members' pages: the member list, a card with its points ledger (redeem, service visit,
goodwill points), a lead's referrer, and the member programme in the settings area. Views
parse and show; owners.members and owners.referrals decide and write."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dcc.errors import NotFound
from dcc.forms import perform_or_403, save_form
from dcc.phone import mask_phone
from leads.models import Customer
from leads.permissions import get_visible_lead, may_change_settings
from leads.setup.views import SECTIONS
from leads.stages import OPEN_STAGES
from leads.views.common import workbench
from owners import members, referrals
from owners.forms import (
    AdjustForm,
    ProgrammeForm,
    RedeemForm,
    ReferrerForm,
    ServiceVisitForm,
    TierForm,
)
from owners.models import Member, MemberTier, ReferralReward
from owners.permissions import may_name_referrer, reads_everything, works_owners

PAGE_SIZE = 50


@workbench(reads_everything)
def member_list(request: HttpRequest) -> HttpResponse:
    """Every member of the dealer, most lifetime points first; found by card, phone or name."""
    found = Member.objects.filter(dealer=request.dealer).select_related("customer", "tier")
    query = request.GET.get("q", "").strip()[:50]
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        match = Q(card_number__icontains=query) | Q(customer__name__icontains=query)
        match |= Q(customer__name_initials__startswith=query.lower())
        if len(digits) >= 4:
            match |= Q(customer__phone__endswith=digits)
        found = found.filter(match)
    dealer_tiers = members.tiers(request.dealer.pk)
    tier = request.GET.get("tier", "")
    if tier in {str(each.pk) for each in dealer_tiers}:  # else all (never a bad id to the db)
        found = found.filter(tier_id=int(tier))
    page = Paginator(found.order_by("-lifetime_points", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for member in page:
        member.phone = mask_phone(member.customer.phone)
    return render(
        request,
        "owners/members.html",
        {"page": page, "query": query, "tiers": dealer_tiers, "tier": tier},
    )


@workbench(reads_everything)
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(
        Member.objects.select_related("customer", "tier", "vehicle"),
        pk=member_id,
        dealer=request.dealer,
    )
    may_work = works_owners(request.user, request.dealer.pk)
    chosen = request.POST.get("form") if request.method == "POST" else None
    forms = {
        name: form_class(request.POST if chosen == name else None, prefix=name)
        for name, form_class in (
            ("redeem", RedeemForm),
            ("service", ServiceVisitForm),
            ("adjust", AdjustForm),
        )
    }
    if chosen is not None:
        if not may_work or chosen not in forms:
            raise PermissionDenied
        form = forms[chosen]
        perform = {
            "redeem": lambda: members.redeem(member=member, by=request.user, **form.cleaned_data),
            "service": lambda: members.record_service_visit(
                member=member, by=request.user, **form.cleaned_data
            ),
            "adjust": lambda: members.adjust(member=member, by=request.user, **form.cleaned_data),
        }[chosen]
        if save_form(form, perform):
            messages.success(request, _("Points recorded."))
            return redirect("member", member.pk)
    return render(
        request,
        "owners/member.html",
        {
            "member": member,
            "phone": mask_phone(member.customer.phone),
            "entries": members.ledger(member)[:200],
            "referrals": referrals.made_by(member.customer),
            "forms": forms if may_work else {},
        },
        status=422 if any(form.errors for form in forms.values()) else 200,
    )


@workbench(works_owners)
@require_POST
def member_enrol(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Give an owner without a card (a second-hand buyer, say) their card."""
    customer = get_object_or_404(Customer, pk=customer_id, dealer=request.dealer)
    perform_or_403(lambda: members.join(customer=customer, by=request.user))
    messages.success(request, _("Member card issued."))
    return redirect("owner_detail", customer.pk)


# ---------------------------------------------------------------- a lead's referrer


@workbench()
@require_http_methods(["GET", "POST"])
def lead_referral(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The lead page's referrer panel (loaded into it): who referred the lead, or a form to
    name them by phone."""
    try:
        lead = get_visible_lead(request.user, lead_id)
    except NotFound as error:
        raise Http404(error.message) from error
    may_name = may_name_referrer(request.user, lead) and lead.stage in OPEN_STAGES
    form = ReferrerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not may_name:
            raise PermissionDenied
        if save_form(
            form,
            lambda: referrals.name_referrer(
                lead=lead,
                referrer=referrals.find_referrer(
                    lead.dealer_id, form.cleaned_data["referrer_phone"]
                ),
                by=request.user,
            ),
        ):
            form = ReferrerForm()
    referral = referrals.referral_of(lead)
    rewards = (
        ReferralReward.objects.filter(referral=referral).aggregate(
            points=Sum("points"), money=Sum("money")
        )
        if referral
        else {}
    )
    return render(
        request,
        "owners/_lead_referral.html",
        {
            "lead": lead,
            "referral": referral,
            "rewards": rewards,
            "form": form,
            "may_name": may_name and referral is None,
            "may_see_owner": reads_everything(request.user, lead.dealer_id),
        },
        status=422 if form.errors else 200,
    )


# ---------------------------------------------------------------- the programme (settings)


@workbench(may_change_settings)
def programme_settings(request: HttpRequest) -> HttpResponse:
    current = members.programme(request.dealer.pk)
    initial = {
        field: getattr(current, field)
        for field in (
            "purchase_points",
            "event_points",
            "service_points",
            "idle_days",
            "reward_kind",
            "returned_car_rule",
        )
    }
    initial["level_rewards"] = ", ".join(str(n) for n in current.level_rewards)
    chosen = request.POST.get("form") if request.method == "POST" else None
    form = ProgrammeForm(request.POST if chosen == "programme" else None, initial=initial)
    tier_id = request.POST.get("tier", "") if chosen == "tier" else ""
    tier = (
        get_object_or_404(MemberTier, pk=int(tier_id), dealer=request.dealer)
        if tier_id.isdigit()
        else None
    )
    tier_form = TierForm(request.POST if chosen == "tier" else None, prefix="tier")
    if chosen == "programme" and save_form(
        form,
        lambda: members.save_programme(dealer=request.dealer, by=request.user, **form.cleaned_data),
    ):
        messages.success(request, _("Member programme saved."))
        return redirect("settings_members")
    if chosen == "tier" and save_form(
        tier_form,
        lambda: members.save_tier(
            dealer=request.dealer, by=request.user, tier=tier, **tier_form.cleaned_data
        ),
    ):
        messages.success(request, _("Tier saved."))
        return redirect("settings_members")
    dealer_tiers = members.tiers(request.dealer.pk)
    counts = dict(
        Member.objects.filter(dealer=request.dealer)
        .values("tier_id")
        .annotate(n=Count("pk"))
        .values_list("tier_id", "n")
        .order_by()
    )
    for each in dealer_tiers:
        each.member_count = counts.get(each.pk, 0)
    return render(
        request,
        "owners/settings/members.html",
        {
            "sections": SECTIONS,
            "section": "settings_members",
            "form": form,
            "tier_form": tier_form,
            "tiers": dealer_tiers,
        },
        status=422 if form.errors or tier_form.errors else 200,
    )
