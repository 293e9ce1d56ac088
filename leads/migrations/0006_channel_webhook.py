# Channel webhooks: the signing secret a platform shares with the dealer, and a per-channel
# request budget.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0005_faster_workbench_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='channel',
            name='webhook_secret',
            field=models.CharField(
                blank=True, default='', editable=False, max_length=128,
                verbose_name='webhook secret',
            ),
        ),
        migrations.AddField(
            model_name='channel',
            name='webhook_rate_per_minute',
            field=models.PositiveIntegerField(
                default=120, verbose_name='webhook requests per minute'
            ),
        ),
    ]
