import json

from django.core.management.base import BaseCommand, CommandError

from governance.exceptions import GovernanceError
from optout.import_formats import FORMATS
from optout.services import optouts_import


class Command(BaseCommand):
    help = (
        "Import the records of an existing opt-out registry as requests in force at once, with their provenance "
        "(source, record id, file sha256, line; the author is kept private). Importing the same file again changes "
        "nothing; records a later file no longer lists are reported, and revoked with --revoke-missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="the registry's name, kept with every record (e.g. bigcode-issues)")
        parser.add_argument("file", help="the export: JSON Lines of issues, or one URL a line")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="file_format")
        parser.add_argument(
            "--dataset", nargs="+", default=None, metavar="SLUG", help="datasets to exclude from; 'all' (the default)"
        )
        parser.add_argument("--dry-run", action="store_true", help="report what would change and write nothing")
        parser.add_argument("--revoke-missing", action="store_true", help="revoke records the file no longer lists")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the summary as JSON")

    def handle(self, *args, source, file, file_format, dataset, dry_run, revoke_missing, as_json, **options):
        slugs = None if not dataset or dataset == ["all"] else dataset
        try:
            summary = optouts_import(
                source=source,
                path=file,
                file_format=file_format,
                dataset_slugs=slugs,
                dry_run=dry_run,
                revoke_missing=revoke_missing,
            )
        except GovernanceError as error:
            raise CommandError(str(error)) from None
        if as_json:
            self.stdout.write(json.dumps(summary.as_dict(), sort_keys=True))
            return
        for problem in summary.failed:
            self.stdout.write(f"line {problem['line']}: failed: {problem['reason']}")
        for problem in summary.skipped:
            self.stdout.write(f"line {problem['line']}: skipped: {problem['reason']}")
        for record_id in summary.missing:
            state = "revoked" if record_id in summary.revoked else "still in force (--revoke-missing revokes it)"
            self.stdout.write(f"record {record_id}: no longer in the file, {state}")
        counts = [
            f"{summary.read} read",
            f"{summary.created} created",
            f"{summary.updated} updated",
            f"{summary.unchanged} unchanged",
            f"{len(summary.missing)} missing",
            f"{len(summary.revoked)} revoked",
            f"{len(summary.failed)} failed",
            f"{len(summary.skipped)} skipped",
        ]
        prefix = "dry run, nothing written: " if dry_run else ""
        self.stdout.write(f"{prefix}{summary.source} ({summary.file_sha256[:12]}): {', '.join(counts)}")
