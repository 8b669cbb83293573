from django.db import migrations


def replan_each_statement(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from xueji.stats import rollup

    for statement in rollup.functions_sql():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    """The rollup's trigger functions plan a large statement for its size (rollup.functions_sql
    says why); 0001 installs them so on a new database, this replaces them on an existing one."""

    dependencies = [("stats", "0001_initial")]

    # Going back keeps these functions: they compute the same rows as the old ones.
    operations = [migrations.RunPython(replan_each_statement, migrations.RunPython.noop)]
