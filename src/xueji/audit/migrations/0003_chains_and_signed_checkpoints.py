"""The audit trail becomes many chains sealed by signed checkpoints.

- Entries get a chain (numbered within it: unique (chain, seq) instead of unique seq). The entries
  already written keep their rows and hashes: they form the legacy chain "" (their hashes cover no
  chain key, which is how the layout tells them apart), registered if there are any.
- The chain head row is no longer updated: it stays as the legacy chain's head.
- The purge anchors of before become AuditLegacyAnchor; AuditChain (the registry of chains),
  AuditCheckpoint, AuditCheckpointLeaf (signed checkpoints and the heads they sealed) and
  AuditPurge (retention purges through a checkpoint) are new.
- On PostgreSQL: UPDATE and DELETE are refused on every table of the trail (the head row too).
  The session switch `xueji.audit_purge` is gone: entries are deleted only inside the function
  xueji_audit_purge_through(checkpoint number, retention days), SECURITY DEFINER and owned by the
  role that runs this migration (the tables' owner), which applies the purge rule
  (xueji.audit.checkpoints.PURGE_RULE) and records the purge. The trigger lets a row go only when
  the function's transaction-local flag is set AND the current user is the tables' owner (as it is
  inside the function): any session can set the flag, so the second condition is what holds once
  the application connects as a role that owns no table.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION xueji_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- PL/pgSQL does not promise to stop at the first false condition: nested, as OLD.at exists
  -- only in the entries' table.
  IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_auditentry' THEN
    IF current_setting('xueji.audit_purging', true) = 'on'
       AND current_user = (SELECT pg_get_userbyid(c.relowner) FROM pg_class c
                            WHERE c.oid = TG_RELID) THEN
      IF OLD.at < now() - interval '180 days' THEN
        RETURN OLD;
      END IF;
    END IF;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS audit_head_kept ON audit_auditchainhead;
CREATE TRIGGER audit_head_kept BEFORE UPDATE OR DELETE ON audit_auditchainhead
  FOR EACH ROW EXECUTE FUNCTION xueji_audit_refuse_change();
CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON audit_auditchain
  FOR EACH ROW EXECUTE FUNCTION xueji_audit_refuse_change();
CREATE TRIGGER audit_signed_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
  FOR EACH ROW EXECUTE FUNCTION xueji_audit_refuse_change();
CREATE TRIGGER audit_leaf_append_only BEFORE UPDATE OR DELETE ON audit_auditcheckpointleaf
  FOR EACH ROW EXECUTE FUNCTION xueji_audit_refuse_change();
CREATE TRIGGER audit_purge_append_only BEFORE UPDATE OR DELETE ON audit_auditpurge
  FOR EACH ROW EXECUTE FUNCTION xueji_audit_refuse_change();
"""

PURGE_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION xueji_audit_purge_through(through bigint, retention_days integer)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  anchor_id bigint;
  anchor_at timestamptz;
  last_purged bigint;
  deleted bigint;
BEGIN
  IF retention_days IS NULL OR retention_days < 180 THEN
    RAISE EXCEPTION 'audit entries are kept at least 180 days, not %', retention_days
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- One purge at a time (the class is xueji.audit.chains.LOCK_CLASS + 2).
  PERFORM pg_advisory_xact_lock(1481984587, 0);
  SELECT c.id, c.at INTO anchor_id, anchor_at FROM audit_auditcheckpoint c
   WHERE c.number = through;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'there is no audit checkpoint #%', through USING ERRCODE = 'no_data_found';
  END IF;
  IF anchor_at >= now() - make_interval(days => retention_days) THEN
    RAISE EXCEPTION 'audit checkpoint #% is not older than % days', through, retention_days
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT coalesce(max(c.number), 0) INTO last_purged
    FROM audit_auditpurge p JOIN audit_auditcheckpoint c ON c.id = p.checkpoint_id;
  IF through <= last_purged THEN
    RETURN 0;
  END IF;
  PERFORM set_config('xueji.audit_purging', 'on', true);
  DELETE FROM audit_auditentry e
   USING (SELECT l.chain, max(l.seq) AS seq
            FROM audit_auditcheckpointleaf l
            JOIN audit_auditcheckpoint c ON c.id = l.checkpoint_id
           WHERE c.number <= through
           GROUP BY l.chain) h
   WHERE e.chain = h.chain AND e.seq <= h.seq;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  PERFORM set_config('xueji.audit_purging', 'off', true);
  INSERT INTO audit_auditpurge (at, checkpoint_id, purged, retention_days)
    VALUES (now(), anchor_id, deleted, retention_days);
  RETURN deleted;
END
$$;
"""

UNDO_SQL = """
DROP FUNCTION IF EXISTS xueji_audit_purge_through(bigint, integer);
DROP TRIGGER IF EXISTS audit_purge_append_only ON audit_auditpurge;
DROP TRIGGER IF EXISTS audit_leaf_append_only ON audit_auditcheckpointleaf;
DROP TRIGGER IF EXISTS audit_signed_checkpoint_append_only ON audit_auditcheckpoint;
DROP TRIGGER IF EXISTS audit_chain_append_only ON audit_auditchain;
DROP TRIGGER IF EXISTS audit_head_kept ON audit_auditchainhead;
CREATE TRIGGER audit_head_kept BEFORE DELETE ON audit_auditchainhead
  FOR EACH ROW EXECUTE FUNCTION xueji_audit_refuse_change();
CREATE OR REPLACE FUNCTION xueji_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


def register_legacy_chain(apps, schema_editor):
    entry_model = apps.get_model("audit", "AuditEntry")
    chain_model = apps.get_model("audit", "AuditChain")
    if entry_model.objects.filter(chain="").exists():
        chain_model.objects.get_or_create(key="")


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TRIGGER_SQL, params=None)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        schema = cursor.fetchone()[0]
    schema_editor.execute(PURGE_FUNCTION_SQL.format(schema=schema), params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNDO_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_hash_chain"),
    ]

    operations = [
        migrations.RenameModel(old_name="AuditCheckpoint", new_name="AuditLegacyAnchor"),
        migrations.CreateModel(
            name="AuditChain",
            fields=[
                ("key", models.CharField(blank=True, max_length=16, primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.BigIntegerField(unique=True)),
                ("at", models.DateTimeField()),
                ("tree_size", models.IntegerField()),
                ("root", models.CharField(max_length=64)),
                ("prev_root", models.CharField(blank=True, max_length=64)),
                ("purged_through", models.BigIntegerField(default=0)),
                ("key_id", models.CharField(max_length=32)),
                ("signature", models.CharField(max_length=100)),
            ],
        ),
        migrations.CreateModel(
            name="AuditCheckpointLeaf",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("chain", models.CharField(blank=True, max_length=16)),
                ("seq", models.BigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                (
                    "checkpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="leaves",
                        to="audit.auditcheckpoint",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["chain", "seq"], name="audit_leaf_chain_seq")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("checkpoint", "chain"), name="audit_leaf_one_per_chain"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="AuditPurge",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                ("purged", models.BigIntegerField()),
                ("retention_days", models.IntegerField()),
                (
                    "checkpoint",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT, to="audit.auditcheckpoint"
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="auditentry",
            name="chain",
            field=models.CharField(blank=True, default="", max_length=16, verbose_name="chain"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(verbose_name="number"),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(fields=("chain", "seq"), name="audit_entry_chain_seq"),
        ),
        migrations.RunPython(register_legacy_chain, migrations.RunPython.noop),
        migrations.RunPython(install, uninstall),
    ]
