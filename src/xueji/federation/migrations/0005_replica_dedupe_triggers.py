"""Rows that replication brings a second time are skipped, not refused: after a failover the
subscriptions to and from the promoted node are created again with copy_data (PostgreSQL 15 does
not carry logical slots to a standby, so the new slot starts where the promoted node is, and what
the old slot had not sent comes with the table's copy). Triggers enabled as REPLICA fire only for
rows the apply and table-sync workers write:

- the outboxes (`federation_outbox` at the hub, `federation_huboutbox` at a province): a message
  whose key is already here is skipped (the inbox's keys keep its effect once in any case);
- the head-count rollup (`stats_headcountdelta` at the hub): a row of a key already here
  updates it (the copy brings the node's current figure) instead of failing on the key.

PostgreSQL only."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION federation_skip_known() RETURNS trigger LANGUAGE plpgsql
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
CREATE TRIGGER federation_outbox_skip_known BEFORE INSERT ON federation_outbox
    FOR EACH ROW EXECUTE FUNCTION federation_skip_known();
ALTER TABLE federation_outbox ENABLE REPLICA TRIGGER federation_outbox_skip_known;
CREATE TRIGGER federation_huboutbox_skip_known BEFORE INSERT ON federation_huboutbox
    FOR EACH ROW EXECUTE FUNCTION federation_skip_known();
ALTER TABLE federation_huboutbox ENABLE REPLICA TRIGGER federation_huboutbox_skip_known;

CREATE FUNCTION federation_rollup_upsert() RETURNS trigger LANGUAGE plpgsql
SET search_path = public, pg_catalog AS $$
BEGIN
    UPDATE stats_headcountdelta SET delta = NEW.delta
     WHERE province = NEW.province AND grade = NEW.grade AND sex = NEW.sex
       AND birth_date = NEW.birth_date AND day = NEW.day;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER federation_rollup_upsert BEFORE INSERT ON stats_headcountdelta
    FOR EACH ROW EXECUTE FUNCTION federation_rollup_upsert();
ALTER TABLE stats_headcountdelta ENABLE REPLICA TRIGGER federation_rollup_upsert;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS federation_rollup_upsert ON stats_headcountdelta;
DROP FUNCTION IF EXISTS federation_rollup_upsert();
DROP TRIGGER IF EXISTS federation_outbox_skip_known ON federation_outbox;
DROP TRIGGER IF EXISTS federation_huboutbox_skip_known ON federation_huboutbox;
DROP FUNCTION IF EXISTS federation_skip_known();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)  # no placeholders: format()'s %I stays


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("federation", "0004_cross_province_transfers"),
        ("stats", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
