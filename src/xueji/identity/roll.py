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
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.core import codes
from xueji.core.crypto import encrypt
from xueji.core.idnumbers import mask_id_number, validate_resident_id
from xueji.geo.models import Division
from xueji.identity.models import (
    IdentityStatus,
    RollEntry,
    RollLoad,
    UnrecordedChild,
)
from xueji.students.identity import document_index
from xueji.students.models import NumberKind, Student
from xueji.students.names import name_key

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
BATCH = 5000

ENTRY = RollEntry._meta.db_table
STATUS = IdentityStatus._meta.db_table
STUDENT = Student._meta.db_table
UNRECORDED = UnrecordedChild._meta.db_table
SCHOOL = "schools_school"
STAGING = "identity_roll_staging"
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
    """Every row checked; RollRefused with the errors (at most MAX_ERRORS) if any fails."""
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
    where = {column: header.index(column) for column in COLUMNS if column in header}
    divisions = set(
        Division.objects.filter(code__startswith=province_code[:2]).values_list("code", flat=True)
    )
    errors: list[dict[str, Any]] = []
    found: list[RollRow] = []
    seen: set[str] = set()

    def error(row: int, column: str, message: str) -> None:
        errors.append({"row": row, "field": column, "message": str(message)})

    for number, cells in enumerate(iterator, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(errors) >= MAX_ERRORS:
            break

        def cell(column: str, cells: list[str] = cells) -> str:
            index = where.get(column)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        name, sex, born = cell("name"), _sex(cell("sex")), _date(cell("birth_date"))
        division = cell("household_division")
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
            try:
                resident = validate_resident_id(cell("id_number"), birth_date=born, sex=sex)
            except ValidationError as refused:
                error(number, "id_number", " ".join(refused.messages))
                continue
            if resident.number in seen:
                error(number, "id_number", _("The ID number appears twice in the file."))
                continue
            seen.add(resident.number)
            household_type = cell("household_type")[:1]
            found.append(
                RollRow(
                    id_number=resident.number,
                    name=name,
                    sex=sex,
                    birth_date=born,
                    household_division=division,
                    household_address=cell("household_address")[:200],
                    household_type=household_type if household_type in "123" else "",
                )
            )
    if errors:
        raise RollRefused(errors)
    return found


def _sealed(rows: list[RollRow]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield (
            document_index(codes.IdDocType.RESIDENT_ID, row.id_number),
            encrypt(row.id_number, context=ROLL_ID_NUMBER),
            mask_id_number(row.id_number),
            row.name,
            name_key(row.name)[:64],
            row.sex,
            row.birth_date,
            row.household_division,
            row.household_address,
            row.household_type,
        )


def _copy_text(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime.date) else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _stage(rows: list[RollRow]) -> None:
    """The sealed rows into a temporary staging table (dropped at commit)."""
    postgres = connection.vendor == "postgresql"
    types = "text, text, text, text, text, varchar(1), date, varchar(6), text, varchar(1)"
    columns = ", ".join(
        f"{name} {kind}" for name, kind in zip(STAGING_COLUMNS, types.split(", "), strict=True)
    )
    with connection.cursor() as cursor:
        if postgres:
            # A second load in one transaction (a test, a batch of files) finds the table there.
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGING}")
            cursor.execute(f"CREATE TEMP TABLE {STAGING} ({columns}) ON COMMIT DROP")
            raw = cursor.cursor
            with raw.copy(f"COPY {STAGING} ({', '.join(STAGING_COLUMNS)}) FROM STDIN") as copy:
                buffer: list[str] = []
                for values in _sealed(rows):
                    buffer.append("\t".join(_copy_text(value) for value in values))
                    if len(buffer) >= BATCH:
                        copy.write("\n".join(buffer) + "\n")
                        buffer = []
                if buffer:
                    copy.write("\n".join(buffer) + "\n")
        else:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{STAGING}")
            cursor.execute(f"CREATE TEMP TABLE {STAGING} ({columns})")
            sql = (
                f"INSERT INTO {STAGING} ({', '.join(STAGING_COLUMNS)}) "
                f"VALUES ({', '.join(['%s'] * len(STAGING_COLUMNS))})"
            )
            batch: list[tuple[Any, ...]] = []
            for values in _sealed(rows):
                batch.append(
                    tuple(v.isoformat() if isinstance(v, datetime.date) else v for v in values)
                )
                if len(batch) >= BATCH:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)


def _merge(load: RollLoad) -> None:
    """The staged rows into the roll: added, or updated where the ID number is there already;
    for a whole file, the province's children it no longer lists removed."""
    names = ", ".join(STAGING_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in STAGING_COLUMNS[1:]) + (
        ", province_code = excluded.province_code, load_id = excluded.load_id"
    )
    load_id = load.pk if connection.vendor == "postgresql" else load.pk.hex
    with connection.cursor() as cursor:
        if not load.incremental:
            gone = (
                f"SELECT id FROM {ENTRY} WHERE province_code = %s AND id_number_index NOT IN "
                f"(SELECT id_number_index FROM {STAGING})"
            )
            cursor.execute(
                f"DELETE FROM {UNRECORDED} WHERE roll_entry_id IN ({gone})", [load.province_code]
            )
            cursor.execute(
                f"UPDATE {STATUS} SET roll_entry_id = NULL WHERE roll_entry_id IN ({gone})",
                [load.province_code],
            )
            cursor.execute(
                f"DELETE FROM {ENTRY} WHERE id IN ({gone})",
                [load.province_code],
            )
        # "WHERE true" lets SQLite tell the upsert's ON CONFLICT from a join's ON.
        cursor.execute(
            f"INSERT INTO {ENTRY} ({names}, province_code, load_id) "
            f"SELECT {names}, %s, %s FROM {STAGING} WHERE true "
            f"ON CONFLICT (id_number_index) DO UPDATE SET {updates}",
            [load.province_code, load_id],
        )


