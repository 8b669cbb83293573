"""Retention of the messages between nodes (xueji.federation.retention).

- `Acknowledgement`: a message of this node's outbox that its destination said it applied;
- `Inbox.acknowledged_at`: when this node said so to the message's source;
- the REPLICA trigger of migration 0005 on the outboxes also skips a row whose key is in this
  node's inbox: a message applied here whose copy the retention dropped is not brought back by a
  later table copy (`xueji federation resubscribe`, copy_data), with its payload, nor counted
  again in the node's state. PostgreSQL only."""

from django.db import migrations, models

SKIP_APPLIED = """
CREATE OR REPLACE FUNCTION federation_skip_known() RETURNS trigger LANGUAGE plpgsql
SET search_path = public, pg_catalog AS $$
DECLARE
    known boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE key = $1)',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO known USING NEW.key;
    IF known OR EXISTS (SELECT 1 FROM federation_inbox WHERE key = NEW.key) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
"""

SKIP_KNOWN = """
CREATE OR REPLACE FUNCTION federation_skip_known() RETURNS trigger LANGUAGE plpgsql
SET search_path = public, pg_catalog AS $$
DECLARE
    known boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE key = $1)',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO known USING NEW.key;
    IF known THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SKIP_APPLIED, params=None)  # format()'s %I stays


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SKIP_KNOWN, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0008_cross_transfer_evidence_withdrawal"),
    ]

    operations = [
        migrations.CreateModel(
            name="Acknowledgement",
            fields=[
                ("key", models.UUIDField(primary_key=True, serialize=False)),
                ("destination", models.CharField(max_length=2)),
                ("acknowledged_at", models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name="inbox",
            name="acknowledged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(forward, backward),
    ]
