from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OwnersConfig(AppConfig):
    name = "owners"
    verbose_name = _("Owner operations")

    def ready(self) -> None:
        from leads import followers
        from leads.models import EventKind
        from owners import holdings as owners_holdings
        from owners import members, referrals, vehicles
        from privacy import holdings

        # In this order: the vehicle first, then the buyer's card, then the referrers' rewards.
        followers.follow(EventKind.DELIVERED, vehicles.on_delivery)
        followers.follow(EventKind.DELIVERED, members.on_delivery)
        followers.follow(EventKind.DELIVERED, referrals.on_delivery)
        followers.follow(EventKind.ORDERED, referrals.on_order)
        holdings.register(owners_holdings.HOLDING)
