from django.apps import AppConfig
from django.db.backends.signals import connection_created


class DccSiteConfig(AppConfig):
    name = "dcc_site"
    verbose_name = "DCC"

    def ready(self) -> None:
        from dcc.aggregates import register_sqlite_functions

        connection_created.connect(register_sqlite_functions)
