"""Who works at a dealer and in which roles: add a person, grant roles, set the share of new
leads. Only the general manager and the sales manager change these; each change is checked,
written and logged here. Revoking a role also depends on the person's open leads:
leads.staffing.revoke_role.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import record_change
from accounts.models import Dealer, Membership, Staff
from accounts.roles import Role, may_edit_staff, roles_at
from dcc.errors import InvalidInput, NotPermitted, whole_number_in
from dcc.phone import PhoneKind, normalise_phone

# Headquarters access is granted by the carmaker, not by a dealer.
DEALER_ROLES = tuple(role for role in Role if role is not Role.HEADQUARTERS)
# Roles that receive new leads by assignment, in proportion to their weight.
WEIGHTED_ROLES = frozenset({Role.DCC_AGENT, Role.CONSULTANT})
WEIGHT_RANGE = (1, 10)


def grantable_roles(by: Staff, dealer: Dealer) -> list[Role]:
    """The roles `by` may grant or revoke at `dealer`: only a general manager makes another."""
    if not may_edit_staff(by, dealer):
        return []
    roles = roles_at(by, dealer.pk)
    return [role for role in DEALER_ROLES if role is not Role.GM or Role.GM in roles]


def check_role(by: Staff, dealer: Dealer, role: str, *, field: str) -> Role:
    """The role `by` asks to grant or revoke at `dealer`, or why they may not."""
    if not may_edit_staff(by, dealer):
        raise NotPermitted(_("Only the general manager and the sales manager change staff."))
    if role not in Role.values or role == Role.HEADQUARTERS:
        raise InvalidInput(_("Choose a role."), code="bad_role", field=field)
    if Role(role) not in grantable_roles(by, dealer):
        raise NotPermitted(_("Only a general manager grants or revokes that role."))
    return Role(role)


def _username(raw: str) -> str:
    username = (raw or "").strip()
    if not username:
        raise InvalidInput(_("Enter a username."), code="username_required", field="username")
    try:
        Staff.username_validator(username)
    except ValidationError as error:
        raise InvalidInput(
            " ".join(error.messages), code="bad_username", field="username"
        ) from error
    if len(username) > Staff._meta.get_field("username").max_length:
        raise InvalidInput(_("This username is too long."), code="bad_username", field="username")
    return username


def _mobile(raw: str) -> str:
    if not (raw or "").strip():
        return ""
    number = normalise_phone(raw)
    if number.kind != PhoneKind.MOBILE:
        raise InvalidInput(_("Enter a mobile number."), code="not_mobile", field="mobile")
    return number.number


def add_staff(
    *,
    dealer: Dealer,
    by: Staff,
    username: str,
    display_name: str,
    password: str,
    roles: Iterable[str],
    mobile: str = "",
) -> Staff:
    """A new person who can log in with `password` and holds `roles` at `dealer`."""
    if not may_edit_staff(by, dealer):
        raise NotPermitted(_("Only the general manager and the sales manager change staff."))
    username = _username(username)
    display_name = " ".join((display_name or "").split())
    if not display_name:
        raise InvalidInput(
            _("Enter the person's name."), code="name_required", field="display_name"
        )
    if len(display_name) > Staff._meta.get_field("display_name").max_length:
        raise InvalidInput(_("This name is too long."), code="name_too_long", field="display_name")
    mobile = _mobile(mobile)
    chosen = [check_role(by, dealer, role, field="roles") for role in dict.fromkeys(roles)]
    if not chosen:
        raise InvalidInput(_("Choose at least one role."), code="roles_required", field="roles")
    taken = InvalidInput(
        _("The username “%(username)s” is taken. To give that person a role here, grant it.")
        % {"username": username},
        code="username_taken",
        field="username",
    )
    if Staff.objects.filter(username__iexact=username).exists():
        raise taken
    candidate = Staff(username=username, display_name=display_name, mobile=mobile)
    try:
        validate_password(password or "", user=candidate)
    except ValidationError as error:
        raise InvalidInput(
            " ".join(error.messages), code="weak_password", field="password"
        ) from error
    try:
        with transaction.atomic():
            staff = Staff.objects.create_user(
                username=username, password=password, display_name=display_name, mobile=mobile
            )
            Membership.objects.bulk_create(
                Membership(staff=staff, dealer=dealer, role=role) for role in chosen
            )
    except IntegrityError as error:
        raise taken from error
    record_change(
        dealer=dealer, by=by, what="staff_added", subject=username, detail={"roles": list(chosen)}
    )
    return staff


def grant_role(*, dealer: Dealer, by: Staff, username: str, role: str) -> Membership:
    """Give an existing login a role here (again, if it was revoked)."""
    role = check_role(by, dealer, role, field="role")
    staff = Staff.objects.filter(username=(username or "").strip()).first()
    if staff is None:
        raise InvalidInput(
            _("Nobody has the username “%(username)s”.") % {"username": username},
            code="unknown_username",
            field="username",
        )
    if not staff.is_active:
        raise InvalidInput(
            _("The login of %(name)s is disabled.") % {"name": staff},
            code="staff_disabled",
            field="username",
        )
    with transaction.atomic():
        membership, created = Membership.objects.select_for_update().get_or_create(
            staff=staff, dealer=dealer, role=role
        )
        if not created:
            if membership.is_active:
                raise InvalidInput(
                    _("%(name)s already is %(role)s here.") % {"name": staff, "role": role.label},
                    code="already_granted",
                    field="role",
                )
            membership.is_active = True
            membership.save(update_fields=["is_active"])
    record_change(
        dealer=dealer, by=by, what="role_granted", subject=staff.username, detail={"role": role}
    )
    return membership


def set_assignment_weight(*, membership: Membership, by: Staff, weight: int) -> Membership:
    """How many new leads this agent or consultant gets relative to teammates (2 = twice)."""
    if not may_edit_staff(by, membership.dealer):
        raise NotPermitted(_("Only the general manager and the sales manager change staff."))
    if membership.role not in WEIGHTED_ROLES or not membership.is_active:
        raise InvalidInput(
            _("Only active DCC agents and sales consultants have an assignment weight."),
            code="not_weighted",
            field="weight",
        )
    membership.weight = whole_number_in(weight, WEIGHT_RANGE, field="weight")
    membership.save(update_fields=["weight"])
    record_change(
        dealer=membership.dealer,
        by=by,
        what="weight_set",
        subject=membership.staff.username,
        detail={"role": membership.role, "weight": weight},
    )
    return membership
