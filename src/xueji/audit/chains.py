"""Which chain an entry goes to, and how writers of one chain take turns without a global row.

Each transaction appends to exactly one chain: the acting unit's (the county of a school's staff,
the division of a bureau's, "nation" for national staff) or "system" for what no user does (the
daily tick, batches, the command line). The chain chosen by the first entry of a transaction is
kept for its other entries, whoever their actor: a transaction never holds two chains.

Writers of one chain take turns: on PostgreSQL with a transaction-level advisory lock on the
chain's key (no row is locked or updated, so the application needs only INSERT and SELECT on the
trail), then the chain's last entry gives the next number and the previous hash; on SQLite the
write lock every transaction takes when it begins already serialises them. The unique index on
(chain, seq) refuses a second entry with the same number whatever happens. Writers of different
chains never wait for each other.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from xueji.audit import chain
from xueji.audit.actors import ActingAs
from xueji.audit.models import (
    CHAIN_KEY_LENGTH,
    AuditChain,
    AuditCheckpointLeaf,
    AuditEntry,
    AuditPurge,
)

SYSTEM_CHAIN = "system"
NATION_CHAIN = "nation"

# pg_advisory_xact_lock(class, key): the class keeps the trail's locks apart from any other user
# of advisory locks ("XUJI"); the key is 32 bits of the chain key's SHA-256. Two chain keys that
# share a lock only take turns: the numbers come from the chain's own entries.
LOCK_CLASS = 0x58554A49
SEAL_LOCK_KEY = 0


def chain_of(acting: ActingAs | None) -> str:
    """The chain of an actor: their school's county, their bureau's division, the nation; or
    the system chain for no actor (or a user with no place)."""
    if acting is None:
        return SYSTEM_CHAIN
    if acting.county:
        return acting.county
    if acting.division:
        return acting.division
    if acting.school_id is not None:
        # The place lookup did not say the school's county: the school is a chain of its own.
        return f"school-{acting.school_id}"[:CHAIN_KEY_LENGTH]
    return NATION_CHAIN


def lock_key(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:4], "big", signed=True)


class _Choice:
    """The chain a transaction writes to. It is registered as an on-commit callback (which does
    nothing) so that it lives exactly as long as the transaction or savepoint that chose it:
    Django forgets the callbacks of a transaction rolled back and of a savepoint rolled back to."""

    __slots__ = ("key", "token")

    def __init__(self, key: str, token: tuple[int, str | None]) -> None:
        self.key = key
        self.token = token

    def __call__(self) -> None:
        return None


def _outer_token(connection: BaseDatabaseWrapper) -> tuple[int, str | None] | None:
    """What identifies the transaction: its outermost atomic block (a test case's own blocks
    aside) and that block's savepoint. None when only a test case's blocks are open."""
    blocks = connection.atomic_blocks
    savepoints = connection.savepoint_ids
    offset = len(blocks) - len(savepoints)
    for index, block in enumerate(blocks):
        if getattr(block, "_from_testcase", False):
            continue
        position = index - offset
        return (id(block), savepoints[position] if position >= 0 else None)
    return None


def transaction_chain(connection: BaseDatabaseWrapper, wanted: str) -> tuple[str, bool]:
    """The chain this transaction writes to (the one it chose already, else `wanted`), and
    whether it is newly chosen (then its writers' lock is still to be taken)."""
    token = _outer_token(connection)
    if token is None:
        return wanted, True
    memo: Any = getattr(connection, "_xueji_audit_chain", None)
    if (
        isinstance(memo, _Choice)
        and memo.token == token
        and any(pending[1] is memo for pending in connection.run_on_commit)
    ):
        return memo.key, False
    memo = _Choice(wanted, token)
    connection.on_commit(memo)
    connection._xueji_audit_chain = memo  # type: ignore[attr-defined]
    return wanted, True


def chain_lock(connection: BaseDatabaseWrapper, key: str) -> None:
    """Wait for the other writers of the chain until this transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, lock_key(key)])


def purged_through() -> int:
    """The number of the checkpoint through which the trail was last purged (0: never)."""
    number = (
        AuditPurge.objects.order_by("-checkpoint__number")
        .values_list("checkpoint__number", flat=True)
        .first()
    )
    return int(number or 0)


class ChainTruncated(RuntimeError):
    """A chain sealed by a checkpoint has lost its entries, not to a purge: someone removed them.
    Writes to the chain stop until an operator has run `xueji audit verify` and restored them."""


def chain_position(key: str) -> tuple[int, str]:
    """The number and hash of the chain's last entry (0 and the genesis hash for a new chain).
    To be called with the chain's lock held. A chain whose entries were all purged continues from
    the head its last checkpoint sealed; a new chain is registered."""
    last = AuditEntry.objects.filter(chain=key).order_by("-seq").values_list("seq", "hash").first()
    if last is not None:
        return last[0], last[1]
    sealed = (
        AuditCheckpointLeaf.objects.filter(chain=key)
        .order_by("-seq")
        .values_list("seq", "hash", "checkpoint__number")
        .first()
    )
    if sealed is None:
        AuditChain.objects.bulk_create([AuditChain(key=key)], ignore_conflicts=True)
        return 0, chain.GENESIS_HASH
    if sealed[2] > purged_through():
        raise ChainTruncated(
            f"the audit chain {key!r} has no entries while checkpoint #{sealed[2]} sealed it at "
            f"entry #{sealed[0]} and no purge removed them"
        )
    return sealed[0], sealed[1]
