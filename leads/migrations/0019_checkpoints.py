"""Checkpoints of the ledger: every lead's chain head per dealer, signed outside the database
(leads.checkpoints), append-only like the events."""

import django.db.models.deletion
from django.db import migrations, models


def install(apps, schema_editor):
    from leads.ledger import install_triggers

    install_triggers(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_call_kpis'),
        ('leads', '0018_customer_erased_at'),
    ]

    operations = [
        migrations.CreateModel(
            name='Checkpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.PositiveIntegerField()),
                ('taken_at', models.DateTimeField(verbose_name='taken at')),
                ('leaf_count', models.PositiveIntegerField(verbose_name='leads')),
                ('root', models.CharField(max_length=64)),
                ('algorithm', models.CharField(max_length=16)),
                ('key_id', models.CharField(max_length=64)),
                ('signature', models.CharField(max_length=128)),
                ('prev_hash', models.CharField(max_length=64)),
                ('hash', models.CharField(max_length=64)),
                ('dealer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.dealer')),
            ],
            options={
                'verbose_name': 'ledger checkpoint',
                'verbose_name_plural': 'ledger checkpoints',
                'ordering': ['dealer_id', 'seq'],
            },
        ),
        migrations.CreateModel(
            name='CheckpointHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('lead_id', models.BigIntegerField()),
                ('seq', models.PositiveIntegerField()),
                ('hash', models.CharField(blank=True, max_length=64)),
                ('checkpoint', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='heads', to='leads.checkpoint')),
                ('dealer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.dealer')),
            ],
        ),
        migrations.AddConstraint(
            model_name='checkpoint',
            constraint=models.UniqueConstraint(fields=('dealer', 'seq'), name='checkpoint_dealer_seq_uniq'),
        ),
        migrations.AddConstraint(
            model_name='checkpointhead',
            constraint=models.UniqueConstraint(fields=('checkpoint', 'lead_id', 'dealer'), name='checkpoint_head_lead_uniq'),
        ),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
