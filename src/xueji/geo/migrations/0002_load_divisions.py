from django.db import migrations


def forwards(apps, schema_editor):
    # Imported when the migration runs, not when the loader reads every migration module: the
    # services import the app's current models, which a migration must not depend on to load.
    from xueji.geo.services import load_divisions

    load_divisions(apps.get_model("geo", "Division"), apps.get_model("geo", "EducationBureau"))


class Migration(migrations.Migration):
    dependencies = [("geo", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
