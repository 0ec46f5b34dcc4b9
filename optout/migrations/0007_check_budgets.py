"""Proof-check budgets: the round a request is in, and which checks are in flight (optout/budgets.py)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('optout', '0006_proof_url'),
    ]

    operations = [
        migrations.AddField(
            model_name='optoutrequest',
            name='check_round_started_at',
            field=models.DateTimeField(blank=True, help_text='When the current round of proof checks began (its time budget counts from it)', null=True),
        ),
        migrations.AddField(
            model_name='verification',
            name='check_queued_at',
            field=models.DateTimeField(blank=True, help_text='When a check was queued and not yet recorded: it counts as in flight', null=True),
        ),
    ]
