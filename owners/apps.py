from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OwnersConfig(AppConfig):
    name = "owners"
    verbose_name = _("Owner operations")

    def ready(self) -> None:
        from leads import followers
        from leads.models import EventKind
        from owners.vehicles import on_delivery

        followers.follow(EventKind.DELIVERED, on_delivery)
