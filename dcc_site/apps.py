from django.apps import AppConfig


class DccSiteConfig(AppConfig):
    name = "dcc_site"
    verbose_name = "DCC"
