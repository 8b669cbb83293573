"""The audit trail becomes a hash chain, append-only on PostgreSQL.

Existing entries are numbered in the order they were written and chained; the chain head and
retention checkpoints get their tables; on PostgreSQL triggers refuse UPDATE and DELETE of entries
and checkpoints (and DELETE of the head). The one exception: a retention purge (which sets
xueji.audit_purge for its transaction) may delete entries older than the legal floor of 180 days.
"""

import django.utils.timezone
from django.db import migrations, models

from xueji.audit import chain

TRIGGER_SQL = """
CREATE FUNCTION xueji_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_auditentry' THEN
    IF current_setting('xueji.audit_purge', true) = 'on' THEN
      IF OLD.at < now() - interval '180 days' THEN
        RETURN OLD;
      END IF;
    END IF;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
  FOR EACH ROW EXECUTE FUNCTION xueji_audit_refuse_change();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
  FOR EACH ROW EXECUTE FUNCTION xueji_audit_refuse_change();
CREATE TRIGGER audit_head_kept BEFORE DELETE ON audit_auditchainhead
  FOR EACH ROW EXECUTE FUNCTION xueji_audit_refuse_change();
"""

DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS audit_head_kept ON audit_auditchainhead;
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS xueji_audit_refuse_change();
"""


def chain_existing_entries(apps, schema_editor):
    entry_model = apps.get_model("audit", "AuditEntry")
    head_model = apps.get_model("audit", "AuditChainHead")
    previous = chain.GENESIS_HASH
    seq = 0
    for entry in entry_model.objects.select_related("actor").order_by("id").iterator():
        seq += 1
        entry.seq = seq
        entry.actor_username = entry.actor.username if entry.actor else ""
        # inet read back as text keeps a netmask ("10.0.0.1/32").
        entry.ip_address = chain.ip_value((entry.ip_address or "").split("/")[0])
        entry.detail = chain.json_value(entry.detail or {})
        entry.prev_hash = previous
        entry.hash = chain.entry_hash(previous, entry)
        entry.save(
            update_fields=["seq", "actor_username", "ip_address", "detail", "prev_hash", "hash"]
        )
        previous = entry.hash
    head_model.objects.create(id=1, seq=seq, hash=previous)


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(default=0)),
                ("hash", models.CharField(max_length=64)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="audit_head_single")
                ],
            },
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("first_seq", models.BigIntegerField(unique=True)),
                ("anchor_hash", models.CharField(max_length=64)),
                ("purged", models.BigIntegerField()),
                ("cutoff", models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(null=True, verbose_name="number"),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="actor_username",
            field=models.CharField(blank=True, db_index=True, max_length=150),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="actor_role",
            field=models.CharField(blank=True, max_length=24),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="actor_school_id",
            field=models.BigIntegerField(blank=True, db_index=True, null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="actor_division",
            field=models.CharField(blank=True, db_index=True, max_length=6),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="before",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="after",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="time"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="ip_address",
            field=models.CharField(blank=True, max_length=45, null=True, verbose_name="address"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(db_index=True, max_length=64, verbose_name="action"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="object_id",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["object_type", "object_id"], name="audit_entry_object_idx"),
        ),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(unique=True, verbose_name="number"),
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
