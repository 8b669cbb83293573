"""The federation app's tables.

Every node (the hub and each province) has every table, from the same migrations: one code base,
two roles by settings (xueji.federation.nodes). Which tables a role fills:

- the hub: `IndexEntry` (the national index: blind index of every identity document and student
  number → province and record), `MatchKey` (the sealed matching keys of each record),
  `NationalClaim` ("only once" facts such as an aid payment per child and term), `HubOutbox`
  (messages to the provinces, published to each with a row filter on its destination),
  `NodeState` (what the hub last heard from each node), `CheckpointCopy` (the nodes' signed audit
  checkpoints kept at the hub), `NationalMove` (each record moved between provinces: the flows);
- a province: `Outbox` (messages to the hub, published to it), `PendingReservation` (a
  registration made while the hub could not be reached), `Tombstone` (a number whose record moved
  to another province);
- both: `CrossTransfer`, `CrossStep`, `CrossEvidence` (a transfer between provinces, its chain
  and its sealed documents, one copy on each of its two nodes);
- both: `Inbox` (every message applied, by its idempotency key, in the applying transaction),
  `Acknowledgement` (messages of the outbox the destination said it applied: retention).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.corrections.models import EVIDENCE_MAX_BYTES, EVIDENCE_TYPES


class EntryKind(models.TextChoices):
    DOCUMENT = "document", _("Identity document")
    NUMBER = "number", _("Student number")


class EntryState(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    CONFIRMED = "confirmed", _("Confirmed")


class IndexEntry(models.Model):
    """A number held somewhere in the country (hub). Reserved by a node before its registration
    commits; confirmed by the node's outbox message once it has committed. A reservation never
    confirmed (the node's transaction rolled back) lapses after XUEJI_HUB_RESERVATION_TTL."""

    kind = models.CharField(max_length=8, choices=EntryKind.choices)
    index = models.CharField(max_length=96)
    province = models.CharField(max_length=2)
    record = models.UUIDField()
    school_name = models.CharField(max_length=128, blank=True)
    number_masked = models.CharField(max_length=32, blank=True)
    state = models.CharField(max_length=10, choices=EntryState.choices)
    reserved_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "index"], name="one_holder_per_national_index")
        ]
        indexes = [models.Index(fields=["record"], name="federation_entry_record")]

    def __str__(self) -> str:
        return f"{self.kind} {self.number_masked} → {self.province}"


class MatchKey(models.Model):
    """The sealed matching keys of a record (hub): a blind index of name pinyin, birth date and
    sex, and the blind indexes of the parents' documents; the national duplicate search compares
    them without any plaintext."""

    record = models.UUIDField(primary_key=True)
    province = models.CharField(max_length=2)
    keys_index = models.CharField(max_length=96, db_index=True)
    parents = models.JSONField(default=list)
    school_name = models.CharField(max_length=128, blank=True)
    number_masked = models.CharField(max_length=32, blank=True)
    # Written since the national duplicate search last looked: every write of the keys sets it,
    # the search clears it (xueji.federation.duplicates.hub_duplicates_scan).
    scan_pending = models.BooleanField(default=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["record"],
                condition=models.Q(scan_pending=True),
                name="match_keys_to_scan",
            )
        ]

    def __str__(self) -> str:
        return f"{self.record} ({self.province})"


class NationalClaim(models.Model):
    """A national "only once" fact (hub): the first claim of a key for a purpose wins."""

    purpose = models.CharField(max_length=32)
    key = models.CharField(max_length=128)
    holder = models.CharField(max_length=128)
    province = models.CharField(max_length=2)
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["purpose", "key"], name="one_hub_claim_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.key}"


class Message(models.Model):
    """A message between nodes, written in the transaction of the step it reports (the
    transactional outbox). `key` is its idempotency key; `seq` orders the messages of a stream
    (a record, a transfer)."""

    key = models.UUIDField(primary_key=True, default=uuid.uuid4)
    source = models.CharField(max_length=2)
    destination = models.CharField(max_length=2)
    stream = models.CharField(max_length=120)
    seq = models.BigIntegerField()
    topic = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.source}#{self.seq} {self.topic} → {self.destination}"


