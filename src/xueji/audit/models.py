import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One audited action: who, when, from where, what, on which object, before and after.

    Entries form a hash chain (xueji.audit.chain): `seq` counts them without gaps, `prev_hash` is
    the previous entry's `hash`, and `hash` covers this entry's fields. On PostgreSQL a trigger
    refuses UPDATE and DELETE (migration 0002); `xueji audit verify` finds what was changed anyway.
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField(_("number"), unique=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    # Who the actor was when they acted: accounts are renamed and memberships move.
    actor_username = models.CharField(max_length=150, blank=True, db_index=True)
    actor_role = models.CharField(max_length=24, blank=True)
    actor_school_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_division = models.CharField(max_length=6, blank=True, db_index=True)
    # Text, not inet: stored exactly as hashed (PostgreSQL would rewrite some IPv6 forms).
    ip_address = models.CharField(_("address"), max_length=45, null=True, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.UUIDField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.UUIDField(default=uuid.uuid4, editable=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["actor", "at"]),
            models.Index(fields=["object_type", "object_id"], name="audit_entry_object_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M} {self.action} {self.object_id or ''}"


class AuditChainHead(models.Model):
    """The one row that holds the chain's last number and hash.

    Appending locks it (SELECT ... FOR UPDATE), so concurrent writers take turns and the chain
    never forks; it also tells `verify` how many entries there must be, so entries removed from
    the end are found too.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_head_single")]

    def __str__(self) -> str:
        return f"head #{self.seq} {self.hash[:12]}…"


class AuditCheckpoint(models.Model):
    """Written by a retention purge: the chain now starts at `first_seq`, whose predecessor (no
    longer kept) had the hash `anchor_hash`. The purge's own audit entry repeats both."""

    created_at = models.DateTimeField(default=timezone.now)
    first_seq = models.BigIntegerField(unique=True)
    anchor_hash = models.CharField(max_length=64)
    purged = models.BigIntegerField()
    cutoff = models.DateTimeField()

    def __str__(self) -> str:
        return f"checkpoint at #{self.first_seq}"
