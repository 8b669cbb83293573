"""The population roll (户籍人口) of a province: read, checked, loaded set-based, and every
record's identity status recomputed set-based after it.

A file (CSV in UTF-8, or the first sheet of an .xlsx) has the columns

    id_number, name, sex (M/F or 1/2), birth_date (YYYY-MM-DD or YYYYMMDD),
    household_division (6 digits), household_address, household_type (1/2/3)

Every row is checked before anything is written (the ID number fully: its check character, its
birth date and sex against the row's, its area code); one bad row refuses the whole file with
every error named (all or nothing). A good file is sealed row by row in Python (the only per-row
work: AES-GCM/SM4 and the blind index), streamed into a staging table (COPY on PostgreSQL,
executemany batches on SQLite), and merged into the roll by one INSERT … ON CONFLICT: an
incremental file adds and updates children, a whole file also removes the province's children it
no longer lists. A load that fails leaves nothing behind; running the same file again is the
resumption (the merge is idempotent).

After the merge, in the same transaction: the identity status of every record whose household
lies in the province (one DELETE and one INSERT … SELECT joining records to the roll on the blind
index), the L numbers the roll now confirms turned into G numbers, and the list of 有人无籍
(children of compulsory age with no record anywhere) brought up to date (one INSERT … SELECT).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.core import codes
from xueji.core.crypto import encrypt
from xueji.core.idnumbers import mask_id_number, normalize, resident_id_errors
from xueji.geo.models import Division
from xueji.identity.models import (
    IdentityStatus,
    RollEntry,
    RollLoad,
    RollLoadState,
    RollStagedRow,
    UnrecordedChild,
)
from xueji.students.identity import document_index
from xueji.students.models import NumberKind, Student
from xueji.students.names import name_keys

ROLL_ID_NUMBER = "identity.roll_id_number"
COLUMNS = (
    "id_number",
    "name",
    "sex",
    "birth_date",
    "household_division",
    "household_address",
    "household_type",
)
MAX_ERRORS = 100
MAX_FILE_BYTES = 512 * 1024 * 1024
# Rows sealed and staged in one committed batch (a checkpoint of a load).
BATCH_ROWS = 50_000

ENTRY = RollEntry._meta.db_table
STATUS = IdentityStatus._meta.db_table
STUDENT = Student._meta.db_table
UNRECORDED = UnrecordedChild._meta.db_table
SCHOOL = "schools_school"
STAGING = RollStagedRow._meta.db_table
# Temporary tables of one statement's results (dropped at once).
GONE = "identity_roll_gone"
CHANGED = "identity_status_changed"
HELD = "identity_status_held"
JOINING = "identity_unrecorded_joining"
STAGING_COLUMNS = (
    "id_number_index",
    "id_number_sealed",
    "id_number_masked",
    "name",
    "name_key",
    "sex",
    "birth_date",
    "household_division",
    "household_address",
    "household_type",
)


class RollLoadGone(Exception):
    """The load was finished or refused meanwhile (by another worker)."""


class RollRefused(Exception):
    """The file is refused as a whole; `errors` names each row's problem."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass(frozen=True)
class RollRow:
    id_number: str
    name: str
    sex: str
    birth_date: datetime.date
    household_division: str
    household_address: str
    household_type: str


def _sex(value: str) -> str | None:
    return {"M": "1", "1": "1", "男": "1", "F": "2", "2": "2", "女": "2"}.get(value.strip().upper())


def _date(value: str) -> datetime.date | None:
    text = value.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return datetime.date.fromisoformat(text)  # the common form, without strptime's cost
        except ValueError:
            return None
    for pattern in ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def rows_of(content: bytes, file_name: str) -> Iterator[list[str]]:
    """The rows (header first) of a CSV or an .xlsx file, as text cells."""
    if len(content) > MAX_FILE_BYTES:
        raise RollRefused([{"row": 0, "field": "file", "message": _("The file is too large.")}])
    if file_name.lower().endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(content))
            sheet = book.get_sheet_by_index(0)
        except Exception:
            raise RollRefused(
                [{"row": 0, "field": "file", "message": _("The workbook cannot be read.")}]
            ) from None
        for cells in sheet.iter_rows():
            yield ["" if cell is None else str(cell) for cell in cells]
        return
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RollRefused(
            [{"row": 0, "field": "file", "message": _("The file is not UTF-8 text.")}]
        ) from None
    yield from csv.reader(io.StringIO(text))


