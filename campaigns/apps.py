from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from calls import listeners
        from campaigns import holdings, lines
        from privacy.holdings import register

        listeners.listen("campaigns.lines", lines.credit_call)
        register(holdings.HOLDING)
