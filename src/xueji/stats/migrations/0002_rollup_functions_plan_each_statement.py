from django.db import migrations


def replan_each_statement(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xueji.stats import rollup

    for statement in rollup.functions_sql():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    """The rollup's trigger functions run their statement with EXECUTE (rollup.functions_sql says
    why); 0001 installs them so on a new database, this replaces them on an existing one."""

    dependencies = [("stats", "0001_initial")]

    # Going back keeps the EXECUTE form: it computes the same rows as the old one.
    operations = [migrations.RunPython(replan_each_statement, migrations.RunPython.noop)]
