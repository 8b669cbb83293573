"""Every sealed value of the registry, moved to the active suite's active key by
`xueji rotate_keys`, and counted by suite and key by `xueji crypto status`.

The columns: the students app's own (the student number and the child's and family's document
numbers, each with its blind index; a former number with its index), and those another app
registers at start-up (`sealed_column_register`: the evidence documents, an export's criteria).

A move (a new key in the same suite, or another suite) runs while the registry is in use:

- Every value names its suite and key (xueji.core.crypto), and every suite whose keys are held
  decrypts, so records sealed before and after the move read alike while it runs.
- A suite's blind index is another function than the other suite's: a number's index must be
  recomputed when its value moves. Until the move is over, a lookup asks for the number's index
  under every suite held (`blind_indexes`: two values in an IN, two probes of the same unique
  index), so a record is found whether it has moved yet or not.
- Uniqueness: each write checks for a holder under both digests (the services ask the national
  interface, which looks up both), and the unique indexes catch two concurrent writes of the
  same number, which both carry the active suite's digest. A record not yet moved and a new one
  of the same number would differ in digest, which is why the check asks for both. Deploy the
  new suite's keys first with the old suite still active (every process then looks up both
  digests), then switch XUEJI_CRYPTO_SUITE: during a rolling restart a process of either
  setting then checks both digests.
- The move goes batch by batch (keyset pagination on the primary key), one set-based UPDATE
  and one audit entry per batch, in a transaction of its own. The UPDATE is conditional on the
  sealed value being still the one read (`... WHERE t.pk = v.pk AND t.col = v.old`): a record
  changed meanwhile by a correction keeps its new value and is left to the next run, so no lock
  is held while values are decrypted and no write is lost. Interrupted, it resumes where the
  values not yet under the active key are, which is where `rotate_keys` starts again.
- A record whose recomputed index meets another record's (a duplicate registered across the two
  digests) is left as it is and named, to be resolved as a duplicate.
- Once `xueji crypto status` counts no value outside the active suite, the other suite's field
  and index keys can be removed; lookups then compute one digest.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, F, Value
from django.db.models.functions import StrIndex, Substr

from xueji.audit.services import audit_record
from xueji.core.crypto import (
    KeyError_,
    blind_indexes,
    decrypt,
    encrypt,
    keyring,
    sealed_prefix,
    suite_of_tag,
)
from xueji.students.identity import (
    FAMILY_ID_NUMBER,
    STUDENT_ID_NUMBER,
    STUDENT_NUMBER,
    document_index,
    number_index,
)
from xueji.students.models import FamilyMember, Student, StudentNumberAlias

DEFAULT_BATCH = 5000
# Rows per UPDATE statement: four parameters each, well under SQLite's and PostgreSQL's limits.
STATEMENT_ROWS = 1000
# Values kept apart in a report (the rest are counted).
NAMED = 20


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed values: its model, field and encryption context, and its blind index
    when it has one (the field, and how the active suite's index is made from the plain value
    and the row's other columns that `reads` names)."""

    model: type[models.Model]
    field: str
    context: str
    index_field: str = ""
    index: Callable[[str, dict[str, Any]], str] | None = None
    reads: tuple[str, ...] = ()
    batch_rows: int = 0  # at most this many rows per batch (large values); 0: the caller's

    @property
    def label(self) -> str:
        return f"{self.model._meta.db_table}.{self.field}"


def _number_index(plain: str, row: dict[str, Any]) -> str:
    return number_index(plain)


def _document_index(plain: str, row: dict[str, Any]) -> str:
    return document_index(row["id_doc_type"], plain)


_COLUMNS: list[SealedColumn] = [
    SealedColumn(Student, "number_sealed", STUDENT_NUMBER, "number_index", _number_index),
    SealedColumn(
        Student,
        "id_number_sealed",
        STUDENT_ID_NUMBER,
        "id_number_index",
        _document_index,
        ("id_doc_type",),
    ),
    SealedColumn(
        FamilyMember,
        "id_number_sealed",
        FAMILY_ID_NUMBER,
        "id_number_index",
        _document_index,
        ("id_doc_type",),
    ),
    SealedColumn(
        StudentNumberAlias, "number_sealed", STUDENT_NUMBER, "number_index", _number_index
    ),
]


