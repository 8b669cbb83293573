"""Reads of the federation: the national look-up, national statistics from the replicated
rollups, the flows between provinces and the state of each node's replication."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Min, Q, Sum

from xueji.core import codes
from xueji.federation.models import (
    EntryState,
    IndexEntry,
    NationalMove,
    NodeState,
    PendingReservation,
    PendingState,
)
from xueji.federation.nodes import this_node
from xueji.geo.models import Division
from xueji.stats.models import HeadcountDelta
from xueji.students.identity import document_indexes, number_indexes
from xueji.students.models import Student
from xueji.students.national import national_index


@dataclass(frozen=True)
class Found:
    province: str
    province_name: str
    number_masked: str
    state: str


def province_names() -> dict[str, str]:
    return {
        code[:2]: name
        for code, name in Division.objects.filter(level="province").values_list("code", "name")
    }


def lookup_number(number: str) -> Found | None:
    """The province holding a student number or a resident ID number, from the national index
    (the hub's table) or, where one database holds the country, from the records."""
    number = number.strip().upper()
    names = province_names()
    indexes = [("number", index) for index in number_indexes(number)]
    indexes += [
        ("document", index) for index in document_indexes(codes.IdDocType.RESIDENT_ID, number)
    ]
    wanted = Q()
    for kind, index in indexes:
        wanted |= Q(kind=kind, index=index)
    entry = IndexEntry.objects.filter(wanted).first()
    if entry is not None:
        return Found(
            entry.province,
            names.get(entry.province, entry.province),
            entry.number_masked,
            entry.state,
        )
    if this_node().is_hub:
        return None
    national = national_index()
    holder = national.holder_of_number(number) or national.holder_of_document(
        codes.IdDocType.RESIDENT_ID, number
    )
    if holder is None:
        return None
    # The school's province (a school's own code does not begin with its province's).
    province = (
        Student.objects.filter(pk=holder.student_id)
        .values_list("school__province_id", flat=True)
        .first()
        or ""
    )[:2] or holder.province_code
    return Found(
        province,
        names.get(province, province),
        holder.number_masked,
        EntryState.CONFIRMED,
    )


def national_headcounts(on: datetime.date) -> list[dict[str, Any]]:
    """Head count per province on a day: the sum of the provinces' replicated rollup deltas."""
    rows = (
        HeadcountDelta.objects.filter(day__lte=on)
        .values("province")
        .annotate(count=Sum("delta"))
        .order_by("province")
    )
    names = province_names()
    return [
        {
            "province": row["province"][:2],
            "name": names.get(row["province"][:2], row["province"]),
            "count": row["count"] or 0,
        }
        for row in rows
    ]


def interprovince_flows() -> list[dict[str, Any]]:
    """Records moved between provinces, per pair of provinces: the moves the hub kept at each
    transfer's final step (NationalMove), with the first and last day of a move."""
    rows = (
        NationalMove.objects.values("from_province", "to_province")
        .annotate(count=Count("pk"), first=Min("moved_on"), last=Max("moved_on"))
        .order_by("from_province", "to_province")
    )
    names = province_names()
    return [
        {
            "from": names.get(row["from_province"], row["from_province"]),
            "to": names.get(row["to_province"], row["to_province"]),
            "count": row["count"],
            "first": row["first"],
            "last": row["last"],
        }
        for row in rows
    ]


def subscriptions() -> list[dict[str, Any]]:
    """PostgreSQL's view of this node's subscriptions: the lag of each (hub and provinces)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT subname, received_lsn::text, latest_end_lsn::text, last_msg_receipt_time, "
            "latest_end_time, now() - last_msg_receipt_time AS lag "
            "FROM pg_stat_subscription WHERE relid IS NULL ORDER BY subname"
        )
        columns = [c.name for c in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def node_states() -> list[NodeState]:
    return list(NodeState.objects.order_by("province"))


def pending_counts() -> dict[str, int]:
    counts = dict(
        PendingReservation.objects.values_list("state").annotate(n=Count("pk")).order_by()
    )
    return {state: counts.get(state, 0) for state in PendingState.values}


def pending_held() -> list[PendingReservation]:
    return list(
        PendingReservation.objects.filter(state=PendingState.HELD).order_by("-resolved_at")[:50]
    )