class Outbox(Message):
    """Messages from a province to the hub (published by the province, subscribed by the hub)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "stream", "seq"], name="one_outbox_seq_per_stream"
            )
        ]


class HubOutbox(Message):
    """Messages from the hub to a province (published per destination, row filter)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "stream", "seq"], name="one_hubout_seq_per_stream"
            )
        ]


class Inbox(models.Model):
    """A message applied here, written in the transaction that applied it: applied once."""

    key = models.UUIDField(primary_key=True)
    source = models.CharField(max_length=2)
    stream = models.CharField(max_length=120)
    seq = models.BigIntegerField()
    topic = models.CharField(max_length=40)
    applied_at = models.DateTimeField(auto_now_add=True)
    # When this node told the message's source that it applied it (a `federation.ack` message,
    # xueji.federation.retention): the source may then drop its outbox row after the retention.
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "stream", "seq"], name="one_inbox_seq_per_stream"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}#{self.seq} {self.topic}"


class Acknowledgement(models.Model):
    """A message of this node's outbox that its destination has applied (its inbox holds the
    key), as the destination said in a `federation.ack` message: only such a row may be dropped
    from the outbox after the retention (xueji.federation.retention)."""

    key = models.UUIDField(primary_key=True)
    destination = models.CharField(max_length=2)
    acknowledged_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} applied at {self.destination}"


class SequenceCounter(models.Model):
    """The last sequence number of a stream of this node's messages (locked while taken)."""

    source = models.CharField(max_length=130, primary_key=True)  # "<source>:<stream>"
    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.source}: {self.last}"


class PendingState(models.TextChoices):
    PENDING = "pending", _("Waiting for the hub")
    RESERVED = "reserved", _("Reserved at the hub")
    HELD = "held", _("Held by another province: duplicate review")


class PendingReservation(models.Model):
    """A registration committed while the hub could not be reached (province): the reservation
    is sent again until the hub answers; a number the hub finds held elsewhere goes to the
    duplicate review with the holder's province."""

    record = models.UUIDField(unique=True)
    request = models.JSONField()
    state = models.CharField(
        max_length=10, choices=PendingState.choices, default=PendingState.PENDING
    )
    attempts = models.IntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    held_by_province = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "created_at"], name="federation_pending_state")]

    def __str__(self) -> str:
        return f"{self.record} {self.state}"


class NodeState(models.Model):
    """What the hub last heard from a node (kept by a trigger that fires on replicated rows)."""

    province = models.CharField(max_length=2, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_received_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.province}: {self.last_seq}"


class NationalMove(models.Model):
    """A record that moved between provinces (hub): a transfer's final step, written where the
    hub moves the record's numbers in its national index, once per transfer (a replayed message
    adds nothing). The flows between provinces are counted from here, never from the messages,
    which the retention deletes. A merge across provinces is not a move: the child was on two
    rolls by mistake, not going from one province to another."""

    transfer = models.UUIDField(unique=True)
    record = models.UUIDField()
    from_province = models.CharField(max_length=2)
    to_province = models.CharField(max_length=2)
    moved_on = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["moved_on"], name="federation_move_day"),
        ]

    def __str__(self) -> str:
        return f"{self.from_province} → {self.to_province} {self.moved_on}"


class CheckpointCopy(models.Model):
    """A node's signed audit checkpoint, kept at the hub (outside the node's own database)."""

    province = models.CharField(max_length=2)
    checkpoint = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.province} {self.received_at}"


class Tombstone(models.Model):
    """A record that moved to another province (province): its number resolves there."""

    record = models.UUIDField(primary_key=True)
    number_index = models.CharField(max_length=96, db_index=True)
    number_masked = models.CharField(max_length=32)
    province = models.CharField(max_length=2)
    moved_on = models.DateField()
    # A record merged into the child's record in another province (xueji.federation.duplicates):
    # the number resolves to that record, not to this one's id.
    merged_into = models.UUIDField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.number_masked} → {self.province}"


class CrossSide(models.TextChoices):
    RECEIVING = "receiving", _("Receiving province")
    SENDING = "sending", _("Sending province")