def sealed_column_register(column: SealedColumn) -> None:
    """Another app's sealed column (called from its AppConfig.ready), moved and counted with
    the registry's own."""
    if all((known.model, known.field) != (column.model, column.field) for known in _COLUMNS):
        _COLUMNS.append(column)


def sealed_columns() -> tuple[SealedColumn, ...]:
    return tuple(_COLUMNS)


# ---- the move ----------------------------------------------------------------------------------


@dataclass
class ColumnMove:
    label: str
    moved: int = 0  # re-encrypted (and re-indexed) under the active key
    changed_meanwhile: int = 0  # written by someone else between read and update: next run
    unreadable: int = 0  # a key not held, or a value that does not authenticate
    conflicts: int = 0  # the recomputed index is another record's
    recovered: int = 0  # former numbers sealed for the first time (see _recover_aliases)
    unrecoverable: int = 0
    named: list[str] = field(default_factory=list)  # the first problems, by primary key

    def name(self, pk: Any, problem: str) -> None:
        if len(self.named) < NAMED:
            self.named.append(f"{self.label} {pk}: {problem}")

    @property
    def left(self) -> int:
        return self.changed_meanwhile + self.unreadable + self.conflicts + self.unrecoverable


@dataclass
class MoveResult:
    suite: str
    key_id: str
    columns: list[ColumnMove] = field(default_factory=list)

    @property
    def moved(self) -> int:
        return sum(column.moved + column.recovered for column in self.columns)

    @property
    def left(self) -> int:
        return sum(column.left for column in self.columns)


def _pages(column: SealedColumn, batch_size: int, prefix: str) -> Iterator[list[dict[str, Any]]]:
    """The column's values not yet under the active key, a batch at a time in primary-key order
    (a value that stays behind, unreadable or in conflict, is not read twice)."""
    model = column.model
    pk_name = model._meta.pk.attname
    size = min(batch_size, column.batch_rows) if column.batch_rows else batch_size
    fields = [pk_name, column.field, *column.reads]
    if column.index_field:
        fields.append(column.index_field)
    last = None
    while True:
        rows = model._default_manager.exclude(**{column.field: ""}).exclude(
            **{f"{column.field}__startswith": prefix}
        )
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(rows.order_by("pk").values(*fields)[:size])
        if not batch:
            return
        last = batch[-1][pk_name]
        yield batch


def _conditional_update(
    column: SealedColumn, changes: list[tuple[Any, str, str, str]], *, sealed_field: str = ""
) -> int:
    """Write (pk, value read, new value, new index) where the row still holds the value read:
    one UPDATE … FROM (VALUES …) per STATEMENT_ROWS rows (SQLite 3.33 or later, as PostgreSQL);
    the rows written."""
    model = column.model
    quote = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None

    def column_of(name: str) -> str:
        return quote(str(model._meta.get_field(name).column))  # type: ignore[union-attr]

    table, pk_column = quote(model._meta.db_table), quote(str(pk.column))
    compared = column_of(sealed_field or column.field)
    # VALUES' columns are column1… on both databases (SQLite names no others); a statement that
    # starts with UPDATE, not WITH, is one whose rows Python's sqlite3 counts.
    sets = [f"{column_of(column.field)} = v.column3"]
    if column.index_field:
        sets.append(f"{column_of(column.index_field)} = v.column4")
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(changes), STATEMENT_ROWS):
            part = changes[start : start + STATEMENT_ROWS]
            params: list[Any] = []
            for key, old, new, index in part:
                params += [pk.get_db_prep_value(key, connection), old, new, index]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(part))
            cursor.execute(
                f"UPDATE {table} SET {', '.join(sets)} FROM (VALUES {values}) AS v "
                f"WHERE {table}.{pk_column} = v.column1 AND {table}.{compared} = v.column2",
                params,
            )
            written += max(cursor.rowcount, 0)
    return written


