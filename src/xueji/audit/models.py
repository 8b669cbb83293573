import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A chain's key: a division code (a county, or the city, province of a bureau), "nation",
# "system", or "" for the legacy chain.
CHAIN_KEY_LENGTH = 16


class AuditEntry(models.Model):
    """One audited action: who, when, from where, what, on which object, before and after.

    Entries form hash chains, one per acting unit (xueji.audit.chains): `seq` counts a chain's
    entries without gaps, `prev_hash` is the previous entry's `hash` in the same chain, and `hash`
    covers this entry's fields and its chain's key (xueji.audit.chain). Signed checkpoints seal the
    chains' heads (xueji.audit.checkpoints). On PostgreSQL a trigger refuses UPDATE and DELETE
    (migrations 0002, 0003); `xueji audit verify` finds what was changed anyway.
    """

    id = models.BigAutoField(primary_key=True)
    chain = models.CharField(_("chain"), max_length=CHAIN_KEY_LENGTH, default="", blank=True)
    seq = models.BigIntegerField(_("number"))
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # (actor, at) below serves the actor's own index too.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    # Who the actor was when they acted: accounts are renamed and memberships move.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=24, blank=True)
    actor_school_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_division = models.CharField(max_length=6, blank=True)
    # Text, not inet: stored exactly as hashed (PostgreSQL would rewrite some IPv6 forms).
    ip_address = models.CharField(_("address"), max_length=45, null=True, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.UUIDField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.UUIDField(default=uuid.uuid4, editable=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            # Two writers of one chain cannot both append the same number: the chain never forks.
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_entry_chain_seq")
        ]
        # Every audited write in the country inserts here: one index for each way the
        # auditors' search reads (xueji.trail.selectors), no more. The search asks the user
        # case-insensitively, and the action and the division by prefix (pattern operators
        # serve a prefix and an equality alike).
        indexes = [
            models.Index(fields=["actor", "at"]),
            models.Index(fields=["object_type", "object_id"], name="audit_entry_object_idx"),
            models.Index(Upper("actor_username"), name="audit_entry_username_upper"),
            models.Index(
                fields=["action"], opclasses=["varchar_pattern_ops"], name="audit_entry_action"
            ),
            models.Index(
                fields=["actor_division"],
                opclasses=["varchar_pattern_ops"],
                name="audit_entry_division",
            ),
        ]

    def __str__(self) -> str:
        where = self.chain or "legacy"
        return f"{where} #{self.seq} {self.at:%Y-%m-%d %H:%M} {self.action} {self.object_id or ''}"


class AuditChain(models.Model):
    """The chains there are: a row written (INSERT … ON CONFLICT DO NOTHING) with a chain's first
    entry, so that a checkpoint can list every chain and read each one's head."""

    key = models.CharField(max_length=CHAIN_KEY_LENGTH, primary_key=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.key or "legacy"


class AuditCheckpoint(models.Model):
    """The heads of every chain at one moment, sealed into a Merkle tree (RFC 6962) whose root is
    signed with Ed25519 or SM2 (the cryptographic suite's algorithm; an SM2 signature starts
    "sm2:") under a key the database does not hold (xueji.audit.signing).

    The signed statement (xueji.audit.checkpoints.statement) covers the number, the time, the tree
    size and root, the previous checkpoint's root, the checkpoint through which the trail has been
    purged, and the key's id. The leaves are stored as the heads that moved since the previous
    checkpoint (AuditCheckpointLeaf); a checkpoint's tree is every chain's latest leaf up to it.
    """

    number = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    tree_size = models.IntegerField()
    root = models.CharField(max_length=64)
    prev_root = models.CharField(max_length=64, blank=True)
    purged_through = models.BigIntegerField(default=0)
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"checkpoint #{self.number} {self.root[:12]}…"


class AuditCheckpointLeaf(models.Model):
    """A chain's head (its last entry's number and hash) as a checkpoint sealed it, written only
    when the head moved since the chain's previous leaf."""

    checkpoint = models.ForeignKey(AuditCheckpoint, on_delete=models.PROTECT, related_name="leaves")
    chain = models.CharField(max_length=CHAIN_KEY_LENGTH, blank=True)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "chain"], name="audit_leaf_one_per_chain")
        ]
        indexes = [models.Index(fields=["chain", "seq"], name="audit_leaf_chain_seq")]

    def __str__(self) -> str:
        return f"{self.chain or 'legacy'} #{self.seq} in checkpoint {self.checkpoint_id}"


class AuditPurge(models.Model):
    """A retention purge: every entry sealed by `checkpoint` (per chain, its number up to the
    checkpoint's leaf) was removed; each chain now starts after that leaf, its anchor."""

    at = models.DateTimeField(default=timezone.now)
    checkpoint = models.OneToOneField(AuditCheckpoint, on_delete=models.PROTECT)
    purged = models.BigIntegerField()
    retention_days = models.IntegerField()

    def __str__(self) -> str:
        return f"purge through checkpoint {self.checkpoint_id}"


class AuditChainHead(models.Model):
    """The legacy chain's head, kept as it was when the trail was split into several chains: it
    tells `verify` how long the legacy chain must be. Nothing updates it any more."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_head_single")]

    def __str__(self) -> str:
        return f"legacy head #{self.seq} {self.hash[:12]}…"


class AuditLegacyAnchor(models.Model):
    """Written by a retention purge of the legacy chain, before checkpoints were signed: the
    legacy chain starts at `first_seq`, whose predecessor (no longer kept) had the hash
    `anchor_hash`. The purge's own audit entry repeats both."""

    created_at = models.DateTimeField(default=timezone.now)
    first_seq = models.BigIntegerField(unique=True)
    anchor_hash = models.CharField(max_length=64)
    purged = models.BigIntegerField()
    cutoff = models.DateTimeField()

    def __str__(self) -> str:
        return f"legacy anchor at #{self.first_seq}"
