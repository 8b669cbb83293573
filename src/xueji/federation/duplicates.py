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
from xueji.access.scope import may, scope_of
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.core.names import person_name
from xueji.federation.messages import handles, message_send
from xueji.federation.models import (
    MatchKey,
    Message,
    NationalDuplicate,
    RemoteDuplicate,
    RemoteDuplicateState,
)
from xueji.federation.nodes import HUB, this_node

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


def hub_duplicates_scan() -> int:
    """The national duplicate search (hub): every pair of records of two provinces with the same
    matching keys not found before becomes a `NationalDuplicate`, and each province is sent its
    part in the same transaction. Returns how many pairs are new."""
    if not this_node().is_hub:
        return 0
    shared_keys = (
        MatchKey.objects.values("keys_index")
        .annotate(provinces=models.Count("province", distinct=True))
        .filter(provinces__gt=1)
        .values_list("keys_index", flat=True)
    )
    new = 0
    for keys_index in shared_keys:
        records = list(MatchKey.objects.filter(keys_index=keys_index).order_by("record"))
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


@handles("duplicate.decided")
def on_decided(message: Message) -> None:
    """The hub keeps each province's decision on the pair."""
    data = message.payload
    pair = NationalDuplicate.objects.select_for_update().filter(pk=data["pair"]).first()
    if pair is None:
        return
    if str(pair.record_a) == str(data["record"]):
        pair.decision_a = str(data["decision"])
    else:
        pair.decision_b = str(data["decision"])
    pair.save(update_fields=["decision_a", "decision_b"])


# ---- the county's review on a province's node ----------------------------------------------


def _prefix(user: Any, action: str) -> str | None:
    """The county-code prefix of the user's area for `action` ("" for the nation), or None."""
    scope = scope_of(user)
    if scope is None or not may(scope, action) or scope.level == "school":
        return None
    code = scope.division_code or ""
    return {"nation": "", "province": code[:2], "city": code[:4], "county": code}.get(scope.level)


def remote_duplicates_visible(user: Any) -> models.QuerySet[RemoteDuplicate]:
    prefix = _prefix(user, Action.DUPLICATE_VIEW)
    if prefix is None:
        return RemoteDuplicate.objects.none()
    return RemoteDuplicate.objects.filter(county__startswith=prefix)


def remote_duplicate_get(user: Any, pair: Any) -> RemoteDuplicate:
    try:
        key = uuid.UUID(str(pair))
    except ValueError:
        key = None
    found = remote_duplicates_visible(user).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound("not_found", _("No such pair."))
    return found


def may_decide_remote(user: Any, pair: RemoteDuplicate) -> bool:
    prefix = _prefix(user, Action.DUPLICATE_DECIDE)
    return (
        prefix is not None
        and pair.county.startswith(prefix)
        and pair.state == RemoteDuplicateState.PROPOSED
    )


def remote_duplicate_decide(
    *, actor: Any, pair: Any, same: bool, note: str = "", on: datetime.date | None = None
) -> RemoteDuplicate:
    """The county of the record here decides whether the two records are one child; the hub is
    told. One child in two provinces is then resolved between them (a transfer, or the record
    withdrawn where the child is not)."""
    from django.core.exceptions import ValidationError

    found = remote_duplicate_get(actor, pair)
    note = (note or "").strip()
    with transaction.atomic():
        row = RemoteDuplicate.objects.select_for_update().get(pk=found.pk)
        if row.state != RemoteDuplicateState.PROPOSED:
            raise Conflict("pair_decided", _("This pair has already been decided."))
        if not may_decide_remote(actor, row):
            raise Conflict("not_your_pair", _("Only the record's county decides this pair."))
        if same and not note:
            raise FieldErrors(
                {
                    "note": [
                        ValidationError(
                            _("Say how the child will be kept in one province."),
                            code="required",
                        )
                    ]
                }
            )
        row.state = RemoteDuplicateState.SAME if same else RemoteDuplicateState.NOT_SAME
        row.note = note[:500]
        row.decided_by_name = person_name(actor)[:150]
        row.decided_at = timezone.now()
        row.save(update_fields=["state", "note", "decided_by_name", "decided_at"])
        message_send(
            topic="duplicate.decided",
            payload={"pair": str(row.pk), "record": str(row.record), "decision": row.state},
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
            },
        )
    return row