def _write_batch(
    column: SealedColumn,
    changes: list[tuple[Any, str, str, str]],
    report: ColumnMove,
    *,
    sealed_field: str = "",
) -> int:
    """The batch's UPDATE in a savepoint; on a unique index's refusal, row by row, each refused
    one named as a conflict."""
    try:
        with transaction.atomic():
            return _conditional_update(column, changes, sealed_field=sealed_field)
    except IntegrityError:
        pass
    written = 0
    for change in changes:
        try:
            with transaction.atomic():
                written += _conditional_update(column, [change], sealed_field=sealed_field)
        except IntegrityError:
            report.conflicts += 1
            report.name(
                change[0],
                "its index under the active suite is already another record's (a duplicate)",
            )
    return written


def _move_column(column: SealedColumn, *, actor: Any, batch_size: int, progress: Any) -> ColumnMove:
    report = ColumnMove(column.label)
    keys = keyring().active
    prefix = sealed_prefix()
    for batch in _pages(column, batch_size, prefix):
        pk_name = column.model._meta.pk.attname
        changes: list[tuple[Any, str, str, str]] = []
        for row in batch:
            sealed = row[column.field]
            try:
                plain = decrypt(sealed, context=column.context)
            except (KeyError_, InvalidTag, ValueError) as error:
                report.unreadable += 1
                report.name(row[pk_name], f"cannot be read ({error or 'it does not authenticate'})")
                continue
            index = column.index(plain, row) if column.index is not None else ""
            changes.append((row[pk_name], sealed, encrypt(plain, context=column.context), index))
        if not changes:
            continue
        with transaction.atomic():
            before = report.conflicts
            written = _write_batch(column, changes, report)
            if written:
                audit_record(
                    actor=actor,
                    action="keys.rotate_batch",
                    detail={
                        "table": column.model._meta.db_table,
                        "field": column.field,
                        "rows": written,
                        "to_suite": keys.suite.name,
                        "to_key": keys.active_id,
                        "index": column.index_field,
                    },
                )
        report.moved += written
        report.changed_meanwhile += len(changes) - written - (report.conflicts - before)
        if progress is not None:
            progress(column.label, report.moved)
    return report


# ---- former numbers kept before their sealed value was ---------------------------------------

EARLIEST_BIRTH = datetime.date(1900, 1, 1)


def _birth_dates(first: datetime.date | None) -> Iterator[datetime.date]:
    """The child's birth date first, then every other day since 1900 (a birth date corrected
    since the number was retired)."""
    if first is not None:
        yield first
    day, last = EARLIEST_BIRTH, datetime.date.today()
    while day <= last:
        if day != first:
            yield day
        day += datetime.timedelta(days=1)


def recovered_number(masked: str, index: str, birth_date: datetime.date | None) -> str:
    """The former number behind `masked` whose index (under any suite held) is `index`, or "".

    A student number is its letter, the six digits of the area code, the eight of the birth date,
    three and the check character; the masked form hides only the birth date, and the index,
    computed with the key held, says which date is the one."""
    if len(masked) != 19 or masked[7:15] != "*" * 8:
        return ""
    for day in _birth_dates(birth_date):
        candidate = f"{masked[:7]}{day:%Y%m%d}{masked[15:]}"
        if index in blind_indexes(candidate, context=STUDENT_NUMBER):
            return candidate
    return ""


