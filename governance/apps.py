from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Datasets and repositories"

    def ready(self):
        # Tasks are sent through this app wherever Django runs (web, commands, tests), not Celery's default one;
        # imported here, once settings are loaded, because creating the app reads them.
        import governance.celery  # noqa: F401