class CrossState(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    COMPLETED = "completed", _("Completed: the record has moved")
    REJECTED = "rejected", _("Rejected")
    # The receiving school withdrew its filing: until the sending node (which holds the record)
    # has confirmed it, the transfer is WITHDRAWING on the receiving node; the final approval
    # may still overtake it there (xueji.federation.transfers).
    WITHDRAWING = "withdrawing", _("Withdrawal asked: waiting for the sending province")
    WITHDRAWN = "withdrawn", _("Withdrawn by the receiving school")


# A transfer still under way on a node: one per record.
UNDER_WAY = ("pending", "withdrawing")


class CrossTransfer(models.Model):
    """A transfer between provinces on two nodes (xueji.federation.transfers): one row on the
    receiving node, which filed it, and one, of the same id, on the sending node, which holds
    the record until the final approval. Each node decides its own parties' steps and tells the
    other through the outbox (via the hub); the final approval moves the record."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    side = models.CharField(_("this node's side"), max_length=10, choices=CrossSide.choices)
    state = models.CharField(_("state"), max_length=16, choices=CrossState.choices)
    record = models.UUIDField(_("record"))
    number_masked = models.CharField(_("student number"), max_length=32)
    name_masked = models.CharField(_("name"), max_length=64, blank=True)
    from_province = models.CharField(_("sending province"), max_length=2)
    to_province = models.CharField(_("receiving province"), max_length=2)
    # The schools: a foreign key where the school is on this node, a name and a code always.
    from_school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    from_school_name = models.CharField(_("sending school"), max_length=128, blank=True)
    from_county = models.CharField(max_length=12, blank=True)
    to_school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    to_class = models.ForeignKey(
        "schools.SchoolClass", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    to_school_name = models.CharField(_("receiving school"), max_length=128)
    to_county = models.CharField(max_length=12)
    grade = models.SmallIntegerField(_("grade"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    filed_on = models.DateField(_("filed on"))
    filed_by_name = models.CharField(max_length=150, blank=True)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    refusal = models.CharField(_("reason for the refusal"), max_length=400, blank=True)
    # Sending node: when the receiving node said it holds the record and this node removed its
    # own personal rows of the child (family, growth record) through their apps.
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One transfer under way per record on a node (as one_active_change_per_student).
            models.UniqueConstraint(
                fields=["record"],
                condition=models.Q(state__in=UNDER_WAY),
                name="one_cross_transfer_under_way_per_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number_masked} {self.from_province}→{self.to_province} {self.state}"


class CrossStep(models.Model):
    """One party's step of a cross-province transfer, in order (DOMAIN §5): receiving school,
    county, province, then sending school, county, province. Copied on both nodes."""

    transfer = models.ForeignKey(CrossTransfer, on_delete=models.CASCADE, related_name="steps")
    ordinal = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=8)  # changes.PartyLevel
    side = models.CharField(max_length=8)  # changes.Side: receiver or sender
    division_code = models.CharField(max_length=12, blank=True)
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    party_name = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=10)  # changes.StepState
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["transfer", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "ordinal"], name="one_cross_step_ordinal")
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id} #{self.ordinal} {self.state}"


class CrossEvidence(models.Model):
    """A document the receiving school filed with a transfer between provinces (the guardian's
    written request, supporting documents), checked and sealed as a transfer's in one database
    (xueji.corrections.evidence). The same row, sealed, travels in the filing's message, so
    that the sending node's parties see what they approve; who uploaded it is a name (the
    user is of the receiving node)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transfer = models.ForeignKey(CrossTransfer, on_delete=models.CASCADE, related_name="evidence")
    purpose = models.CharField(max_length=16)  # changes.EvidencePurpose
    file_name = models.CharField(max_length=128)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    sealed = models.TextField()
    uploaded_by_name = models.CharField(max_length=150, blank=True)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["transfer", "uploaded_at", "file_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(size__gte=1, size__lte=EVIDENCE_MAX_BYTES),
                name="cross_evidence_size_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(content_type__in=EVIDENCE_TYPES),
                name="cross_evidence_type_allowed",
            ),
        ]

    def __str__(self) -> str:
        return self.file_name


class CarriedRecord(models.Model):
    """What came with a record from another province and has no table of its own here (its rows
    name the other province's schools and terms): the growth record, the evidence, the former
    placements, kept as the sending node exported them, read-only (receiving node)."""

    record = models.UUIDField(primary_key=True)
    transfer = models.ForeignKey(CrossTransfer, on_delete=models.PROTECT, related_name="+")
    from_province = models.CharField(max_length=2)
    content = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.record} from {self.from_province}"


