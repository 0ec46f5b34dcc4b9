from django.apps import AppConfig
from django.conf import settings


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "License audits"

    def worker_preload(self, queues: frozenset[str]) -> None:
        """Load scancode's license index in a worker's parent, before the pool forks, so its children share it."""
        # Here, not at the top: apps.py is imported before the models are (audits.scancode → audits.policy → models).
        from audits import scancode

        # Only a worker that runs scans needs the index (-Q without the scans queue: proof checks, the default queue).
        if settings.AUDITS_PRELOAD_INDEX and settings.SCANS_QUEUE in queues:
            scancode.index_load()