def parse(rows: Iterable[list[str]], *, province_code: str) -> list[RollRow]:
    """Every row checked; RollRefused with the errors (at most MAX_ERRORS, in row order) if any
    fails. The ID numbers are checked all at once by idnumbers.resident_id_errors (a quick test
    of every rule, validate_resident_id itself for a number that fails it)."""
    iterator = iter(rows)
    header = [cell.strip().lower() for cell in next(iterator, [])]
    missing = [column for column in COLUMNS[:5] if column not in header]
    if missing:
        raise RollRefused(
            [
                {
                    "row": 1,
                    "field": column,
                    "message": _("The column %(column)s is missing.") % {"column": column},
                }
                for column in missing
            ]
        )
    width = len(header)
    at = {column: header.index(column) for column in COLUMNS if column in header}
    at_id, at_name, at_sex, at_born, at_division = (at[column] for column in COLUMNS[:5])
    at_address, at_type = at.get("household_address"), at.get("household_type")
    divisions = set(
        Division.objects.filter(code__startswith=province_code[:2]).values_list("code", flat=True)
    )
    errors: list[dict[str, Any]] = []
    # The rows whose other fields are good, with their line and (normalised) ID number.
    lines: list[int] = []
    numbers: list[str] = []
    # name, sex, birth date, division, address, household type
    candidates: list[tuple[str, str, datetime.date, str, str, str]] = []

    def error(row: int, column: str, message: str) -> None:
        errors.append({"row": row, "field": column, "message": str(message)})

    for number, cells in enumerate(iterator, start=2):
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        if not "".join(cells).strip():
            continue
        if len(errors) >= MAX_ERRORS:
            break
        name = cells[at_name].strip()
        sex, born = _sex(cells[at_sex]), _date(cells[at_born])
        division = cells[at_division].strip()
        before = len(errors)
        if not name or len(name) > 64:
            error(number, "name", _("A name of 1 to 64 characters is required."))
        if sex is None:
            error(number, "sex", _("Sex is M or F (1 or 2)."))
        if born is None:
            error(number, "birth_date", _("A birth date is YYYY-MM-DD."))
        if division not in divisions:
            error(number, "household_division", _("No such division in the province."))
        if len(errors) == before and born is not None and sex is not None:
            household_type = cells[at_type].strip()[:1] if at_type is not None else ""
            lines.append(number)
            numbers.append(normalize(cells[at_id]))
            candidates.append(
                (
                    name,
                    sex,
                    born,
                    division,
                    cells[at_address].strip()[:200] if at_address is not None else "",
                    household_type if household_type in "123" else "",
                )
            )
    refused = resident_id_errors(
        numbers,
        birth_dates=[row[2] for row in candidates],
        sexes=[row[1] for row in candidates],
    )
    found: list[RollRow] = []
    seen: set[str] = set()
    for position, row in enumerate(candidates):
        problem = refused.get(position)
        if problem is not None:
            error(lines[position], "id_number", " ".join(problem.messages))
            continue
        resident = numbers[position]
        if resident in seen:
            error(lines[position], "id_number", _("The ID number appears twice in the file."))
            continue
        seen.add(resident)
        found.append(RollRow(resident, *row))
    if errors:
        errors.sort(key=lambda item: item["row"])
        raise RollRefused(errors[:MAX_ERRORS])
    return found


def _sealed(rows: list[RollRow]) -> Iterator[tuple[Any, ...]]:
    keys = [key[:64] for key in name_keys([row.name for row in rows])]
    for row, key in zip(rows, keys, strict=True):
        yield (
            document_index(codes.IdDocType.RESIDENT_ID, row.id_number),
            encrypt(row.id_number, context=ROLL_ID_NUMBER),
            mask_id_number(row.id_number),
            row.name,
            key,
            row.sex,
            row.birth_date,
            row.household_division,
            row.household_address,
            row.household_type,
        )