class NationalOutcome(models.TextChoices):
    DISPUTED = "disputed", _("Disputed: back to both counties")
    MERGING = "merging", _("Being merged")
    MERGED = "merged", _("Merged")
    NOT_SAME = "not_same", _("Not the same child")
    REFUSED = "refused", _("The merge was refused")
    UNDONE = "undone", _("Merge undone")


class NationalDuplicate(models.Model):
    """A pair of records in two provinces that may be one child (hub), found by the national
    duplicate search on the sealed matching keys; each province's part goes to its node's
    review (RemoteDuplicate), whose decisions come back here."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # record_a sorts before record_b: one row per pair.
    record_a = models.UUIDField()
    province_a = models.CharField(max_length=2)
    record_b = models.UUIDField()
    province_b = models.CharField(max_length=2)
    score = models.FloatField()
    contributions = models.JSONField(default=dict)
    decision_a = models.CharField(max_length=16, blank=True)
    decision_b = models.CharField(max_length=16, blank=True)
    # The province each county says keeps the child (where it attends school), with "same".
    keeps_a = models.CharField(max_length=2, blank=True)
    keeps_b = models.CharField(max_length=2, blank=True)
    # Decisions go in rounds: a dispute sends the pair back to both counties for a new round.
    round = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField(max_length=10, choices=NationalOutcome.choices, blank=True)
    keeper_record = models.UUIDField(null=True, blank=True)
    # What the merge changed in the index (the merged record's entries and matching keys).
    undo = models.JSONField(default=dict, blank=True)
    settled_by_name = models.CharField(max_length=150, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="one_national_pair"),
            models.CheckConstraint(
                condition=models.Q(record_a__lt=models.F("record_b")),
                name="national_pair_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province_a}:{self.record_a} ~ {self.province_b}:{self.record_b}"


class RemoteDuplicateState(models.TextChoices):
    PROPOSED = "proposed", _("To be decided")
    SAME = "same", _("The same child")
    NOT_SAME = "not_same", _("Not the same child")
    # After both provinces' decisions (xueji.federation.duplicates' rule):
    DISPUTED = "disputed", _("Disputed: decide again")
    MERGED_AWAY = "merged_away", _("Merged into the other province's record")
    KEPT = "kept", _("The other province's record merged into this one")
    CLOSED = "closed", _("Closed: not merged")
    UNDONE = "undone", _("Merge undone")


OPEN_REMOTE_STATES = (RemoteDuplicateState.PROPOSED, RemoteDuplicateState.DISPUTED)


class RemoteDuplicate(models.Model):
    """This province's part of a pair across provinces (province): the record here and the
    other province's record, known only as the hub describes it (`remote_*`: its id, its
    province, its school and its masked number; xueji.federation.duplicates.RemoteRecord).
    The county of the record here decides."""

    pair = models.UUIDField(primary_key=True)
    record = models.UUIDField(db_index=True)
    county = models.CharField(max_length=6, db_index=True)
    remote_record = models.UUIDField()
    remote_province = models.CharField(max_length=2)
    remote_school_name = models.CharField(max_length=128, blank=True)
    remote_number_masked = models.CharField(max_length=32, blank=True)
    score = models.FloatField(_("score"))
    contributions = models.JSONField(default=dict)
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=RemoteDuplicateState.choices,
        default=RemoteDuplicateState.PROPOSED,
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    # With "same": the province that keeps the child (this one or the other).
    keeps = models.CharField(_("keeps the child"), max_length=2, blank=True)
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # The decision round (a dispute opens another) and the other province's answer, once known.
    round = models.PositiveSmallIntegerField(default=1)
    other_decision = models.CharField(max_length=16, blank=True)
    other_keeps = models.CharField(max_length=2, blank=True)
    other_note = models.CharField(max_length=500, blank=True)
    # The merge's outcome: when, what the record here undoes (records merged away), a refusal.
    settled_at = models.DateTimeField(null=True, blank=True)
    merge_undo = models.JSONField(default=dict, blank=True)
    refusal = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "received_at"]

    def __str__(self) -> str:
        return f"{self.record} ~ {self.remote_province}:{self.remote_record}"
