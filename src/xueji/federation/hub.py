"""The hub's answers (XUEJI_NODE=national): the national index of every number, the sealed
matching keys, "only once" claims. Called by the hub's signed HTTP API (xueji.federation.hub_api)
for the province that signed the request, and by the messages the provinces send (inbox)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from xueji.federation.models import (
    EntryState,
    IndexEntry,
    MatchKey,
    NationalClaim,
    NationalMove,
)
from xueji.students.national import HELD, RESERVED, ReservationRequest


def _ttl() -> datetime.timedelta:
    return datetime.timedelta(seconds=int(getattr(settings, "XUEJI_HUB_RESERVATION_TTL", 600)))


def _lapsed(entry: IndexEntry, now: datetime.datetime) -> bool:
    """A reservation its node never confirmed (its registration rolled back) frees the number."""
    return entry.state == EntryState.RESERVED and entry.reserved_at < now - _ttl()


def holder_json(entry: IndexEntry) -> dict[str, Any]:
    return {
        "record": str(entry.record),
        "province": entry.province,
        "school_name": entry.school_name,
        "number_masked": entry.number_masked,
    }


class _Held(Exception):
    def __init__(self, entry: IndexEntry):
        super().__init__(entry.pk)
        self.entry = entry


def hub_reserve(*, province: str, request: ReservationRequest) -> tuple[str, dict[str, Any] | None]:
    """Reserve every number of the request for its record in `province`, all or none: RESERVED,
    or HELD with the holder (another record holds one). Concurrent reservations of one number
    meet at the unique index (kind, index): the second waits for the first and finds it held."""
    now = timezone.now()
    try:
        with transaction.atomic():
            for kind, index in sorted(request.entries):
                IndexEntry.objects.bulk_create(
                    [
                        IndexEntry(
                            kind=kind,
                            index=index,
                            province=province,
                            record=request.record,
                            school_name=request.school_name[:128],
                            number_masked=request.number_masked[:32],
                            state=EntryState.RESERVED,
                            reserved_at=now,
                        )
                    ],
                    ignore_conflicts=True,
                )
                entry = IndexEntry.objects.select_for_update().get(kind=kind, index=index)
                if str(entry.record) == request.record:
                    continue
                if _lapsed(entry, now) or (
                    entry.state == EntryState.RESERVED and entry.province == province
                ):
                    # Freed (never confirmed), or the province's own rolled-back attempt: the
                    # province's database already decided between its own registrations.
                    entry.province, entry.record = province, request.record
                    entry.school_name = request.school_name[:128]
                    entry.number_masked = request.number_masked[:32]
                    entry.reserved_at, entry.confirmed_at = now, None
                    entry.state = EntryState.RESERVED
                    entry.save()
                    continue
                raise _Held(entry)
            MatchKey.objects.update_or_create(
                record=request.record,
                defaults={
                    "province": province,
                    "keys_index": request.keys_index,
                    "parents": list(request.parents),
                    "school_name": request.school_name[:128],
                    "number_masked": request.number_masked[:32],
                    "scan_pending": True,
                },
            )
    except _Held as held:
        return HELD, holder_json(held.entry)
    return RESERVED, None


def hub_confirm(*, province: str, record: str) -> int:
    """The province's registration committed: its reservations hold for good."""
    return IndexEntry.objects.filter(province=province, record=record).update(
        state=EntryState.CONFIRMED, confirmed_at=timezone.now()
    )


def hub_move(
    *,
    record: str,
    to_province: str,
    school_name: str,
    transfer: str,
    from_province: str,
    on: datetime.date,
) -> int:
    """A record moved to another province (a transfer's final step): its numbers resolve there,
    and the move is kept for the national flows (once per transfer: a replay adds nothing)."""
    NationalMove.objects.bulk_create(
        [
            NationalMove(
                transfer=transfer,
                record=record,
                from_province=from_province,
                to_province=to_province,
                moved_on=on,
            )
        ],
        ignore_conflicts=True,
    )
    MatchKey.objects.filter(record=record).update(
        province=to_province, school_name=school_name, scan_pending=True
    )
    return IndexEntry.objects.filter(record=record).update(
        province=to_province, school_name=school_name
    )


def hub_holder(*, entries: list[tuple[str, str]]) -> IndexEntry | None:
    """Who holds any of these (kind, index) pairs: confirmed, or reserved and not lapsed."""
    if not entries:
        return None
    wanted = Q()
    for kind, index in entries:
        wanted |= Q(kind=kind, index=index)
    live = Q(state=EntryState.CONFIRMED) | Q(reserved_at__gte=timezone.now() - _ttl())
    return IndexEntry.objects.filter(wanted).filter(live).order_by("reserved_at").first()


def hub_similar(*, keys_index: str, limit: int = 20) -> list[MatchKey]:
    return list(MatchKey.objects.filter(keys_index=keys_index).order_by("record")[:limit])


def hub_claim_once(*, province: str, purpose: str, key: str, holder: str) -> bool:
    try:
        with transaction.atomic():
            NationalClaim.objects.create(
                purpose=purpose[:32], key=key[:128], holder=holder[:128], province=province
            )
    except IntegrityError:
        return False
    return True
