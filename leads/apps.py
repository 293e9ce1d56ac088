from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from leads import tallies
        from leads.models import Lead

        # Every saved lead moves its dealer's daily tallies (the models cannot call the
        # tallies, which read them).
        post_save.connect(tallies.count_saved, sender=Lead, dispatch_uid="leads.tallies")
