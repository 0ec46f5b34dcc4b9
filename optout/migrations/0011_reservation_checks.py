# The reservation check's record of each repository (optout/services/reservations.py).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0006_cache_table'),
        ('optout', '0010_imported_records'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReservationCheck',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('commit', models.CharField(blank=True, help_text='The head commit whose reservations were last read', max_length=40)),
                ('checked_at', models.DateTimeField(blank=True, help_text='When the last check ran, read or not', null=True)),
                ('read_at', models.DateTimeField(blank=True, help_text='When the reservation files were last read', null=True)),
                ('next_check_at', models.DateTimeField(blank=True, db_index=True, null=True)),
                ('evidence', models.JSONField(blank=True, default=dict, help_text='commit, reservations (kind, file, line, text, paths), malformed files')),
                ('error', models.CharField(blank=True, help_text='Why the last check could not read the repository', max_length=500)),
                ('failures', models.PositiveIntegerField(default=0, help_text='Checks failed in a row')),
                ('repository', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='reservation_check', to='governance.repository')),
                ('request', models.ForeignKey(blank=True, help_text="The repository's reservation request, made the first time a reservation is found", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reservation_checks', to='optout.optoutrequest')),
            ],
            options={
                'ordering': ['id'],
            },
        ),
    ]
