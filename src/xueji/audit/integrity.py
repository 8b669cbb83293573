"""Verification of the audit trail (`xueji audit verify`): every chain, every checkpoint, and the
witness kept outside the database.

- The checkpoints, in order of number: none missing, each following the previous one's root,
  signed by a known key (retired keys included), its leaves making its root, its purge floor
  allowed by the legal retention.
- The witness file: its signature and root hold, and the database holds its checkpoint (a
  database whose latest checkpoint is older was rolled back or had its tables emptied).
- Every chain, a batch of entries at a time (memory stays constant however long a chain is), from
  its start (the first entry, or the anchor a purge left) to its end: no number missing, each entry
  following the previous one and matching its own hash; and each head a checkpoint or the witness
  sealed is there, with the hash that was sealed (a chain shorter than its sealed head, or
  rewritten under it, is found). The first problem of each chain is reported, naming the chain and
  the entry.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.utils import timezone

from xueji.audit import chain
from xueji.audit.checkpoints import (
    MIN_RETENTION_DAYS,
    checkpoint_signature_problem,
    statement_bytes,
    witness_path,
    witness_read,
)
from xueji.audit.merkle import Tree, heads_root, leaf_bytes
from xueji.audit.models import (
    AuditChain,
    AuditChainHead,
    AuditCheckpoint,
    AuditCheckpointLeaf,
    AuditEntry,
    AuditLegacyAnchor,
    AuditPurge,
)
from xueji.audit.signing import signature_problem

DEFAULT_BATCH = 2000

# The legacy chain's purge entries (written before checkpoints were signed) name their anchor.
LEGACY_PURGE_ACTION = "audit.purge"


def chain_label(key: str) -> str:
    return "legacy" if key == chain.LEGACY_CHAIN else key


@dataclass(frozen=True)
class Problem:
    text: str
    chain: str | None = None  # None: a checkpoint's or the witness's problem
    seq: int | None = None

    def __str__(self) -> str:
        return self.text if self.chain is None else f"chain {chain_label(self.chain)}: {self.text}"


@dataclass
class ChainSummary:
    key: str
    first_seq: int | None = None
    last_seq: int | None = None
    entries: int = 0
    head_hash: str = ""
    anchor_seq: int = 0


@dataclass
class VerifyResult:
    problems: list[Problem] = field(default_factory=list)
    chains: list[ChainSummary] = field(default_factory=list)
    checked: int = 0  # entries whose links verified
    checkpoints: int = 0
    latest: AuditCheckpoint | None = None
    witness: str = ""  # what the witness comparison found

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> str:
        return str(self.problems[0]) if self.problems else ""

    @property
    def bad_seq(self) -> int | None:
        return self.problems[0].seq if self.problems else None

    @property
    def entries(self) -> int:
        return sum(summary.entries for summary in self.chains)


def _missing(first: int, last: int) -> str:
    return (
        f"entry #{first} is missing"
        if first == last
        else f"entries #{first} to #{last} are missing"
    )


@dataclass(frozen=True)
class _Sealed:
    """A head someone sealed: a checkpoint's leaf, the witness's, or the legacy head row."""

    seq: int
    hash: str
    by: str


# ---- checkpoints -------------------------------------------------------------------------------


def _leaves_by_checkpoint() -> Iterator[tuple[int, str, int, str]]:
    yield from (
        AuditCheckpointLeaf.objects.order_by("checkpoint__number", "chain")
        .values_list("checkpoint__number", "chain", "seq", "hash")
        .iterator(chunk_size=DEFAULT_BATCH)
    )


def _verify_checkpoints(
    result: VerifyResult, purges: dict[int, AuditPurge], now: datetime.datetime
) -> dict[str, tuple[int, str]]:
    """Check every checkpoint; return the anchors the last purge left (each chain's head as the
    checkpoint it went through sealed it)."""
    last_purge = max(purges, default=0)
    anchors: dict[str, tuple[int, str]] = {}
    heads: dict[str, tuple[int, str]] = {}
    tree = Tree()
    leaves = _leaves_by_checkpoint()
    pending = next(leaves, None)
    previous: AuditCheckpoint | None = None
    acknowledged: dict[int, datetime.datetime] = {}
    for checkpoint in AuditCheckpoint.objects.order_by("number").iterator(chunk_size=500):
        number = checkpoint.number
        expected = previous.number + 1 if previous is not None else 1
        if number != expected:
            result.problems.append(
                Problem(
                    f"checkpoint #{expected} is missing"
                    if number == expected + 1
                    else f"checkpoints #{expected} to #{number - 1} are missing"
                )
            )
        wanted_prev = previous.root if previous is not None else ""
        if number == expected and checkpoint.prev_root != wanted_prev:
            result.problems.append(
                Problem(f"checkpoint #{number} does not follow checkpoint #{number - 1}")
            )
        while pending is not None and pending[0] < number:
            pending = next(leaves, None)  # leaves of a checkpoint that is not there
        while pending is not None and pending[0] == number:
            _n, key, seq, entry_hash = pending
            before = heads.get(key)
            if before is not None and seq <= before[0]:
                result.problems.append(
                    Problem(
                        f"checkpoint #{number} moves the chain back from #{before[0]} to #{seq}",
                        key,
                        seq,
                    )
                )
            heads[key] = (seq, entry_hash)
            tree.set(key, leaf_bytes(key, seq, entry_hash))
            pending = next(leaves, None)
        if tree.root().hex() != checkpoint.root or len(tree) != checkpoint.tree_size:
            result.problems.append(
                Problem(f"checkpoint #{number}: its leaves do not make its signed root")
            )
        signature = checkpoint_signature_problem(checkpoint)
        if signature:
            result.problems.append(Problem(f"checkpoint #{number}: {signature}"))
        floor = checkpoint.purged_through
        before_floor = previous.purged_through if previous is not None else 0
        if floor < before_floor:
            result.problems.append(
                Problem(f"checkpoint #{number} states an earlier purge than the one before it")
            )
        elif floor > before_floor:
            acknowledged.setdefault(floor, checkpoint.at)
            if floor not in purges:
                result.problems.append(
                    Problem(
                        f"checkpoint #{number} states a purge through checkpoint #{floor} that "
                        "is not recorded"
                    )
                )
        if number == last_purge:
            anchors = dict(heads)
        previous = checkpoint
        result.checkpoints += 1
    result.latest = previous
    for through, purge in sorted(purges.items()):
        sealed_at = purge.checkpoint.at
        when = acknowledged.get(through, now)
        if sealed_at > when - datetime.timedelta(days=MIN_RETENTION_DAYS):
            days = (when - sealed_at).days
            result.problems.append(
                Problem(
                    f"the purge through checkpoint #{through} removed entries sealed only {days} "
                    f"days before it (they are kept at least {MIN_RETENTION_DAYS} days)"
                )
            )
    return anchors


# ---- the witness -------------------------------------------------------------------------------


def _verify_witness(result: VerifyResult) -> tuple[int, list[tuple[str, int, str]]]:
    """Compare the witness file's checkpoint with the database's; return its number and leaves
    (none when it cannot be trusted)."""
    path = witness_path()
    try:
        witness = witness_read()
    except ValueError as error:
        result.problems.append(Problem(str(error)))
        return 0, []
    if witness is None:
        result.witness = "no witness file" if path is None else f"no witness file at {path}"
        return 0, []
    fields = witness["fields"]
    number = fields["number"]
    problem = signature_problem(fields["key"], statement_bytes(fields), witness["signature"])
    if problem:
        result.problems.append(Problem(f"the witness file's checkpoint #{number}: {problem}"))
        return number, []
    root, size = heads_root(witness["leaves"])
    if root.hex() != fields["root"] or size != fields["tree_size"]:
        result.problems.append(
            Problem(f"the witness file's checkpoint #{number}: its leaves do not make its root")
        )
        return number, []
    latest = result.latest
    if latest is None or latest.number < number:
        held = "no checkpoint" if latest is None else f"checkpoint #{latest.number} as its latest"
        result.problems.append(
            Problem(
                f"the database holds {held}, older than checkpoint #{number} in the witness file "
                f"({path}): checkpoints were removed or the database was rolled back"
            )
        )
    else:
        same = AuditCheckpoint.objects.filter(number=number).first()
        if same is None or same.root != fields["root"] or same.signature != witness["signature"]:
            result.problems.append(
                Problem(f"checkpoint #{number} is not the one in the witness file ({path})")
            )
    result.witness = f"the witness file ({path}) holds checkpoint #{number}"
    return number, list(witness["leaves"])


# ---- chains ------------------------------------------------------------------------------------


def _entries_of(key: str, after: int, batch_size: int) -> Iterator[AuditEntry]:
    while True:
        batch = list(
            AuditEntry.objects.filter(chain=key, seq__gt=after).order_by("seq")[:batch_size]
        )
        if not batch:
            return
        yield from batch
        after = batch[-1].seq


def _legacy_start() -> tuple[int, str, AuditLegacyAnchor | None]:
    anchor = AuditLegacyAnchor.objects.order_by("-first_seq").first()
    if anchor is None:
        return 1, chain.GENESIS_HASH, None
    return anchor.first_seq, anchor.anchor_hash, anchor


def _verify_chain(
    result: VerifyResult,
    key: str,
    anchor: tuple[int, str] | None,
    sealed: list[_Sealed],
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> ChainSummary:
    summary = ChainSummary(key=key)
    legacy_anchor: AuditLegacyAnchor | None = None
    if anchor is not None:
        expected, previous = anchor[0] + 1, anchor[1]
        summary.anchor_seq = anchor[0]
    elif key == chain.LEGACY_CHAIN:
        expected, previous, legacy_anchor = _legacy_start()
        summary.anchor_seq = expected - 1
    else:
        expected, previous = 1, chain.GENESIS_HASH
    witnessed = legacy_anchor is None
    sealed = sorted((s for s in sealed if s.seq > summary.anchor_seq), key=lambda s: s.seq)
    problem: Problem | None = None

    def fail(text: str, seq: int | None) -> None:
        nonlocal problem
        if problem is None:
            problem = Problem(text, key, seq)
            result.problems.append(problem)

    below = AuditEntry.objects.filter(chain=key, seq__lte=summary.anchor_seq).order_by("seq")
    stray = below.values_list("seq", flat=True).first()
    if stray is not None:
        fail(
            f"entry #{stray} lies at or before the chain's anchor #{summary.anchor_seq} (left by "
            "a purge): it was inserted",
            stray,
        )
    position = 0  # the next sealed head to compare
    for entry in _entries_of(key, summary.anchor_seq, batch_size):
        if summary.first_seq is None:
            summary.first_seq = entry.seq
        summary.entries += 1
        summary.last_seq = entry.seq
        summary.head_hash = entry.hash
        if problem is None:
            if entry.seq != expected:
                fail(_missing(expected, entry.seq - 1), expected)
            elif entry.prev_hash != previous:
                fail(
                    f"entry #{entry.seq} does not follow entry #{entry.seq - 1}: one of them was "
                    "replaced or re-hashed",
                    entry.seq,
                )
            elif chain.entry_hash(entry.prev_hash, entry) != entry.hash:
                fail(
                    f"entry #{entry.seq} was altered: its fields no longer match its hash",
                    entry.seq,
                )
        while position < len(sealed) and sealed[position].seq < entry.seq:
            fail(
                f"entry #{sealed[position].seq} that {sealed[position].by} sealed is missing",
                sealed[position].seq,
            )
            position += 1
        while position < len(sealed) and sealed[position].seq == entry.seq:
            if sealed[position].hash != entry.hash:
                fail(
                    f"entry #{entry.seq} is not the one {sealed[position].by} sealed: it was "
                    "replaced",
                    entry.seq,
                )
            position += 1
        if (
            not witnessed
            and legacy_anchor is not None
            and entry.action == LEGACY_PURGE_ACTION
            and entry.detail.get("first_seq") == legacy_anchor.first_seq
            and entry.detail.get("anchor_hash") == legacy_anchor.anchor_hash
        ):
            witnessed = True
        if problem is None:
            result.checked += 1
            if progress is not None and result.checked % batch_size == 0:
                progress(result.checked)
        previous = entry.hash
        expected = entry.seq + 1
    if position < len(sealed):
        last = max(sealed[position:], key=lambda s: s.seq)
        fail(
            f"{_missing(expected, last.seq)}: {last.by} sealed the chain at #{last.seq}",
            expected,
        )
    if not witnessed and legacy_anchor is not None:
        fail(
            f"the anchor at #{legacy_anchor.first_seq} has no matching purge entry in the chain",
            legacy_anchor.first_seq,
        )
    return summary


def chain_verify(
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
    now: datetime.datetime | None = None,
) -> VerifyResult:
    """Verify the checkpoints, the witness and every chain; the result lists every problem found
    (the first of each chain)."""
    now = now or timezone.now()
    result = VerifyResult()
    purges = {
        purge.checkpoint.number: purge
        for purge in AuditPurge.objects.select_related("checkpoint").order_by("at")
    }
    anchors = _verify_checkpoints(result, purges, now)
    sealed: dict[str, list[_Sealed]] = {}
    number, witness = _verify_witness(result)
    for key, seq, entry_hash in witness:
        by = f"the witness file's checkpoint #{number}"
        sealed.setdefault(key, []).append(_Sealed(seq, entry_hash, by))
    legacy_head = AuditChainHead.objects.filter(pk=1).first()
    if legacy_head is not None and legacy_head.seq > 0:
        sealed.setdefault(chain.LEGACY_CHAIN, []).append(
            _Sealed(legacy_head.seq, legacy_head.hash, "the legacy chain head")
        )
    registered = set(AuditChain.objects.values_list("key", flat=True))
    written = set(AuditEntry.objects.order_by().values_list("chain", flat=True).distinct())
    for key in sorted(written - registered):
        if key != chain.LEGACY_CHAIN:
            result.problems.append(
                Problem("it has entries but was never registered: they were inserted", key)
            )
    leaves = set(AuditCheckpointLeaf.objects.order_by().values_list("chain", flat=True).distinct())
    for key in sorted(registered | written | leaves | set(sealed) | set(anchors)):
        heads = [
            _Sealed(seq, entry_hash, f"checkpoint #{number}")
            for seq, entry_hash, number in AuditCheckpointLeaf.objects.filter(chain=key)
            .order_by("seq")
            .values_list("seq", "hash", "checkpoint__number")
        ]
        summary = _verify_chain(
            result, key, anchors.get(key), heads + sealed.get(key, []), batch_size, progress
        )
        result.chains.append(summary)
    if progress is not None:
        progress(result.checked)
    return result


def describe(result: VerifyResult) -> list[str]:
    """The lines `xueji audit verify` prints for an intact trail."""
    lines = []
    for summary in result.chains:
        if summary.entries:
            span = f"#{summary.first_seq} to #{summary.last_seq}; head hash {summary.head_hash}"
        else:
            span = "no entries"
        anchored = f" (after the purge anchor #{summary.anchor_seq})" if summary.anchor_seq else ""
        lines.append(f"  {chain_label(summary.key)}: {summary.entries} entries, {span}{anchored}")
    return lines
