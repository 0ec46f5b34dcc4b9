import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.exceptions import GovernanceError
from governance.models import InventoryImport
from governance.services import inventory_import_create, inventory_import_run


class Command(BaseCommand):
    help = (
        "Import a dataset's inventory from JSON Lines, CSV (optionally .gz) or Parquet with a repo_name or "
        "repository column (and optionally commit). Creates the dataset if needed; re-importing changes nothing. "
        "Every refused row is printed with its row number; the others are imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="dataset slug, e.g. the-stack-v2")
        parser.add_argument("file", help="inventory file: .jsonl, .csv (either may end in .gz) or .parquet")

    def handle(self, *args, slug, file, **options):
        path = Path(file).expanduser().resolve()
        try:
            inventory_import = inventory_import_create(
                dataset_slug=slug, source_path=str(path), source_name=Path(file).name, enqueue=False
            )
        except GovernanceError as error:
            raise CommandError(str(error)) from None

        started = time.monotonic()
        last_report = [started]

        def on_row_error(row: int, message: str) -> None:
            self.stderr.write(f"row {row}: {message}")

        def on_progress(current: InventoryImport) -> None:
            now = time.monotonic()
            if now - last_report[0] >= 2 and sys.stderr.isatty():
                last_report[0] = now
                self.stderr.write(
                    f"… {current.progress:.0%} read, {current.rows_read:,} rows, {current.rows_failed:,} refused"
                )

        result = inventory_import_run(import_id=inventory_import.pk, on_row_error=on_row_error, on_progress=on_progress)
        if result.status == InventoryImport.Status.FAILED:
            raise CommandError(
                f"{result.error} ({result.rows_read:,} rows read before that; "
                f"{result.repositories_added:,} repositories added are kept)"
            )
        seconds = time.monotonic() - started
        self.stdout.write(
            f"{slug}: {result.rows_read:,} rows read in {seconds:.1f} s; "
            f"{result.repositories_added:,} repositories added, {result.repositories_updated:,} updated, "
            f"{result.rows_failed:,} rows refused"
        )
