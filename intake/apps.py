from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Intake")

    def ready(self) -> None:
        from intake import holdings as intake_holdings
        from privacy import holdings

        holdings.register(intake_holdings.HOLDING)
