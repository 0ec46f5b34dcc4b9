"""Each proof check keeps the URL the owner submitted (`proof_url`), read instead of the clone URL the repository's
row happened to get first; and the real cause of a failed read (`detail`), for maintainers only, since the
status page says just "could not be read"."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def proof_urls_filled(apps, schema_editor):
    """Checks filed before the field existed read their proof where they always did: the repository's clone URL."""
    Verification = apps.get_model("optout", "Verification")
    Repository = apps.get_model("governance", "Repository")
    Verification.objects.filter(proof_repository__isnull=False, proof_url="").update(
        proof_url=Subquery(Repository.objects.filter(pk=OuterRef("proof_repository_id")).values("clone_url")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("optout", "0005_exclusion_lookup"),
        ("governance", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="verification",
            name="proof_url",
            field=models.CharField(
                blank=True,
                help_text="The URL the proof is read from: the one the owner submitted",
                max_length=1200,
            ),
        ),
        migrations.AddField(
            model_name="verification",
            name="detail",
            field=models.CharField(
                blank=True,
                help_text="Why the last check could not read the repository: maintainers only",
                max_length=500,
            ),
        ),
        migrations.RunPython(proof_urls_filled, migrations.RunPython.noop),
    ]
