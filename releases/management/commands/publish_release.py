import json

from django.core.management.base import BaseCommand, CommandError

from governance.exceptions import GovernanceError
from releases.blobs import blob_listings_run_missing
from releases.publication import release_folder, release_publish


class Command(BaseCommand):
    help = "Publish the next release of a dataset's exclusion list now: files, checksums, signed manifest, changes."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="dataset slug")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--list-blobs",
            action="store_true",
            help="first list the blobs of excluded repositories not listed yet (with git, trees only); "
            "otherwise the periodic sweep does it and the release carries what is listed",
        )

    def handle(self, *args, slug, **options):
        if options["list_blobs"]:
            listed = blob_listings_run_missing(dataset_slug=slug)
            if not options["json"]:
                self.stderr.write(f"listed the blobs of {listed} repositories")
        try:
            release = release_publish(dataset_slug=slug)
        except GovernanceError as error:
            raise CommandError(str(error)) from None
        counts = release.manifest["counts"]
        if options["json"]:
            self.stdout.write(
                _dumps(
                    {
                        "dataset": slug,
                        "version": release.version,
                        "counts": counts,
                        "path": str(release_folder(release)),
                        "key_id": release.manifest["key_id"],
                    }
                )
            )
        else:
            self.stdout.write(
                f"{slug}: release {release.version} with {counts['repositories']:,} repositories, "
                f"{counts['namespaces']:,} namespaces and {counts['blobs']:,} blobs "
                f"(+{counts['added']:,} −{counts['removed']:,} since the previous one) at {release_folder(release)}"
            )


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True)
