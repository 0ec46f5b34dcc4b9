from django.core.management.base import BaseCommand, CommandError

from governance.exceptions import GovernanceError
from governance.tokens import pipeline_token_issue


class Command(BaseCommand):
    help = "Create a pipeline token for datasets; it is printed once, last, and stored only as a hash."

    def add_arguments(self, parser):
        parser.add_argument("name", help="what the token is for, e.g. 'nightly build'")
        parser.add_argument("--dataset", action="append", required=True, dest="datasets", metavar="SLUG")

    def handle(self, *args, name, datasets, **options):
        try:
            token, raw = pipeline_token_issue(name=name, dataset_slugs=datasets)
        except GovernanceError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(f"Token {token.prefix}… for {', '.join(sorted(datasets))}. Keep it secret; it is shown once:")
        self.stdout.write(raw)
