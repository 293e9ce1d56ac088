from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = _("Call center")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from calls import holdings as calls_holdings
        from privacy import holdings

        holdings.register(calls_holdings.HOLDING)
