"""Signed checkpoints over every chain of the audit trail, the witness file, and the purge rule.

A checkpoint seals the head (last number and hash) of every chain into a Merkle tree
(xueji.audit.merkle, as RFC 6962 does) and signs, with the suite's algorithm (Ed25519 or SM2)
under a key the database does not hold (xueji.audit.signing), a statement of: its number, its
time, the tree's size and root, the previous checkpoint's root, the checkpoint through which the
trail has been purged, and the key's id. `audit_checkpoint_seal` writes one when a head has
moved since the last (every XUEJI_AUDIT_CHECKPOINT_SECONDS by `xueji audit seal --every`, and at
its shutdown), then copies it, with its leaves, to a file outside the database
(XUEJI_AUDIT_WITNESS_FILE): `xueji audit verify` refuses a database whose latest checkpoint is
older than the witness's.

The purge rule (`purge_anchor`, `purge_bounds`) is written once here and once in SQL, in the
function xueji_audit_purge_through (migration 0003): see PURGE_RULE.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, Case, Count, Max, Min, OuterRef, Subquery, Value, When
from django.utils import timezone

from xueji.audit.chain import at_value, canonical_json
from xueji.audit.chains import LOCK_CLASS, SEAL_LOCK_KEY, purged_through
from xueji.audit.merkle import heads_root
from xueji.audit.models import AuditChain, AuditCheckpoint, AuditCheckpointLeaf, AuditEntry
from xueji.audit.signing import SM2_PREFIX, sign, signature_problem, signing_keys
from xueji.core.suites import ED25519, SM2

# The legal floor: the log is kept at least six months. The PostgreSQL trigger and the purge
# function have it too.
MIN_RETENTION_DAYS = 180

# What the signed statement says it is.
LOG_NAME = "xueji-audit"
STATEMENT_VERSION = 1

PURGE_RULE = """
A purge goes through one checkpoint P: the latest checkpoint whose time `at` is before
now − max(XUEJI_AUDIT_RETENTION_DAYS, 180) days, and only if P's number is above the number of the
checkpoint the last purge went through. It deletes, for each chain C, the entries of C numbered up
to and including C's head as P sealed it (C's leaf in the latest checkpoint numbered ≤ P that has a
leaf for C, i.e. the largest `seq` among C's leaves of checkpoints numbered ≤ P), and nothing
else: in SQL,

    DELETE FROM audit_auditentry e
     USING (SELECT l.chain, max(l.seq) AS seq
              FROM audit_auditcheckpointleaf l
              JOIN audit_auditcheckpoint c ON c.id = l.checkpoint_id
             WHERE c.number <= :P
             GROUP BY l.chain) h
     WHERE e.chain = h.chain AND e.seq <= h.seq;

then records INSERT INTO audit_auditpurge (at, checkpoint_id, purged, retention_days). Every entry
deleted was written before P was sealed, so is older than the retention. Each chain then starts
after P's leaf for it (the anchor: its number and hash are in P's signed tree); checkpoints and
their leaves are kept.
"""


@dataclass(frozen=True)
class Head:
    chain: str
    seq: int
    hash: str

    def leaf(self) -> tuple[str, int, str]:
        return (self.chain, self.seq, self.hash)


def statement_fields(
    *,
    number: int,
    at: str,
    tree_size: int,
    root: str,
    prev_root: str,
    purged_through: int,
    key_id: str,
) -> dict[str, Any]:
    return {
        "log": LOG_NAME,
        "v": STATEMENT_VERSION,
        "number": number,
        "at": at,
        "tree_size": tree_size,
        "root": root,
        "prev_root": prev_root,
        "purged_through": purged_through,
        "key": key_id,
    }


def statement_bytes(fields: dict[str, Any]) -> bytes:
    """What is signed: the canonical JSON of the statement's fields."""
    return canonical_json(fields).encode("utf-8")


