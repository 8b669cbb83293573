"""Moving many records at once, set-based: the year end, imports and the demo load call these,
never writing the record's tables themselves (`xueji.students.record` does one child).

Each function is a fixed handful of statements whatever the number of children: the caller names
its children by a SQL source (a staging table, or a SELECT over its own member rows) and the
rows are written by `INSERT … SELECT`, `UPDATE … WHERE id IN (SELECT …)` or `COPY`. The caller
holds the transaction, as for one child.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from xueji.students.models import EventKind, PlacementReason, RecordState

STUDENT_TABLE = "students_student"
FAMILY_TABLE = "students_familymember"
PLACEMENT_TABLE = "students_placement"
EVENT_TABLE = "students_recordevent"
STUDENT_COLUMNS = (
    "id",
    "number_masked",
    "number_sealed",
    "number_index",
    "number_kind",
    "name",
    "name_pinyin",
    "name_initials",
    "sex",
    "birth_date",
    "birthplace_id",
    "native_place_id",
    "ethnicity",
    "nationality",
    "id_doc_type",
    "id_number_masked",
    "id_number_sealed",
    "id_number_index",
    "overseas_status",
    "health",
    "hukou_division_id",
    "hukou_nature",
    "former_name",
    "address",
    "phone",
    "attendance_mode",
    "entry_method",
    "only_child",
    "attended_preschool",
    "left_behind",
    "migrant_child",
    "orphan",
    "martyr_family",
    "inclusive_education",
    "disability_type",
    "needs_aid",
    "needs_school_bus",
    "state",
    "school_id",
    "created_at",
    "updated_at",
)
FAMILY_COLUMNS = (
    "id",
    "student_id",
    "ordinal",
    "relation",
    "name",
    "id_doc_type",
    "id_number_masked",
    "id_number_sealed",
    "id_number_index",
    "phone",
    "employer",
    "is_guardian",
    "missing_reason",
)
PLACEMENT_COLUMNS = (
    "id",
    "student_id",
    "school_id",
    "school_class_id",
    "grade",
    "start_date",
    "end_date",
    "reason",
)
EVENT_COLUMNS = ("id", "student_id", "kind", "occurred_on", "recorded_at", "actor_id", "detail")
# A new record is written as these three tables (its registration event is a fourth, where the
# writer keeps one: imports do, the synthetic demo does not).
RECORD_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (STUDENT_TABLE, STUDENT_COLUMNS),
    (FAMILY_TABLE, FAMILY_COLUMNS),
    (PLACEMENT_TABLE, PLACEMENT_COLUMNS),
)
RECORD_TABLES_WITH_EVENTS = (*RECORD_TABLES, (EVENT_TABLE, EVENT_COLUMNS))

# UUID version 7 (RFC 9562): 48-bit Unix time in ms, version 7, variant 10; the remaining 74 bits
# hold a 42-bit counter (method 1, "fixed bit-length dedicated counter") and 32 random bits.
_UUID7_VERSION_VARIANT = (0x7 << 76) | (0b10 << 62)
UUID7_COUNTER_LIMIT = 1 << 42


def uuid7_texts(ms: int, first_counter: int, randoms: Sequence[int]) -> list[str]:
    """Version 7 UUIDs (hex) of one millisecond: a 42-bit counter from `first_counter` (12 bits
    in rand_a, 30 at the top of rand_b) and a 32-bit random tail each; keys drawn in counter
    order are in key order."""
    base = (ms << 80) | _UUID7_VERSION_VARIANT
    return [
        f"{base | (c >> 30) << 64 | (c & 0x3FFFFFFF) << 32 | r:032x}"
        for c, r in enumerate(randoms, first_counter)
    ]


@dataclass(frozen=True)
class Dialect:
    """What differs between PostgreSQL and SQLite in the set-based statements."""

    postgres: bool

    def new_uuid(self) -> str:
        # SQLite keeps a UUIDField as 32 hex digits.
        return "gen_random_uuid()" if self.postgres else "lower(hex(randomblob(16)))"

    def ordered_uuid(self) -> str:
        """A time-ordered UUID (version 7 layout) for the keys of rows written by the million:
        their primary-key index grows at its right edge instead of being dirtied all over."""
        if not self.postgres:
            return self.new_uuid()
        return (
            "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
            "substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) "
            "FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid"
        )

    def uuid(self, value: uuid.UUID) -> Any:
        return value if self.postgres else value.hex

    def json(self, placeholder: str) -> str:
        return f"CAST({placeholder} AS jsonb)" if self.postgres else placeholder

    def date(self, value: datetime.date) -> Any:
        return value if self.postgres else value.isoformat()

    def now(self) -> Any:
        now = timezone.now()
        return now if self.postgres else connection.ops.adapt_datetimefield_value(now)


def dialect() -> Dialect:
    return Dialect(postgres=connection.vendor == "postgresql")


def _in_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("records are moved inside the caller's transaction")


def _execute(sql: str, params: Mapping[str, Any] | Sequence[Any] = ()) -> int:
    _in_transaction()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


# ---------------------------------------------------------------------------------------------
# Placements, states and events from a SQL source (the year end)


def placements_close(*, placement_ids: str, params: Mapping[str, Any], day_param: str) -> int:
    """Close the placements whose ids `placement_ids` (a SELECT of one column) yields, on the
    date in parameter `day_param`."""
    return _execute(
        f"UPDATE {PLACEMENT_TABLE} SET end_date = %({day_param})s WHERE id IN ({placement_ids})",
        params,
    )


def placements_reopen(*, placement_ids: str, params: Mapping[str, Any]) -> int:
    """Reopen closed placements (a reversed year-end run)."""
    return _execute(
        f"UPDATE {PLACEMENT_TABLE} SET end_date = NULL WHERE id IN ({placement_ids})", params
    )


def placements_remove(*, placement_ids: str, params: Mapping[str, Any]) -> int:
    """Remove placements a reversed year-end run had opened: they never took effect."""
    return _execute(f"DELETE FROM {PLACEMENT_TABLE} WHERE id IN ({placement_ids})", params)


def placements_open(*, rows: str, params: Mapping[str, Any], reason: PlacementReason) -> int:
    """Open placements for the rows `rows` yields as (id, student_id, school_id,
    school_class_id, grade, start_date), all for `reason`."""
    reason = PlacementReason(reason)
    return _execute(
        f"INSERT INTO {PLACEMENT_TABLE} (id, student_id, school_id, school_class_id, grade, "
        f"start_date, end_date, reason) SELECT r.*, NULL, '{reason.value}' FROM ({rows}) r",
        params,
    )


def events_append(*, rows: str, params: Mapping[str, Any]) -> int:
    """Append record events for the rows `rows` yields as (id, student_id, kind, occurred_on,
    recorded_at, actor_id, detail); each kind is an `EventKind` value."""
    # The SELECT goes straight under the INSERT: PostgreSQL types its parameters from the
    # columns (an actor of None would be text inside a subquery).
    return _execute(f"INSERT INTO {EVENT_TABLE} ({', '.join(EVENT_COLUMNS)}) {rows}", params)


def states_set(
    *, students: str, params: Mapping[str, Any], state: RecordState, now_param: str = "now"
) -> int:
    """Set the records `students` yields (a SELECT of student ids) to `state`."""
    return _execute(
        f"UPDATE {STUDENT_TABLE} SET state = '{RecordState(state).value}', "
        f"updated_at = %({now_param})s WHERE id IN ({students})",
        params,
    )


def states_set_each(*, rows: str, params: Mapping[str, Any], now_param: str = "now") -> int:
    """Set each record `rows` yields as (student_id, state) to its own state (a graduation: 毕业,
    结业 or 肄业 per child); each state is a `RecordState` value."""
    return _execute(
        f"UPDATE {STUDENT_TABLE} SET state = (SELECT r.state FROM ({rows}) r "
        f"WHERE r.student_id = {STUDENT_TABLE}.id), updated_at = %({now_param})s "
        f"WHERE id IN (SELECT r.student_id FROM ({rows}) r)",
        params,
    )


def records_follow_placements(
    *, students: str, params: Mapping[str, Any], now_param: str = "now"
) -> int:
    """Set the school of each record `students` yields (a SELECT of student ids) to the school
    of its open placement: after the year end moved it to another school (a teaching point's
    top grade on to its central school), and after that move is reversed."""
    open_placement = (
        f"FROM {PLACEMENT_TABLE} p WHERE p.student_id = {STUDENT_TABLE}.id AND p.end_date IS NULL"
    )
    return _execute(
        f"UPDATE {STUDENT_TABLE} SET school_id = (SELECT p.school_id {open_placement}), "
        f"updated_at = %({now_param})s "
        f"WHERE id IN ({students}) AND EXISTS (SELECT 1 {open_placement})",
        params,
    )


# ---------------------------------------------------------------------------------------------
# A school merged as a whole into another (整体并入)


def _class_map_source(class_map: Mapping[int, int]) -> tuple[str, list[int]]:
    """The class map as a SELECT of (source, target) rows, on both databases."""
    rows = " UNION ALL ".join(["SELECT %s AS source, %s AS target"] * len(class_map))
    return rows, [value for pair in class_map.items() for value in pair]


def placements_move_school(
    *,
    from_school_id: int,
    to_school_id: int,
    class_map: Mapping[int, int],
    on: datetime.date,
    actor_id: int | None,
    detail: Mapping[str, Any],
) -> int:
    """Move every open placement of a school to another (a school merged into it): each closes
    on `on` and a placement opens from `on` at the other school, same grade, in the class
    `class_map` gives for its class (reason `school_merge`); the records' school follows and
    each record gets a `school_merged` event. A fixed handful of statements whatever the
    number of children; returns how many moved. A class of an open placement missing from the
    map is a programming error (nothing is written)."""
    _in_transaction()
    sql = dialect()
    moving = f"school_merge_{uuid.uuid4().hex[:16]}"
    if class_map:
        mapped, map_params = _class_map_source(class_map)
    else:
        mapped, map_params = "SELECT 0 AS source, 0 AS target WHERE 1 = 0", []
    _execute(
        f"CREATE TEMPORARY TABLE {moving} AS SELECT p.id AS placement_id, p.student_id, p.grade, "
        f"p.school_class_id AS source_class_id, m.target AS target_class_id "
        f"FROM {PLACEMENT_TABLE} p LEFT JOIN ({mapped}) m ON m.source = p.school_class_id "
        "WHERE p.school_id = %s AND p.end_date IS NULL",
        [*map_params, from_school_id],
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {moving} WHERE target_class_id IS NULL")
            unmapped = int(cursor.fetchone()[0])
        if unmapped:
            raise ValueError(f"{unmapped} placements are in classes the class map leaves out")
        params = {
            "on": sql.date(on),
            "to": to_school_id,
            "now": sql.now(),
            "actor": actor_id,
            "detail": json.dumps(dict(detail), ensure_ascii=False),
        }
        moved = placements_close(
            placement_ids=f"SELECT placement_id FROM {moving}", params=params, day_param="on"
        )
        placements_open(
            rows=(
                f"SELECT {sql.new_uuid()}, student_id, %(to)s, target_class_id, grade, %(on)s "
                f"FROM {moving}"
            ),
            params=params,
            reason=PlacementReason.SCHOOL_MERGE,
        )
        _execute(
            f"UPDATE {STUDENT_TABLE} SET school_id = %(to)s, updated_at = %(now)s "
            f"WHERE id IN (SELECT student_id FROM {moving})",
            params,
        )
        events_append(
            rows=(
                f"SELECT {sql.new_uuid()}, student_id, '{EventKind.SCHOOL_MERGED.value}', "
                f"%(on)s, %(now)s, %(actor)s, {sql.json('%(detail)s')} FROM {moving}"
            ),
            params=params,
        )
    finally:
        _execute(f"DROP TABLE {moving}")
    return moved


# ---------------------------------------------------------------------------------------------
# New records by the thousand (imports, the demo)


def records_insert_from_staging(staging: Mapping[str, str]) -> None:
    """Write the new records waiting in staging tables (same columns as the record's tables,
    keyed by the record's table name) with one INSERT … SELECT per table: every key, constraint
    and trigger runs once per table, set-based."""
    for table, columns in RECORD_TABLES_WITH_EVENTS:
        if table not in staging:
            continue
        names = ", ".join(columns)
        _execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging[table]}")


def records_copy(cursor: Any, texts: Mapping[str, str | bytes]) -> None:
    """COPY new records (the three tables, in COPY's text format) on PostgreSQL: `cursor` is the
    driver's own cursor (psycopg), inside the caller's transaction."""
    for table, columns in RECORD_TABLES:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(texts[table])


def records_insert_rows(raw_connection: Any, rows: Mapping[str, Iterable[Iterable[Any]]]) -> None:
    """The same rows as `records_copy`, as tuples, on SQLite (executemany on the raw driver)."""
    for table, columns in RECORD_TABLES:
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        for batch in rows.get(table, ()):
            raw_connection.executemany(sql, batch)