def _copy_text(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime.date) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        text = text.replace("\r", "\\r")
    return text


def _stage_batch(load: RollLoad, rows: list[RollRow]) -> None:
    """One batch of rows sealed into the staging table (inside the caller's transaction)."""
    postgres = connection.vendor == "postgresql"
    columns = ("load_id", *STAGING_COLUMNS)
    with connection.cursor() as cursor:
        if postgres:
            prefix = f"{load.pk}\t"
            with cursor.cursor.copy(f"COPY {STAGING} ({', '.join(columns)}) FROM STDIN") as copy:
                copy.write(
                    "".join(
                        prefix + "\t".join(_copy_text(value) for value in values) + "\n"
                        for values in _sealed(rows)
                    )
                )
        else:
            sql = (
                f"INSERT INTO {STAGING} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})"
            )
            cursor.executemany(
                sql,
                [
                    (
                        load.pk.hex,
                        *(v.isoformat() if isinstance(v, datetime.date) else v for v in values),
                    )
                    for values in _sealed(rows)
                ],
            )


def _interrupted(load: RollLoad, staged: int) -> None:
    """Between two committed batches: where a worker killed stops (a test raises here)."""


def stage(load: RollLoad, rows: list[RollRow]) -> int:
    """Seal and stage the rows not staged yet, BATCH_ROWS at a time, each batch committed with
    the load's count of staged rows (its checkpoint): a load interrupted goes on from its last
    batch. Two workers on one load take turns (the load's row locked for each batch). Returns
    how many rows this call staged."""
    staged_now = 0
    while True:
        with transaction.atomic():
            locked = RollLoad.objects.select_for_update().get(pk=load.pk)
            if locked.state != RollLoadState.LOADING:
                raise RollLoadGone(locked.state)
            done = locked.rows
            if done >= len(rows):
                load.rows = done
                return staged_now
            batch = rows[done : done + BATCH_ROWS]
            _stage_batch(load, batch)
            RollLoad.objects.filter(pk=load.pk).update(rows=done + len(batch))
            load.rows = done + len(batch)
            staged_now += len(batch)
        _interrupted(load, load.rows)


def staged_count(load: RollLoad) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {STAGING} WHERE load_id = %s", [_load_id(load)])
        return int(cursor.fetchone()[0])


def staging_clear(load: RollLoad) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {STAGING} WHERE load_id = %s", [_load_id(load)])


def _load_id(load: RollLoad) -> Any:
    return load.pk if connection.vendor == "postgresql" else load.pk.hex


