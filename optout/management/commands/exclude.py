from django.core.management.base import BaseCommand, CommandError

from governance.exceptions import GovernanceError
from optout.services import exclusion_administrative


class Command(BaseCommand):
    help = (
        "Record an administrative exclusion (a legal takedown, say) of repositories or namespaces from a dataset. "
        "It is recorded with an event like any request; the reason stays private."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="dataset slug, or 'all' for every dataset including later ones")
        parser.add_argument("targets", nargs="+", metavar="TARGET", help="repositories (any spelling) or namespaces")
        parser.add_argument("--namespace", action="store_true", help="the targets are owners/groups, not repositories")
        parser.add_argument("--reason", required=True, help="why (private; kept with the exclusion)")

    def handle(self, *args, slug, targets, namespace, reason, **options):
        try:
            request = exclusion_administrative(
                dataset_slug=None if slug == "all" else slug, targets=targets, namespace=namespace, reason=reason
            )
        except GovernanceError as error:
            raise CommandError(str(error)) from None
        for verification in request.verifications.all():
            self.stdout.write(f"excluded {verification.target} ({'every dataset' if slug == 'all' else slug})")
        self.stdout.write(f"recorded as request {request.pk}")
