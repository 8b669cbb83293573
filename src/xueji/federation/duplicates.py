"""Duplicates across provinces (一人多籍 between two provinces).

The hub runs the national duplicate search on the sealed matching keys it holds (`MatchKey`: a
blind index of name pinyin, birth date and sex, and the blind indexes of the parents'
documents; no plaintext): records of two provinces with the same keys make a pair
(`NationalDuplicate`), scored by what agrees. Each province's part of the pair goes to its node
through the outbox (`duplicate.found`, on the hub's stream for that province: applied once, in
order), where the county of the record reviews it (`RemoteDuplicate`).

The other province's record cannot be a foreign key here (identity's `DuplicatePair` joins two
records of one database): it is described by `RemoteRecord`, what the hub knows of it (its id,
province, school and masked number), and the county decides whether the two are one child; the
decision goes back to the hub (`duplicate.decided`), which keeps both provinces' decisions.

A "same" decision says which province keeps the child (the one whose school it attends: "here"
or "there"). Once both provinces have decided, the hub applies one rule (`outcome_of`):

- both "same", naming the same keeping province → the hub tells the other province to merge its
  record into the keeper's (`duplicate.outcome` "merge"). That node marks its record merged
  through the students app (`record_merge_away`: state `merged`, no exit, its open placement
  closed as a local merge closes it, the history kept there read-only with the decision's note)
  and keeps a tombstone that resolves its number to the keeper's province and record; it tells
  the hub (`duplicate.merged`), which moves the merged record's numbers in the national index to
  the keeper (a look-up of either number answers the keeper's province), drops its matching
  keys, and tells the keeping province (`duplicate.outcome` "kept": its pair shows merged). A
  node that cannot merge (the record moved, is in a transfer, already merged, under review)
  answers so, and the pair closes on both sides as refused.
- both "not the same" → closed on both sides, never proposed again.
- one "same" and one "not the same", or both "same" naming different provinces (both keep the
  child, or both give it up) → disputed: the pair goes back to both counties, each seeing the
  other's answer and note, for a new round of decisions; the national bureau on the hub, above
  both provinces (as identity's local pairs go to the bureau above both on disagreement), may
  settle a disputed pair instead (`national_duplicate_settle`: one child kept by one of the two
  provinces, then merged as above, or not the same child), each province shown its ruling.

The county whose record was merged away may undo the merge within 30 days, unless the record
changed since (`remote_duplicate_undo`): its record comes back as it was, the tombstone goes, and
the hub moves the numbers and keys back and tells the keeping province. Every step is a message
through the outbox and inbox (applied once, in order); a decision of an earlier round is ignored.
"""

from __future__ import annotations

import datetime
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import may, require, scope_of
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.core.names import person_name
from xueji.federation.messages import handles, message_send
from xueji.federation.models import (
    OPEN_REMOTE_STATES,
    CrossTransfer,
    IndexEntry,
    MatchKey,
    Message,
    NationalDuplicate,
    NationalOutcome,
    RemoteDuplicate,
    RemoteDuplicateState,
    Tombstone,
)
from xueji.federation.nodes import HUB, this_node
from xueji.identity.services import area_prefix

# A merge across provinces can be undone within this many days (as identity's local merge).
UNDO_DAYS = 30
SAME = RemoteDuplicateState.SAME.value
NOT_SAME = RemoteDuplicateState.NOT_SAME.value
HERE, THERE = "here", "there"

# The weight of each agreement (as identity's matcher weighs its fields).
KEYS_WEIGHT = 7.0  # name pinyin, birth date and sex, sealed together
PARENT_WEIGHT = 3.0  # each parent's document held by both records