@contextmanager
def _hash_joins() -> Iterator[None]:
    """Joins over a whole province as hash joins, whatever the statistics say: a roll table
    loaded a moment ago in this transaction has none yet (the application role may not ANALYZE
    it), and a nested loop chosen on an estimate of a few rows, over a table that grows as the
    statement writes, is what made 有人无籍's refresh quadratic. Inside the caller's transaction
    (SET LOCAL)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_nestloop'), current_setting('work_mem')")
        nestloop, work_mem = cursor.fetchone()
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [nestloop])
            cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])


def _merge(load: RollLoad) -> None:
    """The staged rows into the roll: added, or updated where the ID number is there already
    and something differs; for a whole file, the province's children it no longer lists
    removed. Each is one statement over a hashed join (not one look-up per child)."""
    names = ", ".join(STAGING_COLUMNS)
    load_id = _load_id(load)
    # SQLite has no hash join and the staged rows no index: NOT EXISTS there scanned them once
    # per child of the roll (18 s of a 19,844-row load over a roll of 5,255); its NOT IN of a
    # subquery that names no outer column is one list, built once and searched per child.
    # (PostgreSQL's NOT IN is a subplan per child: NOT EXISTS is its hashed anti-join.)
    if connection.vendor == "postgresql":
        listed = (
            f"NOT EXISTS (SELECT 1 FROM {STAGING} st "
            f"WHERE st.load_id = %s AND st.id_number_index = r.id_number_index)"
        )
    else:
        listed = (
            f"r.id_number_index NOT IN (SELECT st.id_number_index FROM {STAGING} st "
            f"WHERE st.load_id = %s)"
        )
    with connection.cursor() as cursor:
        if not load.incremental:
            cursor.execute(f"DROP TABLE IF EXISTS {GONE}")
            cursor.execute(
                f"CREATE TEMP TABLE {GONE} AS SELECT r.id FROM {ENTRY} r "
                f"WHERE r.province_code = %s AND {listed}",
                [load.province_code, load_id],
            )
            if cursor.rowcount:
                gone = f"SELECT id FROM {GONE}"
                cursor.execute(f"DELETE FROM {UNRECORDED} WHERE roll_entry_id IN ({gone})")
                cursor.execute(
                    f"UPDATE {STATUS} SET roll_entry_id = NULL WHERE roll_entry_id IN ({gone})"
                )
                cursor.execute(f"DELETE FROM {ENTRY} WHERE id IN ({gone})")
            cursor.execute(f"DROP TABLE {GONE}")
        # Children there already, updated where the file says something else of them; then the
        # new ones added (a plain INSERT: no speculative insertion per row as ON CONFLICT does).
        fields = STAGING_COLUMNS[1:]
        # The same index is the same number: its sealed form (a new nonce each time) and its
        # mask are no change.
        compared = [c for c in fields if c not in ("id_number_sealed", "id_number_masked")]
        changed = " OR ".join(f"{ENTRY}.{c} IS DISTINCT FROM st.{c}" for c in compared)
        cursor.execute(
            f"UPDATE {ENTRY} SET {', '.join(f'{c} = st.{c}' for c in fields)}, "
            f"province_code = %s, load_id = %s FROM {STAGING} st WHERE st.load_id = %s "
            f"AND st.id_number_index = {ENTRY}.id_number_index AND ({changed} "
            f"OR {ENTRY}.province_code <> %s)",
            [load.province_code, load_id, load_id, load.province_code],
        )
        cursor.execute(
            f"INSERT INTO {ENTRY} ({names}, province_code, load_id) "
            f"SELECT {', '.join(f'st.{c}' for c in STAGING_COLUMNS)}, %s, %s FROM {STAGING} st "
            f"LEFT JOIN {ENTRY} r ON r.id_number_index = st.id_number_index "
            f"WHERE st.load_id = %s AND r.id IS NULL",
            [load.province_code, load_id, load_id],
        )


def _household_province() -> str:
    """SQL: the province of a record's household (its household division, else its ID number's
    area, else its school's county)."""
    return (
        "substr(COALESCE(s.hukou_division_id, "
        "CASE WHEN s.id_doc_type = '1' THEN substr(s.id_number_masked, 1, 6) END, "
        "sc.county_id), 1, 2)"
    )


STATUS_FIELDS = (
    "county_code",
    "status",
    "name_differs",
    "sex_differs",
    "birth_date_differs",
    "roll_entry_id",
)


