"""Verification of the audit trail's hash chain (`xueji audit verify`).

The chain is walked in order of `seq`, a batch at a time, so memory stays constant however long
the trail is. The first problem found is reported: an entry missing (a gap in the numbers, or
entries missing at the end according to the chain head), an entry whose fields no longer match
its hash (edited), or one that does not follow its predecessor (replaced or re-hashed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xueji.audit import chain
from xueji.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from xueji.audit.services import ACTION_PURGE

DEFAULT_BATCH = 2000


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    head_hash: str
    problem: str = ""
    bad_seq: int | None = None


def _fail(
    checked: int, first: int | None, last: int | None, seq: int | None, why: str
) -> VerifyResult:
    return VerifyResult(
        ok=False,
        checked=checked,
        first_seq=first,
        last_seq=last,
        head_hash="",
        problem=why,
        bad_seq=seq,
    )


def chain_verify(
    *, batch_size: int = DEFAULT_BATCH, progress: Callable[[int], None] | None = None
) -> VerifyResult:
    """Walk the whole chain; the result names the first entry that is broken or missing."""
    head = AuditChainHead.objects.filter(pk=1).first()
    checkpoint = AuditCheckpoint.objects.order_by("-first_seq").first()
    expected = checkpoint.first_seq if checkpoint else 1
    previous = checkpoint.anchor_hash if checkpoint else chain.GENESIS_HASH
    first_seq = expected
    # Entries at or below the head were committed with it; later ones are still being written.
    last_wanted = head.seq if head is not None else None
    if head is None and AuditEntry.objects.exists():
        return _fail(0, None, None, None, "the chain head is missing while entries exist")
    checked = 0
    witnessed = checkpoint is None
    while last_wanted is None or expected <= last_wanted:
        window = AuditEntry.objects.filter(seq__gte=expected, seq__lte=last_wanted or 0)
        batch = list(window.order_by("seq")[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.seq != expected:
                gap = (
                    f"entry #{expected} is missing"
                    if entry.seq == expected + 1
                    else f"entries #{expected} to #{entry.seq - 1} are missing"
                )
                return _fail(checked, first_seq, expected - 1, expected, gap)
            if entry.prev_hash != previous:
                return _fail(
                    checked,
                    first_seq,
                    expected - 1,
                    entry.seq,
                    f"entry #{entry.seq} does not follow entry #{entry.seq - 1}: "
                    "one of them was replaced or re-hashed",
                )
            if chain.entry_hash(entry.prev_hash, entry) != entry.hash:
                return _fail(
                    checked,
                    first_seq,
                    expected - 1,
                    entry.seq,
                    f"entry #{entry.seq} was altered: its fields no longer match its hash",
                )
            if (
                not witnessed
                and checkpoint is not None
                and entry.action == ACTION_PURGE
                and entry.detail.get("first_seq") == checkpoint.first_seq
                and entry.detail.get("anchor_hash") == checkpoint.anchor_hash
            ):
                witnessed = True
            previous = entry.hash
            expected += 1
            checked += 1
        if progress is not None:
            progress(checked)
    last_seq = expected - 1
    if head is not None and head.seq != last_seq:
        missing = (
            f"entry #{expected} is missing"
            if head.seq == expected
            else f"entries #{expected} to #{head.seq} are missing"
        )
        return _fail(checked, first_seq, last_seq, expected, missing)
    if head is not None and head.hash != previous:
        return _fail(
            checked,
            first_seq,
            last_seq,
            last_seq,
            f"entry #{last_seq} is not the one the chain head recorded: it was replaced",
        )
    if not witnessed:
        return _fail(
            checked,
            first_seq,
            last_seq,
            first_seq,
            f"the checkpoint at #{first_seq} has no matching purge entry in the chain",
        )
    return VerifyResult(
        ok=True,
        checked=checked,
        first_seq=first_seq if checked else None,
        last_seq=last_seq if checked else None,
        head_hash=previous,
    )
