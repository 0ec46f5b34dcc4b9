import json
import sys

from django.core.management.base import BaseCommand, CommandError

from audits.policy import Policy
from audits.selectors import verdict_report
from audits.services import ScanError, scan_repository
from governance.exceptions import GovernanceError
from governance.models import Dataset


class Command(BaseCommand):
    help = (
        "Scan repositories (URLs, canonical names or local paths) for licenses now, in this process, "
        "and print their verdicts. Blobs scanned before, anywhere, are not scanned again."
    )

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="+", metavar="SOURCE")
        parser.add_argument("--ref", default="", help="branch, tag or commit SHA (default: the remote HEAD)")
        parser.add_argument(
            "--dataset", action="append", default=[], metavar="SLUG", help="also decide under this dataset's policy"
        )
        parser.add_argument("--deep", action="store_true", help="scan every file, not only the key files")
        parser.add_argument("--json", action="store_true", help="one JSON object a line")

    def handle(self, *args, sources, ref, dataset, deep, **options):
        extra = []
        for slug in dataset:
            try:
                extra.append(Policy.from_dataset(Dataset.objects.get(slug=slug)))
            except Dataset.DoesNotExist:
                raise CommandError(
                    f"no dataset {slug!r}; `manage.py import_inventory {slug} FILE` creates one"
                ) from None
        failed = 0
        for source in sources:
            if not options["json"]:
                self.stderr.write(f"scanning {source} …")
            try:
                outcome = scan_repository(source=source, ref=ref, deep=deep)
            except (ScanError, GovernanceError) as error:
                failed += 1
                self._failure(source, str(error), as_json=options["json"])
                continue
            report = verdict_report(outcome.verdict, scan=outcome.scan, extra_policies=extra)
            report["reused_verdict"] = outcome.reused_verdict
            if options["json"]:
                self.stdout.write(json.dumps(report, sort_keys=True))
            else:
                self.stdout.write(_text(report))
        if failed:
            raise SystemExit(1)

    def _failure(self, source: str, message: str, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps({"source": source, "error": message}, sort_keys=True))
        else:
            self.stderr.write(f"{source}: {message}")
        sys.stdout.flush()


def _text(report: dict) -> str:
    lines = [
        f"{report['repository']} @ {report['commit'][:12]}: {report['classification']}"
        f" — declared {report['declared_license'] or 'nothing'}",
        f"  detected: {', '.join(report['detected_licenses']) or 'nothing'}",
        "  decisions: " + ", ".join(f"{name} → {decision}" for name, decision in sorted(report["decisions"].items())),
        f"  files: {report['files_total']} in the commit, {report['files_scanned']} scanned, "
        f"{report['files_reused']} reused" + (" (unchanged since the last scan)" if report["reused_verdict"] else ""),
    ]
    for reason in report["reasons"]:
        lines.append(f"  - {reason['detail']}")
    return "\n".join(lines)
