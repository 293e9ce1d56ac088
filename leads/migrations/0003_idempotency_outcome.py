from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_ledger_append_only")]

    operations = [
        migrations.AddField(
            model_name="idempotencykey",
            name="outcome",
            field=models.CharField(default="created", max_length=12),
            preserve_default=False,
        ),
    ]
