"""Seal the notes of events written before notes were sealed (their chains are rehashed: the
hash now covers the note's seal), and let the triggers through for erasure alone."""

from django.db import migrations


def seal(apps, schema_editor):
    from leads import ledger

    ledger.drop_triggers(schema_editor.connection)
    ledger.seal_notes(apps.get_model("leads", "Event"), apps.get_model("leads", "Lead"))
    ledger.install_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("leads", "0016_sms_and_sealed_notes")]
    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
