"""The roles a person can hold at a dealer, and the teams they form along the DCC line."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    GM = "gm", _("General manager")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    MARKETING_MANAGER = "marketing_manager", _("Marketing manager")
    PLATFORM_SPECIALIST = "platform_specialist", _("Platform specialist")
    DCC_SUPERVISOR = "dcc_supervisor", _("DCC supervisor")
    DCC_AGENT = "dcc_agent", _("DCC agent")
    SHOWROOM_MANAGER = "showroom_manager", _("Showroom manager")
    CONSULTANT = "consultant", _("Sales consultant")
    OWNER_OPS = "owner_ops", _("Owner-operations specialist")
    AUDITOR = "auditor", _("Customer auditor")
    HEADQUARTERS = "headquarters", _("Headquarters")


# Who sees the whole dealer's leads (what each may do to them: leads.stages.SPECS).
DEALER_MANAGERS = frozenset(
    {Role.GM, Role.SALES_MANAGER, Role.MARKETING_MANAGER, Role.SHOWROOM_MANAGER, Role.AUDITOR}
)
DCC_TEAM = frozenset({Role.DCC_SUPERVISOR, Role.DCC_AGENT})
SHOWROOM_TEAM = frozenset({Role.SHOWROOM_MANAGER, Role.CONSULTANT})
# Supervisors approve defeats and reassign leads of their team.
SUPERVISORS = frozenset({Role.GM, Role.SALES_MANAGER, Role.DCC_SUPERVISOR, Role.SHOWROOM_MANAGER})
