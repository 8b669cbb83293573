"""Triggers on the tables logical replication fills, enabled ALWAYS: a trigger on a subscriber's
table fires for rows the apply worker writes only when enabled as REPLICA or ALWAYS (an ordinary
trigger fires for local writes only). At the hub each province's message arriving in
federation_outbox counts into federation_nodestate (what the hub last heard from the node) and
wakes the delivery worker (NOTIFY xueji_federation); at a province the hub's messages arriving in
federation_huboutbox wake it too. PostgreSQL only."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION federation_heard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'federation_outbox' THEN
        INSERT INTO federation_nodestate (province, last_seq, last_message_at, last_received_at)
        VALUES (NEW.source, 1, NEW.created_at, now())
        ON CONFLICT (province) DO UPDATE SET
            last_seq = federation_nodestate.last_seq + 1,
            last_message_at = GREATEST(federation_nodestate.last_message_at, NEW.created_at),
            last_received_at = now();
    END IF;
    PERFORM pg_notify('xueji_federation', NEW.destination);
    RETURN NULL;
END $$;
CREATE TRIGGER federation_outbox_heard AFTER INSERT ON federation_outbox
    FOR EACH ROW EXECUTE FUNCTION federation_heard();
ALTER TABLE federation_outbox ENABLE ALWAYS TRIGGER federation_outbox_heard;
CREATE TRIGGER federation_huboutbox_heard AFTER INSERT ON federation_huboutbox
    FOR EACH ROW EXECUTE FUNCTION federation_heard();
ALTER TABLE federation_huboutbox ENABLE ALWAYS TRIGGER federation_huboutbox_heard;
"""

BACKWARD = """
DROP TRIGGER IF EXISTS federation_outbox_heard ON federation_outbox;
DROP TRIGGER IF EXISTS federation_huboutbox_heard ON federation_huboutbox;
DROP FUNCTION IF EXISTS federation_heard();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("federation", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
