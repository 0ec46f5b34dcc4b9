from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from governance.signing import key_rotate


class Command(BaseCommand):
    help = "Make a new Ed25519 key the one that signs releases; old keys stay published so old releases verify."

    def handle(self, *args, **options):
        key_id = key_rotate(keys_dir=Path(settings.DATA_DIR) / "keys")
        self.stdout.write(f"signing key {key_id} is now active; /api/v1/keys/ lists it with the older ones")
