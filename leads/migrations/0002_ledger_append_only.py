"""Make the ledger append-only in the database itself: triggers reject UPDATE and DELETE."""

from django.db import migrations


def install(apps, schema_editor):
    from leads.ledger import install_triggers

    install_triggers(schema_editor.connection)


def drop(apps, schema_editor):
    from leads.ledger import drop_triggers

    drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]
    operations = [migrations.RunPython(install, drop)]