@dataclass(frozen=True)
class RemoteRecord:
    """A record of another province, as the hub describes it: enough to name it to a county
    and to find it on its own node, nothing of the child's identity."""

    record: str
    province: str
    school_name: str
    number_masked: str

    def as_json(self) -> dict[str, str]:
        return {
            "record": self.record,
            "province": self.province,
            "school_name": self.school_name,
            "number_masked": self.number_masked,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteRecord:
        return cls(
            record=str(data["record"]),
            province=str(data["province"]),
            school_name=str(data.get("school_name", "")),
            number_masked=str(data.get("number_masked", "")),
        )


def _remote(key: MatchKey) -> RemoteRecord:
    return RemoteRecord(str(key.record), key.province, key.school_name, key.number_masked)


def _score(a: MatchKey, b: MatchKey) -> tuple[float, dict[str, float]]:
    shared = len(set(a.parents or []) & set(b.parents or []))
    contributions = {"name_birth_sex": KEYS_WEIGHT}
    if shared:
        contributions["parents"] = PARENT_WEIGHT * shared
    return sum(contributions.values()), contributions


# Changed keys searched per transaction of a round.
SCAN_BATCH = 5000


def hub_duplicates_scan() -> int:
    """The national duplicate search (hub): every pair of records of two provinces with the same
    matching keys not found before becomes a `NationalDuplicate`, and each province is sent its
    part in the same transaction. Returns how many pairs are new.

    A round searches only the keys written since the last one (`MatchKey.scan_pending`, set by
    every write of a key: a reservation, a move, an undone merge), so it costs what changed, not
    the national index (re-reading every shared key every 30 s grows with the nation). The
    changed rows are taken FOR UPDATE SKIP LOCKED and cleared in the transaction that creates
    their pairs: a crash leaves them pending, and a key written again meanwhile waits for the
    round and is searched again in the next."""
    if not this_node().is_hub:
        return 0
    new = 0
    while True:
        with transaction.atomic():
            pending = list(
                MatchKey.objects.select_for_update(skip_locked=True)
                .filter(scan_pending=True)
                .order_by()
                .values_list("record", "keys_index")[:SCAN_BATCH]
            )
            if not pending:
                return new
            MatchKey.objects.filter(record__in=[record for record, _ in pending]).update(
                scan_pending=False
            )
            for keys_index in sorted({keys for _, keys in pending}):
                new += _pairs_of(keys_index)
        if len(pending) < SCAN_BATCH:
            return new


def _pairs_of(keys_index: str) -> int:
    """The pairs across provinces among the records sharing these keys not proposed before."""
    records = list(MatchKey.objects.filter(keys_index=keys_index).order_by("record"))
    new = 0
    for a, b in itertools.combinations(records, 2):
        if a.province == b.province:
            continue  # one province's own pairs are its identity review's, as before
        with transaction.atomic():
            score, contributions = _score(a, b)
            pair, created = NationalDuplicate.objects.get_or_create(
                record_a=a.record,
                record_b=b.record,
                defaults={
                    "province_a": a.province,
                    "province_b": b.province,
                    "score": score,
                    "contributions": contributions,
                },
            )
            if not created:
                continue
            for local, remote in ((a, b), (b, a)):
                message_send(
                    topic="duplicate.found",
                    payload={
                        "pair": str(pair.pk),
                        "record": str(local.record),
                        "remote": _remote(remote).as_json(),
                        "score": score,
                        "contributions": contributions,
                    },
                    destination=local.province,
                    stream=f"duplicates:{local.province}",
                )
            new += 1
    return new


@handles("duplicate.found")
def on_found(message: Message) -> None:
    """A province's part of a pair across provinces: its county's review."""
    from xueji.students.models import Student

    data = message.payload
    student = Student.objects.select_related("school").filter(pk=data["record"]).first()
    if student is None:
        return  # the record is not here (moved on since): nothing to review here
    remote = RemoteRecord.from_json(data["remote"])
    RemoteDuplicate.objects.get_or_create(
        pair=data["pair"],
        defaults={
            "record": student.pk,
            "county": student.school.county_id,
            "remote_record": remote.record,
            "remote_province": remote.province,
            "remote_school_name": remote.school_name[:128],
            "remote_number_masked": remote.number_masked[:32],
            "score": float(data["score"]),
            "contributions": data.get("contributions", {}),
        },
    )


def outcome_of(
    decision_a: str, keeps_a: str, decision_b: str, keeps_b: str, provinces: tuple[str, str]
) -> tuple[str, str]:
    """The rule once both provinces have decided: (outcome, the keeping province)."""
    if decision_a == NOT_SAME and decision_b == NOT_SAME:
        return NationalOutcome.NOT_SAME, ""
    if decision_a == SAME and decision_b == SAME and keeps_a == keeps_b and keeps_a in provinces:
        return NationalOutcome.MERGING, keeps_a
    return NationalOutcome.DISPUTED, ""  # "same" against "not the same", or two keepers / none


def _sides(pair: NationalDuplicate) -> list[tuple[str, str, str, str, str]]:
    """(province, record, decision, keeps, the other side's index) of each side."""
    return [
        (pair.province_a, str(pair.record_a), pair.decision_a, pair.keeps_a, "b"),
        (pair.province_b, str(pair.record_b), pair.decision_b, pair.keeps_b, "a"),
    ]


def _tell(pair: NationalDuplicate, province: str, outcome: str, **extra: Any) -> None:
    """The hub's word on the pair to one province (its duplicates stream: after the pair's part)."""
    message_send(
        topic="duplicate.outcome",
        payload={"pair": str(pair.pk), "outcome": outcome, "round": pair.round, **extra},
        destination=province,
        stream=f"duplicates:{province}",
    )


def _answer(pair: NationalDuplicate, side: str) -> dict[str, str]:
    """A province's answer on the pair, as the other province is shown it."""
    notes = pair.undo.get("notes", {}) if isinstance(pair.undo, dict) else {}
    return {
        "decision": getattr(pair, f"decision_{side}"),
        "keeps": getattr(pair, f"keeps_{side}"),
        "note": str(notes.get(side, "")),
    }


def _settle(pair: NationalDuplicate, keeper: str, outcome: str) -> None:
    """Apply the rule's outcome (hub): merge, or each province told the other's answer."""
    answers = {"a": _answer(pair, "a"), "b": _answer(pair, "b")}
    if outcome == NationalOutcome.MERGING:
        keeper_side = "a" if keeper == pair.province_a else "b"
        keeper_record = pair.record_a if keeper_side == "a" else pair.record_b
        absorbed_province = pair.province_b if keeper_side == "a" else pair.province_a
        key = MatchKey.objects.filter(record=keeper_record).first()
        pair.outcome = NationalOutcome.MERGING
        pair.keeper_record = keeper_record
        pair.save(update_fields=["outcome", "keeper_record"])
        _tell(
            pair,
            absorbed_province,
            "merge",
            other=answers[keeper_side],
            keeper_province=keeper,
            keeper_record=str(keeper_record),
            keeper_number_masked=key.number_masked if key else "",
            keeper_school_name=key.school_name if key else "",
        )
        return
    for province, _record, _decision, _keeps, other in _sides(pair):
        _tell(pair, province, str(outcome), other=answers[other])
    pair.outcome = outcome
    if outcome == NationalOutcome.DISPUTED:
        pair.round += 1
        pair.decision_a = pair.decision_b = pair.keeps_a = pair.keeps_b = ""
    else:
        pair.settled_at = timezone.now()
    pair.save()


@handles("duplicate.decided")
def on_decided(message: Message) -> None:
    """The hub keeps each province's decision on the pair; once both have decided, the rule."""
    data = message.payload
    pair = NationalDuplicate.objects.select_for_update().filter(pk=data["pair"]).first()
    if pair is None or int(data.get("round", 1)) != pair.round:
        return  # unknown, or a decision of a round a dispute has closed
    if pair.outcome not in ("", NationalOutcome.DISPUTED):
        return  # settled already: a late message changes nothing
    side = "a" if str(pair.record_a) == str(data["record"]) else "b"
    decision = str(data["decision"])
    keeps = str(data.get("keeps", "")) if decision == SAME else ""
    setattr(pair, f"decision_{side}", decision)
    setattr(pair, f"keeps_{side}", keeps)
    notes = dict(pair.undo.get("notes", {})) if isinstance(pair.undo, dict) else {}
    notes[side] = str(data.get("note", ""))[:500]
    pair.undo = {**pair.undo, "notes": notes}
    pair.save(update_fields=["decision_a", "decision_b", "keeps_a", "keeps_b", "undo"])
    if pair.decision_a and pair.decision_b:
        outcome, keeper = outcome_of(
            pair.decision_a,
            pair.keeps_a,
            pair.decision_b,
            pair.keeps_b,
            (pair.province_a, pair.province_b),
        )
        _settle(pair, keeper, outcome)


def _absorbed(pair: NationalDuplicate) -> tuple[str, str]:
    """(record, province) of the record merged away."""
    if str(pair.keeper_record) == str(pair.record_a):
        return str(pair.record_b), pair.province_b
    return str(pair.record_a), pair.province_a


def _keeper_province(pair: NationalDuplicate) -> str:
    return pair.province_a if str(pair.keeper_record) == str(pair.record_a) else pair.province_b


@handles("duplicate.merged")
def on_merged(message: Message) -> None:
    """The province merged its record away (hub): the national index moves the merged record's
    numbers to the keeper, its matching keys go, and the keeping province is told; or it could
    not merge, and the keeping province is told so."""
    data = message.payload
    pair = NationalDuplicate.objects.select_for_update().filter(pk=data["pair"]).first()
    if pair is None or pair.outcome != NationalOutcome.MERGING:
        return
    keeper_province = _keeper_province(pair)
    absorbed, _province = _absorbed(pair)
    absorbed_answer = _answer(pair, "a" if absorbed == str(pair.record_a) else "b")
    if not data.get("ok"):
        pair.outcome = NationalOutcome.REFUSED
        pair.settled_at = timezone.now()
        pair.save(update_fields=["outcome", "settled_at"])
        _tell(
            pair,
            keeper_province,
            "refused",
            code=str(data.get("code", "")),
            other=absorbed_answer,
        )
        return
    keeper = MatchKey.objects.filter(record=str(pair.keeper_record)).first()
    entries = list(IndexEntry.objects.select_for_update().filter(record=absorbed))
    key = MatchKey.objects.filter(record=absorbed).first()
    pair.undo = {
        **pair.undo,
        "entries": [
            {
                "id": entry.pk,
                "province": entry.province,
                "school_name": entry.school_name,
                "number_masked": entry.number_masked,
            }
            for entry in entries
        ],
        "match_key": None
        if key is None
        else {
            "province": key.province,
            "keys_index": key.keys_index,
            "parents": key.parents,
            "school_name": key.school_name,
            "number_masked": key.number_masked,
        },
    }
    IndexEntry.objects.filter(pk__in=[entry.pk for entry in entries]).update(
        province=keeper_province,
        record=pair.keeper_record,
        school_name=keeper.school_name if keeper else "",
        number_masked=keeper.number_masked if keeper else "",
    )
    MatchKey.objects.filter(record=absorbed).delete()
    pair.outcome = NationalOutcome.MERGED
    pair.settled_at = timezone.now()
    pair.save(update_fields=["undo", "outcome", "settled_at"])
    _tell(
        pair,
        keeper_province,
        "kept",
        other=absorbed_answer,
        merged_record=absorbed,
        merged_number_masked=key.number_masked if key else "",
    )


@handles("duplicate.unmerged")
def on_unmerged(message: Message) -> None:
    """The merged record's county undid the merge (hub): the numbers and keys move back."""
    pair = NationalDuplicate.objects.select_for_update().filter(pk=message.payload["pair"]).first()
    if pair is None or pair.outcome != NationalOutcome.MERGED:
        return
    absorbed, _province = _absorbed(pair)
    for entry in pair.undo.get("entries", []):
        IndexEntry.objects.filter(pk=entry["id"]).update(
            province=entry["province"],
            record=absorbed,
            school_name=entry["school_name"],
            number_masked=entry["number_masked"],
        )
    key = pair.undo.get("match_key")
    if key:
        MatchKey.objects.update_or_create(record=absorbed, defaults={**key, "scan_pending": True})
    pair.outcome = NationalOutcome.UNDONE
    pair.save(update_fields=["outcome"])
    _tell(pair, _keeper_province(pair), "undone")


@handles("duplicate.outcome")
def on_outcome(message: Message) -> None:
    """The hub's word on a pair (province): merge the record here, the other record merged into
    the one here, a dispute to decide again, or the pair closed."""
    data = message.payload
    row = RemoteDuplicate.objects.select_for_update().filter(pk=data["pair"]).first()
    outcome = str(data["outcome"])
    if row is None:
        if outcome == "merge":  # the part never reached a record here: the hub must know
            _merged_reply(str(data["pair"]), "", ok=False, code="record_not_here")
        return
    if "other" in data:  # the other province's answer, shown beside this county's
        other = data["other"] or {}
        row.other_decision = str(other.get("decision", ""))[:16]
        row.other_keeps = str(other.get("keeps", ""))[:2]
        row.other_note = str(other.get("note", ""))[:500]
    now = timezone.now()
    if outcome == "merge":
        _merge_here(row, data)
    elif outcome == NationalOutcome.DISPUTED:
        row.state = RemoteDuplicateState.DISPUTED
        row.round = int(data["round"]) + 1
    elif outcome == NationalOutcome.NOT_SAME:
        row.state = RemoteDuplicateState.NOT_SAME
        row.settled_at = now
    elif outcome == "refused":
        row.state = RemoteDuplicateState.CLOSED
        row.refusal = str(data.get("code", ""))[:200]
        row.settled_at = now
    elif outcome in ("kept", "undone"):
        _kept_here(row, data, undone=outcome == "undone")
    row.save()
    audit_record(
        actor=None,
        action="federation.remote_duplicate_outcome",
        object_type="remote_duplicate",
        object_id=row.pk,
        detail={"record": str(row.record), "outcome": outcome, "state": row.state},
    )


def _merged_reply(pair: str, record: str, *, ok: bool, code: str = "") -> None:
    message_send(
        topic="duplicate.merged",
        payload={"pair": pair, "record": record, "ok": ok, "code": code},
        destination=HUB,
        stream=f"duplicates:{pair}",
    )


def _merge_refusal(student: Any) -> str:
    from xueji.students.models import UNREGISTERED_STATES, RecordState

    if student is None:
        return "record_not_here"
    if student.state == RecordState.MERGED:
        return "already_merged"
    if student.state in UNREGISTERED_STATES:
        return "under_review"
    if Tombstone.objects.filter(record=student.pk).exists():
        return "record_moved"
    if CrossTransfer.objects.filter(
        record=student.pk, state__in=("pending", "withdrawing")
    ).exists():
        return "transfer_pending"
    return ""


def _merge_here(row: RemoteDuplicate, data: dict[str, Any]) -> None:
    """The record here is merged into the keeper's, in the other province."""
    from xueji.students.merge import record_merge_away
    from xueji.students.models import Student

    student = Student.objects.select_for_update().filter(pk=row.record).first()
    code = _merge_refusal(student)
    if code or student is None:
        row.state = RemoteDuplicateState.CLOSED
        row.refusal = code
        row.settled_at = timezone.now()
        _merged_reply(str(row.pk), str(row.record), ok=False, code=code)
        return
    on = timezone.localdate()
    number_index, number_masked = student.number_index, student.number_masked
    keeper_province = str(data["keeper_province"])
    row.merge_undo = record_merge_away(
        actor=None,
        student=student,
        on=on,
        detail={
            "pair": str(row.pk),
            "into": str(data.get("keeper_number_masked", "")),
            "province": keeper_province,
            "school": str(data.get("keeper_school_name", ""))[:128],
            "note": row.note,
            "other_note": row.other_note,
        },
    )
    Tombstone.objects.update_or_create(
        record=student.pk,
        defaults={
            "number_index": number_index,
            "number_masked": number_masked,
            "province": keeper_province,
            "moved_on": on,
            "merged_into": data["keeper_record"],
        },
    )
    row.state = RemoteDuplicateState.MERGED_AWAY
    row.settled_at = timezone.now()
    _merged_reply(str(row.pk), str(row.record), ok=True)


def _kept_here(row: RemoteDuplicate, data: dict[str, Any], *, undone: bool) -> None:
    """The other province's record was merged into the one here (or that merge undone)."""
    from xueji.students.merge import record_merged_from_elsewhere
    from xueji.students.models import Student

    row.state = RemoteDuplicateState.UNDONE if undone else RemoteDuplicateState.KEPT
    row.settled_at = timezone.now()
    student = Student.objects.select_for_update().filter(pk=row.record).first()
    if student is None:
        return
    record_merged_from_elsewhere(
        actor=None,
        student=student,
        on=timezone.localdate(),
        detail={
            "pair": str(row.pk),
            "other": row.remote_number_masked,
            "province": row.remote_province,
        },
        undone=undone,
    )


# ---- the county's review on a province's node ----------------------------------------------


def _prefix(user: Any, action: str) -> str | None:
    """The county-code prefix of the user's area for `action` ("" for the nation), or None."""
    scope = scope_of(user)
    if scope is None or not may(scope, action):
        return None
    return area_prefix(scope)  # None for a school's scope, as identity's own pairs


def remote_duplicates_visible(user: Any) -> models.QuerySet[RemoteDuplicate]:
    prefix = _prefix(user, Action.DUPLICATE_VIEW)
    if prefix is None:
        return RemoteDuplicate.objects.none()
    return RemoteDuplicate.objects.filter(county__startswith=prefix)


def _pair_in(pairs: models.QuerySet[Any], pair: Any) -> Any:
    """The pair of `pairs` with this id (text or UUID); a malformed or unseen one is no pair."""
    try:
        key = uuid.UUID(str(pair))
    except ValueError:
        key = None
    found = pairs.filter(pk=key).first() if key else None
    if found is None:
        raise NotFound("not_found", _("No such pair."))
    return found


def remote_duplicate_get(user: Any, pair: Any) -> RemoteDuplicate:
    found: RemoteDuplicate = _pair_in(remote_duplicates_visible(user), pair)
    return found


def may_decide_remote(user: Any, pair: RemoteDuplicate) -> bool:
    prefix = _prefix(user, Action.DUPLICATE_DECIDE)
    return (
        prefix is not None and pair.county.startswith(prefix) and pair.state in OPEN_REMOTE_STATES
    )


def may_undo_remote(user: Any, pair: RemoteDuplicate) -> bool:
    """The county of a record merged away may undo the merge within UNDO_DAYS."""
    prefix = _prefix(user, Action.DUPLICATE_DECIDE)
    return (
        prefix is not None
        and pair.county.startswith(prefix)
        and pair.state == RemoteDuplicateState.MERGED_AWAY
        and pair.settled_at is not None
        and timezone.now() - pair.settled_at <= datetime.timedelta(days=UNDO_DAYS)
    )


def _required(field: str, message: Any, code: str) -> FieldErrors:
    from django.core.exceptions import ValidationError

    return FieldErrors({field: [ValidationError(message, code=code)]})


def remote_duplicate_decide(
    *,
    actor: Any,
    pair: Any,
    same: bool,
    keeps: str = "",
    note: str = "",
    on: datetime.date | None = None,
) -> RemoteDuplicate:
    """The county of the record here decides whether the two records are one child and, if so,
    which province keeps it (`keeps`: "here" or "there", where the child attends school); the
    hub is told, and once both provinces have decided it applies the rule (module docstring)."""
    found = remote_duplicate_get(actor, pair)
    note = (note or "").strip()
    with transaction.atomic():
        row = RemoteDuplicate.objects.select_for_update().get(pk=found.pk)
        if row.state not in OPEN_REMOTE_STATES:
            raise Conflict("pair_decided", _("This pair has already been decided."))
        if not may_decide_remote(actor, row):
            raise Conflict("not_your_pair", _("Only the record's county decides this pair."))
        if same and keeps not in (HERE, THERE):
            raise _required(
                "keeps",
                _("Say which province keeps the child: the one whose school it attends."),
                "required",
            )
        if same and not note:
            raise _required(
                "note", _("Say how the child will be kept in one province."), "required"
            )
        row.state = RemoteDuplicateState.SAME if same else RemoteDuplicateState.NOT_SAME
        row.keeps = (this_node().province if keeps == HERE else row.remote_province) if same else ""
        row.note = note[:500]
        row.decided_by_name = person_name(actor)[:150]
        row.decided_at = timezone.now()
        row.save(update_fields=["state", "keeps", "note", "decided_by_name", "decided_at"])
        message_send(
            topic="duplicate.decided",
            payload={
                "pair": str(row.pk),
                "record": str(row.record),
                "decision": row.state,
                "keeps": row.keeps,
                "note": row.note,
                "round": row.round,
            },
            destination=HUB,
            stream=f"duplicates:{row.pk}",
        )
        audit_record(
            actor=actor,
            action="federation.remote_duplicate_decide",
            object_type="remote_duplicate",
            object_id=row.pk,
            detail={
                "record": str(row.record),
                "remote_province": row.remote_province,
                "decision": row.state,
                "keeps": row.keeps,
                "round": row.round,
            },
        )
    return row


def remote_duplicate_undo(*, actor: Any, pair: Any) -> RemoteDuplicate:
    """Undo a merge across provinces, by the county of the record merged away, within UNDO_DAYS,
    unless that record changed since: it comes back as it was, its tombstone goes, and the hub
    moves its numbers back and tells the keeping province."""
    from xueji.students.merge import record_merge_away_undo, record_moved_since_merge_away
    from xueji.students.models import Student

    found = remote_duplicate_get(actor, pair)
    with transaction.atomic():
        row = RemoteDuplicate.objects.select_for_update().get(pk=found.pk)
        if row.state != RemoteDuplicateState.MERGED_AWAY:
            raise Conflict(
                "not_undoable", _("Only a merge can be undone, by the bureau that decided it.")
            )
        if not may_undo_remote(actor, row):
            raise Conflict(
                "undo_too_late",
                _("A merge can be undone within %(days)d days.") % {"days": UNDO_DAYS},
            )
        student = Student.objects.select_for_update().get(pk=row.record)
        assert row.settled_at is not None
        if record_moved_since_merge_away(student=student, merged_at=row.settled_at):
            raise Conflict(
                "moved_since",
                _("A record has moved since the merge; the merge can no longer be undone."),
            )
        record_merge_away_undo(
            actor=actor,
            student=student,
            undo=row.merge_undo,
            on=timezone.localdate(),
            detail={"pair": str(row.pk), "other": row.remote_number_masked},
        )
        Tombstone.objects.filter(record=row.record, merged_into__isnull=False).delete()
        row.state = RemoteDuplicateState.UNDONE
        row.save(update_fields=["state"])
        message_send(
            topic="duplicate.unmerged",
            payload={"pair": str(row.pk), "record": str(row.record)},
            destination=HUB,
            stream=f"duplicates:{row.pk}",
        )
        audit_record(
            actor=actor,
            action="federation.remote_duplicate_undo",
            object_type="remote_duplicate",
            object_id=row.pk,
            detail={"record": str(row.record), "remote_province": row.remote_province},
        )
    return row


# ---- the national bureau's ruling on a disputed pair (hub) -------------------------------------


def national_duplicates_visible(user: Any) -> models.QuerySet[NationalDuplicate]:
    """The hub's pairs across provinces, for the national bureau: the disputed ones first."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.DUPLICATE_SETTLE):
        return NationalDuplicate.objects.none()
    return NationalDuplicate.objects.annotate(
        waiting=models.Case(
            models.When(outcome=NationalOutcome.DISPUTED, then=0),
            default=1,
            output_field=models.IntegerField(),
        )
    ).order_by("waiting", "-score", "found_at")


def national_duplicate_get(user: Any, pair: Any) -> NationalDuplicate:
    found: NationalDuplicate = _pair_in(national_duplicates_visible(user), pair)
    return found


def national_duplicate_settle(
    *, actor: Any, pair: Any, same: bool, keeps: str = "", note: str = ""
) -> NationalDuplicate:
    """The national bureau settles a pair the two provinces dispute: one child, kept by `keeps`
    (one of the pair's two provinces; the other record is then merged into it as when both
    provinces agree), or not the same child (closed on both sides). Each province is shown the
    ruling and its note as the other side's answer."""
    require(actor, Action.DUPLICATE_SETTLE)
    found = national_duplicate_get(actor, pair)
    note = (note or "").strip()
    with transaction.atomic():
        row = NationalDuplicate.objects.select_for_update().get(pk=found.pk)
        if row.outcome != NationalOutcome.DISPUTED:
            raise Conflict(
                "not_disputed", _("Only a pair the two provinces dispute is settled here.")
            )
        if same and keeps not in (row.province_a, row.province_b):
            raise _required(
                "keeps", _("Name the province of the pair that keeps the child."), "required"
            )
        if not note:
            raise _required("note", _("Give the reason for the ruling."), "required")
        decision = SAME if same else NOT_SAME
        row.decision_a = row.decision_b = decision
        row.keeps_a = row.keeps_b = keeps if same else ""
        row.undo = {**row.undo, "notes": {"a": note[:500], "b": note[:500]}}
        row.settled_by_name = person_name(actor)[:150]
        row.save()
        _settle(
            row,
            keeps if same else "",
            NationalOutcome.MERGING if same else NationalOutcome.NOT_SAME,
        )
        audit_record(
            actor=actor,
            action="federation.national_duplicate_settle",
            object_type="national_duplicate",
            object_id=row.pk,
            detail={"decision": decision, "keeps": row.keeps_a, "round": row.round},
        )
    row.refresh_from_db()
    return row


# ---- the pairs across provinces in identity's review queue (xueji.identity.sources) ------------


class RemoteDuplicateSource:
    """This node's parts of pairs across provinces, shown in identity's duplicate review beside
    its own pairs; each row links to federation's page, where the pair is decided."""

    key = "federation"

    @property
    def label(self) -> Any:
        return _("Pairs across provinces (national duplicate search)")

    def active(self) -> bool:
        return this_node().is_province

    def count(self, user: Any) -> int:
        return remote_duplicates_visible(user).filter(state__in=OPEN_REMOTE_STATES).count()

    def rows(self, user: Any, *, open_only: bool, limit: int) -> list[Any]:
        from django.urls import reverse

        from xueji.identity.sources import OtherPair
        from xueji.students.models import Student

        found = remote_duplicates_visible(user)
        if open_only:
            found = found.filter(state__in=OPEN_REMOTE_STATES)
        pairs = list(found[:limit])
        students = {
            student.pk: student
            for student in Student.objects.select_related("school").filter(
                pk__in=[pair.record for pair in pairs]
            )
        }
        from xueji.federation.selectors import province_names

        provinces = province_names()
        rows = []
        for pair in pairs:
            student = students.get(pair.record)
            rows.append(
                OtherPair(
                    source=self.key,
                    key=str(pair.pk),
                    record_id=student.pk if student else None,
                    record_label=f"{student.name} · {student.number_masked}" if student else "",
                    school_name=student.school.name if student else "",
                    other_label=" · ".join(
                        part
                        for part in (
                            provinces.get(pair.remote_province, pair.remote_province),
                            pair.remote_school_name,
                            pair.remote_number_masked,
                        )
                        if part
                    ),
                    score=pair.score,
                    state=str(pair.get_state_display()),
                    open=pair.state in OPEN_REMOTE_STATES,
                    url=reverse("federation:duplicate", args=[pair.pk]),
                )
            )
        return rows

    def list_url(self) -> str:
        from django.urls import reverse

        return reverse("federation:duplicates")