def status_recompute(*, province_code: str, student_ids: list[Any] | None = None) -> int:
    """The identity status of every record whose household lies in the province (or of the
    records named), set-based: one statement computes every record's status against the roll
    and keeps those that differ from the status held (a full join of the two); then one upsert
    writes the changed and new ones and one delete drops those of records gone from the
    province. A status unchanged is not written again (its checked_at is when it was found).
    Inside the caller's transaction. Returns how many statuses changed (added, changed or
    dropped)."""
    postgres = connection.vendor == "postgresql"
    now = timezone.now() if postgres else connection.ops.adapt_datetimefield_value(timezone.now())
    ids: list[Any] = []
    only = only_held = ""
    if student_ids is not None:
        ids = [sid if postgres else sid.hex for sid in student_ids]
        marks = ", ".join(["%s"] * len(ids))
        only, only_held = f" AND s.id IN ({marks})", f" AND student_id IN ({marks})"
    name_differs = "(r.id IS NOT NULL AND r.name <> s.name AND r.name_key <> s.name)"
    sex_differs = "(r.id IS NOT NULL AND r.sex <> s.sex)"
    date_differs = "(r.id IS NOT NULL AND r.birth_date <> s.birth_date)"
    computed = (
        f"SELECT s.id AS student_id, sc.county_id AS county_code, "
        f"CASE WHEN r.id IS NULL THEN 'not_in_roll' "
        f"WHEN {name_differs} OR {sex_differs} OR {date_differs} THEN 'disagrees' "
        f"ELSE 'confirmed' END AS status, {name_differs} AS name_differs, "
        f"{sex_differs} AS sex_differs, {date_differs} AS birth_date_differs, "
        f"r.id AS roll_entry_id "
        f"FROM {STUDENT} s JOIN {SCHOOL} sc ON sc.id = s.school_id "
        f"LEFT JOIN {ENTRY} r ON s.id_doc_type = '1' AND r.id_number_index = s.id_number_index "
        f"WHERE s.state <> 'merged' AND {_household_province()} = %s{only}"
    )
    held = (
        f"SELECT student_id, {', '.join(STATUS_FIELDS)} FROM {STATUS} "
        f"WHERE province_code = %s{only_held}"
    )
    differs = " OR ".join(f"n.{f} IS DISTINCT FROM o.{f}" for f in STATUS_FIELDS)
    new_fields = ", ".join(f"n.{f}" for f in STATUS_FIELDS)
    # A whole province: hash joins. A few records (a registration): their index look-ups.
    joins = _hash_joins() if student_ids is None else nullcontext()
    with joins, connection.cursor() as cursor:
        held_from, held_params = f"({held})", [province_code, *ids]
        if not postgres:
            # SQLite joins the statuses held by a nested loop with no index on a subquery (it
            # scanned them once per record: 24 s of a 19,844-row load): a temporary table of
            # them, indexed.
            cursor.execute(f"DROP TABLE IF EXISTS {HELD}")
            cursor.execute(f"CREATE TEMP TABLE {HELD} AS {held}", held_params)
            cursor.execute(f"CREATE INDEX {HELD}_student ON {HELD} (student_id)")
            held_from, held_params = HELD, []
        cursor.execute(f"DROP TABLE IF EXISTS {CHANGED}")
        cursor.execute(
            f"CREATE TEMP TABLE {CHANGED} AS SELECT n.student_id, o.student_id AS held_id, "
            f"n.student_id IS NOT NULL AS checked, {new_fields} "
            f"FROM ({computed}) n FULL JOIN {held_from} o ON o.student_id = n.student_id "
            f"WHERE n.student_id IS NULL OR o.student_id IS NULL OR {differs}",
            [province_code[:2], *ids, *held_params],
        )
        if not postgres:
            cursor.execute(f"DROP TABLE {HELD}")
        cursor.execute(
            f"DELETE FROM {STATUS} WHERE student_id IN "
            f"(SELECT held_id FROM {CHANGED} WHERE student_id IS NULL)"
        )
        updates = ", ".join(f"{f} = excluded.{f}" for f in ("province_code", *STATUS_FIELDS))
        cursor.execute(
            f"INSERT INTO {STATUS} (student_id, province_code, {', '.join(STATUS_FIELDS)}, "
            f"checked_at) SELECT student_id, %s, {', '.join(STATUS_FIELDS)}, %s FROM {CHANGED} "
            f"WHERE student_id IS NOT NULL "
            f"ON CONFLICT (student_id) DO UPDATE SET {updates}, checked_at = excluded.checked_at",
            [province_code, now],
        )
        cursor.execute(f"SELECT count(*) FROM {CHANGED}")
        changed = int(cursor.fetchone()[0])
        cursor.execute(f"DROP TABLE {CHANGED}")
    return changed


def school_year_august(today: datetime.date) -> datetime.date:
    """The 31 August of the school year under way (the day compulsory age is counted on)."""
    return datetime.date(today.year if today.month >= 9 else today.year - 1, 8, 31)


