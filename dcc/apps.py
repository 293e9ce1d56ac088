from django.apps import AppConfig


class DccConfig(AppConfig):
    name = "dcc"
    verbose_name = "DCC"