def _household_province() -> str:
    """SQL: the province of a record's household (its household division, else its ID number's
    area, else its school's county)."""
    return (
        "substr(COALESCE(s.hukou_division_id, "
        "CASE WHEN s.id_doc_type = '1' THEN substr(s.id_number_masked, 1, 6) END, "
        "sc.county_id), 1, 2)"
    )


def status_recompute(*, province_code: str, student_ids: list[Any] | None = None) -> int:
    """The identity status of every record whose household lies in the province (or of the
    records named), set-based: one DELETE and one INSERT … SELECT. Inside the caller's
    transaction. Returns how many records were checked."""
    postgres = connection.vendor == "postgresql"
    now = timezone.now() if postgres else connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any] = [province_code[:2]]
    only = ""
    if student_ids is not None:
        only = f" AND s.id IN ({', '.join(['%s'] * len(student_ids))})"
        params += [sid if postgres else sid.hex for sid in student_ids]
    name_differs = "(r.id IS NOT NULL AND r.name <> s.name AND r.name_key <> s.name)"
    sex_differs = "(r.id IS NOT NULL AND r.sex <> s.sex)"
    date_differs = "(r.id IS NOT NULL AND r.birth_date <> s.birth_date)"
    select = (
        f"SELECT s.id, %s, sc.county_id, "
        f"CASE WHEN r.id IS NULL THEN 'not_in_roll' "
        f"WHEN {name_differs} OR {sex_differs} OR {date_differs} THEN 'disagrees' "
        f"ELSE 'confirmed' END, {name_differs}, {sex_differs}, {date_differs}, r.id, %s "
        f"FROM {STUDENT} s JOIN {SCHOOL} sc ON sc.id = s.school_id "
        f"LEFT JOIN {ENTRY} r ON s.id_doc_type = '1' AND r.id_number_index = s.id_number_index "
        f"WHERE s.state <> 'merged' AND {_household_province()} = %s{only}"
    )
    with connection.cursor() as cursor:
        scope = f"SELECT s.id FROM {STUDENT} s JOIN {SCHOOL} sc ON sc.id = s.school_id WHERE "
        cursor.execute(
            f"DELETE FROM {STATUS} WHERE student_id IN ({scope}{_household_province()} = %s{only})",
            params,
        )
        cursor.execute(
            f"INSERT INTO {STATUS} (student_id, province_code, county_code, status, "
            f"name_differs, sex_differs, birth_date_differs, roll_entry_id, checked_at) {select}",
            [province_code, now, *params],
        )
        return int(cursor.rowcount)


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
    the list (once); children listed as open who have a record now are marked found. Returns
    how many joined."""
    postgres = connection.vendor == "postgresql"
    now = timezone.now() if postgres else connection.ops.adapt_datetimefield_value(timezone.now())
    oldest, youngest = compulsory_birth_range(timezone.localdate())
    new_id = "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"
    has_record = (
        f"EXISTS (SELECT 1 FROM {STUDENT} s WHERE s.id_doc_type = '1' "
        # The partial unique index one_record_per_document serves this (its condition named).
        f"AND s.id_number_index = r.id_number_index AND s.id_number_index <> '')"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {UNRECORDED} (id, roll_entry_id, county_code, state, reason, "
            f"case_reference, found_at) SELECT {new_id}, r.id, r.household_division, 'open', '', "
            f"'', %s FROM {ENTRY} r WHERE r.province_code = %s AND r.birth_date >= %s "
            f"AND r.birth_date <= %s AND NOT {has_record} "
            f"AND NOT EXISTS (SELECT 1 FROM {UNRECORDED} u WHERE u.roll_entry_id = r.id)",
            [now, province_code, oldest, youngest],
        )
        joined = int(cursor.rowcount)
        cursor.execute(
            f"UPDATE {UNRECORDED} SET state = 'found', reason = 'record' WHERE state = 'open' "
            f"AND roll_entry_id IN (SELECT r.id FROM {ENTRY} r WHERE r.province_code = %s "
            f"AND {has_record})",
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
    """Stage and merge checked rows, then recompute statuses and 有人无籍 (the caller's
    transaction). Returns the seconds of each step."""
    assert transaction.get_connection().in_atomic_block
    timings: dict[str, float] = {}
    started = time.perf_counter()
    _stage(rows)
    timings["staging"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    _merge(load)
    timings["merge"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    status_recompute(province_code=load.province_code)
    timings["status"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    unrecorded_refresh(province_code=load.province_code)
    timings["unrecorded"] = round(time.perf_counter() - started, 3)
    return timings