def _recover_aliases(*, actor: Any, batch_size: int, report: ColumnMove) -> None:
    """Seal the former numbers kept before aliases held their sealed value, recovered from the
    masked number and the index (the student's birth date first), and index them under the
    active suite. One that cannot be recovered keeps its index: it is found while the suite that
    made it is held."""
    column = next(c for c in _COLUMNS if c.model is StudentNumberAlias)
    keys = keyring().active
    last = None
    while True:
        rows = StudentNumberAlias.objects.filter(number_sealed="")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(
            rows.order_by("pk").values(
                "pk", "number_masked", "number_index", "student__birth_date"
            )[:batch_size]
        )
        if not batch:
            return
        last = batch[-1]["pk"]
        changes = []
        for row in batch:
            plain = recovered_number(
                row["number_masked"], row["number_index"], row["student__birth_date"]
            )
            if not plain:
                report.unrecoverable += 1
                report.name(
                    row["pk"],
                    "a former number kept without its sealed value could not "
                    "be recovered; it keeps its index",
                )
                continue
            # Compared on the index read: nothing else writes an alias's index.
            changes.append(
                (
                    row["pk"],
                    row["number_index"],
                    encrypt(plain, context=STUDENT_NUMBER),
                    number_index(plain),
                )
            )
        if not changes:
            continue
        with transaction.atomic():
            before = report.conflicts
            written = _write_batch(column, changes, report, sealed_field="number_index")
            if written:
                audit_record(
                    actor=actor,
                    action="keys.rotate_batch",
                    detail={
                        "table": StudentNumberAlias._meta.db_table,
                        "field": "number_sealed",
                        "rows": written,
                        "recovered": True,
                        "to_suite": keys.suite.name,
                        "to_key": keys.active_id,
                        "index": "number_index",
                    },
                )
        report.recovered += written
        report.changed_meanwhile += len(changes) - written - (report.conflicts - before)


def sealed_values_rotate(
    *, actor: Any, batch_size: int = DEFAULT_BATCH, progress: Any = None
) -> MoveResult:
    """Move every sealed value not under the active suite's active key to it, recomputing its
    blind index, batch by batch (see the module's description). Safe to interrupt and to run
    again; what it could not move is counted and the first of each kind named."""
    if batch_size < 1:
        raise ValueError("the batch size is at least 1")
    keys = keyring().active
    result = MoveResult(suite=keys.suite.name, key_id=keys.active_id)
    for column in sealed_columns():
        report = _move_column(column, actor=actor, batch_size=batch_size, progress=progress)
        if column.model is StudentNumberAlias:
            _recover_aliases(actor=actor, batch_size=batch_size, report=report)
        result.columns.append(report)
    return result


# ---- the status --------------------------------------------------------------------------------


@dataclass
class ColumnStatus:
    label: str
    by_key: dict[tuple[str, str], int]  # (suite, key id) -> values
    unsealed: int = 0  # former numbers kept without their sealed value

    def outside(self, suite: str, key_id: str) -> int:
        """Values not under this suite's key."""
        return sum(n for (s, k), n in self.by_key.items() if (s, k) != (suite, key_id))


def _prefix(field_name: str) -> Any:
    """The value's "<tag>.<key id>" (the text before its second dot), in SQL."""
    first = StrIndex(F(field_name), Value("."))
    rest = Substr(F(field_name), first + 1)
    return Substr(F(field_name), 1, first + StrIndex(rest, Value(".")) - 1)


def sealed_values_status() -> list[ColumnStatus]:
    """Each column's values counted by suite and key (one aggregate query per column: a scan
    of the table)."""
    found = []
    for column in sealed_columns():
        counts: dict[tuple[str, str], int] = {}
        rows = (
            column.model._default_manager.exclude(**{column.field: ""})
            .annotate(prefix=_prefix(column.field))
            .values("prefix")
            .annotate(values=Count("pk"))
            .order_by()
        )
        for row in rows:
            tag, _dot, key_id = str(row["prefix"]).partition(".")
            try:
                suite = suite_of_tag(tag).name
            except ValueError:
                suite = tag
            counts[(suite, key_id)] = counts.get((suite, key_id), 0) + int(row["values"])
        status = ColumnStatus(column.label, counts)
        if column.model is StudentNumberAlias:
            status.unsealed = StudentNumberAlias.objects.filter(number_sealed="").count()
        found.append(status)
    return found
