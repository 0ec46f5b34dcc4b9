from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance.exceptions import GovernanceError
from governance.mail import mail_links_unprinted
from releases.demo import demo_load


class Command(BaseCommand):
    help = "Load demo data made on the spot: datasets, inventories and local git repositories with real licenses."

    def handle(self, *args, **options):
        try:
            with mail_links_unprinted():
                summary = demo_load()
        except GovernanceError as error:
            raise CommandError(str(error)) from None
        portal = settings.PUBLIC_BASE_URL
        self.stdout.write(
            f"Demo data ready: datasets {', '.join(summary.datasets)}; {summary.rows_read:,} inventory rows read, "
            f"{summary.rows_refused} refused on purpose (see Admin → Inventory imports).\n"
            f"Demo repositories: {summary.repositories_dir} ({summary.scanned} scanned for licenses just now; "
            f"verdicts to review at {portal}/review/licenses/; the scan of demo-owners/half-copied fails on purpose, "
            "so the overview has a failure to show)\n"
            f"Transparency report: {portal}/transparency/  "
            f"maintainers' overview: {portal}/review/\n"
            f"Admin: {portal}/admin/  user {summary.admin_username}  password {summary.admin_password}"
        )
        for description, url in summary.status_pages.items():
            self.stdout.write(f"Demo request, {description}: {url}")