def compulsory_birth_range(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Born in this range: 6 to 15 years old on the school year's 31 August."""
    day = school_year_august(today)
    oldest = datetime.date(day.year - 16, 9, 1)  # 16 on 1 September: not 15 on 31 August
    youngest = datetime.date(day.year - 6, 8, 31)
    return oldest, youngest


def unrecorded_refresh(*, province_code: str) -> int:
    """有人无籍: children of compulsory age in the province's roll with no record anywhere join
    the list (once); children listed as open who have a record now are marked found. Set-based
    and linear: the roll's children are anti-joined (hashed) to the records' blind indexes and
    to the list, into a temporary table first, so that no statement reads the table it writes.
    Returns how many joined."""
    postgres = connection.vendor == "postgresql"
    now = timezone.now() if postgres else connection.ops.adapt_datetimefield_value(timezone.now())
    oldest, youngest = compulsory_birth_range(timezone.localdate())
    new_id = "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"
    # Records holding a resident ID number (the partial unique index one_record_per_document's
    # condition named, for a look-up of one child). SQLite uses a partial index only where the
    # query states its condition as written in the index, NOT (id_number_index = ''): with
    # `<> ''` it scanned every record once per roll child (170.5 s of a 19,844-row load).
    # PostgreSQL's form is kept as it is (the planner reads both alike).
    not_empty = "id_number_index <> ''" if postgres else "NOT (id_number_index = '')"
    recorded = f"SELECT id_number_index FROM {STUDENT} WHERE id_doc_type = '1' AND {not_empty}"
    with _hash_joins(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {JOINING}")
        cursor.execute(
            f"CREATE TEMP TABLE {JOINING} AS SELECT r.id, r.household_division FROM {ENTRY} r "
            f"LEFT JOIN ({recorded}) s ON s.id_number_index = r.id_number_index "
            f"LEFT JOIN {UNRECORDED} u ON u.roll_entry_id = r.id "
            f"WHERE r.province_code = %s AND r.birth_date >= %s AND r.birth_date <= %s "
            f"AND s.id_number_index IS NULL AND u.roll_entry_id IS NULL",
            [province_code, oldest, youngest],
        )
        cursor.execute(
            f"INSERT INTO {UNRECORDED} (id, roll_entry_id, county_code, state, reason, "
            f"case_reference, found_at) SELECT {new_id}, id, household_division, 'open', '', "
            f"'', %s FROM {JOINING}",
            [now],
        )
        joined = int(cursor.rowcount)
        cursor.execute(f"DROP TABLE {JOINING}")
        cursor.execute(
            f"UPDATE {UNRECORDED} SET state = 'found', reason = 'record' WHERE id IN ("
            f"SELECT u.id FROM {UNRECORDED} u JOIN {ENTRY} r ON r.id = u.roll_entry_id "
            f"JOIN ({recorded}) s ON s.id_number_index = r.id_number_index "
            f"WHERE u.state = 'open' AND r.province_code = %s)",
            [province_code],
        )
    return joined


def confirmed_l_numbers(*, province_code: str) -> list[Any]:
    """L-numbered records of the province whose identity the roll now confirms."""
    return list(
        Student.objects.filter(
            number_kind=NumberKind.L,
            identity_status__status="confirmed",
            identity_status__province_code=province_code,
        ).values_list("pk", flat=True)
    )


def content_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def load_rows(load: RollLoad, rows: list[RollRow]) -> dict[str, float]:
    """The staged rows (every one of `rows`: a batch lost to a server crash is staged again)
    merged into the roll, then statuses and 有人无籍 recomputed, in the caller's transaction;
    the load's staged rows deleted. Returns the seconds of each step."""
    assert transaction.get_connection().in_atomic_block
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if staged_count(load) != len(rows):
        # The unlogged staging table lost rows (a server crash): stage again from the start.
        staging_clear(load)
        RollLoad.objects.filter(pk=load.pk).update(rows=0)
        stage(load, rows)
    timings["staged_check"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    with _hash_joins():
        _merge(load)
    timings["merge"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    status_recompute(province_code=load.province_code)
    timings["status"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    unrecorded_refresh(province_code=load.province_code)
    timings["unrecorded"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    staging_clear(load)
    timings["staging_cleared"] = round(time.perf_counter() - started, 3)
    return timings
