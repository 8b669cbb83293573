"""A chunk's valid new students as the COPY text of the record's four tables (student, family,
placement, registration event), with their time-ordered keys."""

from __future__ import annotations

import json
import os
import struct
from functools import lru_cache
from typing import Any

from xueji.core import codes
from xueji.core.idnumbers import g_number
from xueji.imports.pipeline.chunk import ChunkContext, ChunkResult
from xueji.imports.pipeline.copy_text import COPY_BOOL, copy_escape
from xueji.students.bulk import uuid7_texts
from xueji.students.identity import (
    FAMILY_ID_NUMBER,
    STUDENT_ID_NUMBER,
    document_fields,
    document_indexes,
    student_number_fields,
)
from xueji.students.models import EventKind, NumberKind, PlacementReason, RecordState
from xueji.students.pinyin import name_initials, name_pinyin
from xueji.students.validation import StudentColumns

# The bits of a key's counter that number the keys within a chunk (the rest number the chunk).
CHUNK_KEY_BITS = 24
REGISTRATION = PlacementReason.REGISTRATION.value


def format_valid(
    context: ChunkContext,
    chunk_number: int,
    rows: list[tuple[int, list[Any]]],
    employers: list[list[str]],
    student: dict[str, list[Any]],
    columns: StudentColumns,
    placed: list[tuple[int, int, str] | None],
    errors_of: dict[int, list[list[Any]]],
    result: ChunkResult,
) -> None:
    """The COPY text of the chunk's valid rows (all of them are written, or none of the file)."""
    valid = [
        row
        for row, (sheet_row, _cells) in enumerate(rows)
        if sheet_row not in errors_of and placed[row] is not None
    ]
    if not valid:
        return
    keys = chunk_keys(context.import_ms, chunk_number, len(valid) * 5)
    resident = codes.IdDocType.RESIDENT_ID.value
    state = RecordState.ENROLLED.value
    school = str(context.school_pk)
    now = context.now
    start = context.start_date.isoformat()
    actor = "\\N" if context.actor_id is None else str(context.actor_id)
    shared: dict[tuple[int, str], tuple[str, str]] = {}
    family_blocks = list(enumerate(columns.family))
    for ordinal, row in enumerate(valid):
        sheet_row = rows[row][0]
        base = ordinal * 5
        key = keys[base]
        name = columns.name[row]
        doc_type = columns.id_doc_type[row]
        number = columns.id_number[row]
        document = document_fields(doc_type, number, context=STUDENT_ID_NUMBER)
        if number:
            where = (
                f"{document['id_number_masked']}\t{copy_escape(name)}\t{chunk_number}\t{sheet_row}"
            )
            result.other_suite_documents += [
                f"{doc_type}\t{index}\t{where}" for index in document_indexes(doc_type, number)[1:]
            ]
        pinyin, initials = _spelled(name)
        born = columns.birth_date[row]
        # Only rows that passed every check are formatted, and a missing birth date is an error.
        assert born is not None
        rest = "\t".join(
            (
                copy_escape(name),
                pinyin,
                initials,
                columns.sex[row],
                born.isoformat(),
                columns.birthplace_code[row],
                columns.native_place_code[row] or "\\N",
                columns.ethnicity[row],
                columns.nationality[row],
                doc_type,
                document["id_number_masked"],
                document["id_number_sealed"],
                document["id_number_index"],
                columns.overseas_status[row],
                columns.health[row],
                columns.hukou_division_code[row] or "\\N",
                columns.hukou_nature[row],
                copy_escape(student["former_name"][row]),
                copy_escape(student["address"][row]),
                copy_escape(columns.phone[row]),
                columns.attendance_mode[row],
                columns.entry_method[row],
                COPY_BOOL[student["only_child"][row]],
                COPY_BOOL[student["attended_preschool"][row]],
                columns.left_behind[row],
                COPY_BOOL[student["migrant_child"][row]],
                COPY_BOOL[student["orphan"][row]],
                COPY_BOOL[student["martyr_family"][row]],
                COPY_BOOL[student["inclusive_education"][row]],
                columns.disability_type[row],
                COPY_BOOL[student["needs_aid"][row]],
                COPY_BOOL[student["needs_school_bus"][row]],
                state,
                school,
                now,
                now,
                str(chunk_number),
                str(sheet_row),
            )
        )
        if doc_type == resident:
            sealed = student_number_fields(g_number(number))
            result.students.append(
                f"{key}\t{sealed['number_masked']}\t{sealed['number_sealed']}\t"
                f"{sealed['number_index']}\t{NumberKind.G.value}\t{rest}"
            )
        else:
            result.unnumbered.append((key, rest, born))
        member_ordinal = 0
        for n, block in family_blocks:
            if not block.present[row]:
                continue
            member_doc_type = block.id_doc_type[row]
            member_number = block.id_number[row]
            doc = document_fields(member_doc_type, member_number, context=FAMILY_ID_NUMBER)
            result.family.append(
                "\t".join(
                    (
                        keys[base + 1 + member_ordinal],
                        key,
                        str(member_ordinal),
                        block.relation[row],
                        copy_escape(block.name[row]),
                        member_doc_type,
                        doc["id_number_masked"],
                        doc["id_number_sealed"],
                        doc["id_number_index"],
                        copy_escape(block.phone[row]),
                        copy_escape(employers[n][row]),
                        COPY_BOOL[block.is_guardian[row]],
                        block.missing_reason[row],
                    )
                )
            )
            member_ordinal += 1
        class_pk, grade, note = placed[row]  # type: ignore[misc]
        tails = shared.get((class_pk, note))
        if tails is None:
            detail = {
                "school": context.school_code,
                "class": class_pk,
                "grade": grade,
                "age_confirmation": note,
                "import": True,
            }
            tails = shared[(class_pk, note)] = (
                f"{school}\t{class_pk}\t{grade}\t{start}\t\\N\t{REGISTRATION}",
                f"{EventKind.REGISTERED.value}\t{start}\t{now}\t{actor}\t"
                + copy_escape(json.dumps(detail, ensure_ascii=False)),
            )
        result.placements.append(f"{keys[base + 3]}\t{key}\t{tails[0]}")
        result.events.append(f"{keys[base + 4]}\t{key}\t{tails[1]}")


def chunk_keys(import_ms: int, chunk_number: int, count: int) -> list[str]:
    """Time-ordered UUIDs (version 7: the import's start in milliseconds, the chunk and a
    counter, 32 random bits): unique within the import without coordination between workers,
    and the primary keys and the indexes led by student_id grow at their right edge."""
    randoms = struct.unpack(f"<{count}I", os.urandom(4 * count))
    return uuid7_texts(import_ms, chunk_number << CHUNK_KEY_BITS, randoms)


@lru_cache(maxsize=100_000)
def _spelled(name: str) -> tuple[str, str]:
    """Pinyin and initials of a name; names repeat a lot in a school's file."""
    return name_pinyin(name), name_initials(name)