def statement_of(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    return statement_fields(
        number=checkpoint.number,
        at=at_value(checkpoint.at),
        tree_size=checkpoint.tree_size,
        root=checkpoint.root,
        prev_root=checkpoint.prev_root,
        purged_through=checkpoint.purged_through,
        key_id=checkpoint.key_id,
    )


def checkpoint_signature_problem(checkpoint: AuditCheckpoint) -> str:
    return signature_problem(
        checkpoint.key_id, statement_bytes(statement_of(checkpoint)), checkpoint.signature
    )


@dataclass(frozen=True)
class SignedBy:
    """A run of checkpoints signed with one key: its algorithm, its id, how many, which."""

    algorithm: str
    key_id: str
    count: int
    first: int
    last: int


def checkpoint_signers() -> list[SignedBy]:
    """Which algorithm and key signed the checkpoints (one aggregate query), the oldest first:
    after a change of suite, the checkpoints of both suites are listed."""
    rows = (
        AuditCheckpoint.objects.annotate(
            sm2=Case(
                When(signature__startswith=SM2_PREFIX, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values("key_id", "sm2")
        .annotate(count=Count("id"), first=Min("number"), last=Max("number"))
        .order_by("first")
    )
    return [
        SignedBy(
            SM2 if row["sm2"] else ED25519,
            row["key_id"],
            *map(int, (row["count"], row["first"], row["last"])),
        )
        for row in rows
    ]


# ---- the heads ---------------------------------------------------------------------------------


def _latest(model: Any, **filters: Any) -> Any:
    return model.objects.filter(chain=OuterRef("key"), **filters).order_by("-seq")


def chain_heads() -> list[tuple[str, int | None, str | None, int | None, str | None]]:
    """Every registered chain with its head (number and hash of its last entry) and the head its
    latest leaf sealed: one query, a correlated look-up per chain on the (chain, seq) indexes."""
    entries = _latest(AuditEntry)
    leaves = _latest(AuditCheckpointLeaf)
    return list(
        AuditChain.objects.annotate(
            head_seq=Subquery(entries.values("seq")[:1]),
            head_hash=Subquery(entries.values("hash")[:1]),
            sealed_seq=Subquery(leaves.values("seq")[:1]),
            sealed_hash=Subquery(leaves.values("hash")[:1]),
        )
        .order_by()
        .values_list("key", "head_seq", "head_hash", "sealed_seq", "sealed_hash")
    )


def sealed_heads(through: int | None = None) -> list[Head]:
    """Every chain's head as checkpoint #through (the latest when None) sealed it: the tree of
    that checkpoint, in the order of the chain keys."""
    leaves = AuditCheckpointLeaf.objects.all()
    if through is not None:
        leaves = leaves.filter(checkpoint__number__lte=through)
    bounds = dict(
        leaves.order_by().values("chain").annotate(last=Max("seq")).values_list("chain", "last")
    )
    found = {
        (chain, seq): entry_hash
        for chain, seq, entry_hash in leaves.filter(seq__in=set(bounds.values()))
        .order_by()
        .values_list("chain", "seq", "hash")
        if bounds.get(chain) == seq
    }
    return [Head(chain, seq, found[(chain, seq)]) for chain, seq in sorted(bounds.items())]


# ---- sealing -----------------------------------------------------------------------------------


@dataclass
class SealResult:
    checkpoint: AuditCheckpoint | None  # None: no head moved since the last checkpoint
    moved: int = 0  # chains whose head moved
    heads: list[Head] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _seal_lock() -> None:
    current = transaction.get_connection()
    if current.vendor == "postgresql":
        with current.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS + 1, SEAL_LOCK_KEY])


def _purge_acknowledged(
    previous: AuditCheckpoint | None, now: datetime.datetime
) -> tuple[int, str]:
    """The purge floor the new checkpoint states: the last purge's, unless its checkpoint is not
    older than the legal floor (then someone recorded a purge the rule does not allow)."""
    floor = purged_through()
    acknowledged = previous.purged_through if previous is not None else 0
    if floor <= acknowledged:
        return acknowledged, ""
    anchor = AuditCheckpoint.objects.filter(number=floor).first()
    limit = now - datetime.timedelta(days=MIN_RETENTION_DAYS)
    if anchor is None or anchor.at >= limit:
        return acknowledged, (
            f"the purge through checkpoint #{floor} is not acknowledged: that checkpoint is not "
            f"older than {MIN_RETENTION_DAYS} days"
        )
    return floor, ""


def audit_checkpoint_seal(*, now: datetime.datetime | None = None) -> SealResult:
    """Seal the heads of every chain into a new signed checkpoint, when one moved since the last
    checkpoint (or a purge is to be acknowledged), and copy it to the witness file. A chain whose
    head went back below what was sealed keeps its sealed head (and a warning says so: run
    `xueji audit verify`)."""
    now = now or timezone.now()
    keys = signing_keys()  # refused keys stop the seal before it starts
    result = SealResult(checkpoint=None)
    with transaction.atomic():
        _seal_lock()
        previous = AuditCheckpoint.objects.order_by("-number").first()
        heads: list[Head] = []
        sealed: dict[str, tuple[int, str]] = {}
        for key, head_seq, head_hash, sealed_seq, sealed_hash in chain_heads():
            if sealed_seq is not None and sealed_hash is not None:
                sealed[key] = (sealed_seq, sealed_hash)
            if head_seq is None or head_hash is None:
                if key in sealed:
                    heads.append(Head(key, *sealed[key]))  # purged down to its anchor
                continue
            if key in sealed and head_seq < sealed[key][0]:
                result.warnings.append(
                    f"chain {key or 'legacy'}: its last entry is #{head_seq}, below #"
                    f"{sealed[key][0]} that a checkpoint sealed; the sealed head is kept"
                )
                heads.append(Head(key, *sealed[key]))
                continue
            heads.append(Head(key, head_seq, head_hash))
        moved = [head for head in heads if sealed.get(head.chain) != (head.seq, head.hash)]
        result.moved = len(moved)
        floor, warning = _purge_acknowledged(previous, now)
        if warning:
            result.warnings.append(warning)
        result.heads = sorted(heads, key=lambda head: head.chain)
        unchanged = previous is not None and floor == previous.purged_through
        if not heads or (not moved and unchanged):
            return result
        root, size = heads_root(head.leaf() for head in heads)
        at = max(now, previous.at) if previous is not None else now
        fields = statement_fields(
            number=previous.number + 1 if previous is not None else 1,
            at=at_value(at),
            tree_size=size,
            root=root.hex(),
            prev_root=previous.root if previous is not None else "",
            purged_through=floor,
            key_id=keys.active_id,
        )
        key_id, signature = sign(statement_bytes(fields))
        checkpoint = AuditCheckpoint.objects.create(
            number=fields["number"],
            at=at,
            tree_size=size,
            root=fields["root"],
            prev_root=fields["prev_root"],
            purged_through=floor,
            key_id=key_id,
            signature=signature,
        )
        AuditCheckpointLeaf.objects.bulk_create(
            AuditCheckpointLeaf(
                checkpoint=checkpoint, chain=head.chain, seq=head.seq, hash=head.hash
            )
            for head in moved
        )
        result.checkpoint = checkpoint
    witness_write(checkpoint, result.heads)
    return result


# ---- the witness file --------------------------------------------------------------------------


def witness_path() -> Path | None:
    """Where the latest signed checkpoint is copied outside the database ("" switches it off)."""
    configured = str(getattr(settings, "XUEJI_AUDIT_WITNESS_FILE", "") or "")
    return Path(configured) if configured else None


def witness_read() -> dict[str, Any] | None:
    """The checkpoint in the witness file (None when there is none); ValueError when the file
    cannot be read as one."""
    path = witness_path()
    if path is None or not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        number = int(data["number"])
        leaves = [(str(c), int(s), str(h)) for c, s, h in data["leaves"]]
        signature = str(data["signature"])
        fields = statement_fields(
            number=number,
            at=str(data["at"]),
            tree_size=int(data["tree_size"]),
            root=str(data["root"]),
            prev_root=str(data["prev_root"]),
            purged_through=int(data["purged_through"]),
            key_id=str(data["key"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"the witness file {path} cannot be read: {error}") from None
    return {"fields": fields, "signature": signature, "leaves": leaves}


def witness_write(checkpoint: AuditCheckpoint, heads: Iterable[Head]) -> Path | None:
    """Copy the checkpoint and its leaves to the witness file, atomically (a temporary file
    renamed over it), readable by its owner only; a witness of a later checkpoint is kept."""
    path = witness_path()
    if path is None:
        return None
    try:
        existing = witness_read()
    except ValueError:
        existing = None
    if existing is not None and existing["fields"]["number"] >= checkpoint.number:
        return path
    data = {
        **statement_of(checkpoint),
        "signature": checkpoint.signature,
        "leaves": [list(head.leaf()) for head in sorted(heads, key=lambda head: head.chain)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def witness_catch_up() -> Path | None:
    """Write the database's latest checkpoint to the witness file when the file holds an older
    one or none (a new witness location), provided its signature holds."""
    latest = AuditCheckpoint.objects.order_by("-number").first()
    if latest is None or checkpoint_signature_problem(latest):
        return None
    return witness_write(latest, sealed_heads(latest.number))


# ---- the purge rule ----------------------------------------------------------------------------


def purge_anchor(*, now: datetime.datetime, retention_days: int) -> AuditCheckpoint | None:
    """The checkpoint a purge now goes through (PURGE_RULE), or None."""
    days = max(retention_days, MIN_RETENTION_DAYS)
    cutoff = now - datetime.timedelta(days=days)
    anchor = AuditCheckpoint.objects.filter(at__lt=cutoff).order_by("-number").first()
    if anchor is None or anchor.number <= purged_through():
        return None
    return anchor


def purge_bounds(through: int) -> dict[str, int]:
    """Per chain, the last entry number a purge through checkpoint #through deletes
    (PURGE_RULE): the chain's head as that checkpoint sealed it."""
    return dict(
        AuditCheckpointLeaf.objects.filter(checkpoint__number__lte=through)
        .order_by()
        .values("chain")
        .annotate(last=Max("seq"))
        .values_list("chain", "last")
    )
