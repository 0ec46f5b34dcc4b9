from django.apps import AppConfig


class OptoutConfig(AppConfig):
    name = "optout"
    verbose_name = "Opt-out requests"
