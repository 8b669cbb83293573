"""`xueji duplicates check-file FILE.csv --output pairs.csv [--against-registry]`: the
duplicates inside a file of records (a province's legacy data before it is imported) and,
optionally, against the registry.

Input columns: record_id, name, sex (M/F), birth_date (YYYY-MM-DD), id_type (resident_id,
passport, hk_macao, taiwan, foreign_permit, none), id_number, birthplace (6-digit division),
ethnicity (2-digit), father_name, father_id, mother_name, mother_id, school_county; any column
but the first may be empty. Output: record_id_a, record_id_b, score, reasons. A registry record
is named `registry:` and its masked student number (no plain number leaves the registry)."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from xueji.core import codes
from xueji.identity.matching import Match, Person, find_against, find_duplicates
from xueji.students.identity import document_index

INPUT_COLUMNS = (
    "record_id",
    "name",
    "sex",
    "birth_date",
    "id_type",
    "id_number",
    "birthplace",
    "ethnicity",
    "father_name",
    "father_id",
    "mother_name",
    "mother_id",
    "school_county",
)
OUTPUT_COLUMNS = ("record_id_a", "record_id_b", "score", "reasons")
ID_TYPES = {
    "resident_id": codes.IdDocType.RESIDENT_ID.value,
    "passport": codes.IdDocType.PASSPORT.value,
    "hk_macao": codes.IdDocType.HONG_KONG.value,
    "taiwan": codes.IdDocType.TAIWAN_PERMIT.value,
    "foreign_permit": codes.IdDocType.FOREIGN_PERMANENT.value,
    "none": "",
    "": "",
}
SEXES = {"M": codes.Sex.MALE.value, "F": codes.Sex.FEMALE.value}


class BadFile(Exception):
    pass


def _date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def people_of(rows: Iterable[dict[str, str]], *, blind_parents: bool = False) -> list[Person]:
    """The file's rows as the matcher's records (parents' ID numbers blind-indexed when they are
    compared with the registry's, which keeps only those)."""
    found = []
    for row in rows:
        get = {column: (row.get(column) or "").strip() for column in INPUT_COLUMNS}
        if not get["record_id"]:
            continue
        if get["id_type"] not in ID_TYPES:
            raise BadFile(f"record {get['record_id']}: unknown id_type {get['id_type']!r}")
        father, mother = get["father_id"], get["mother_id"]
        if blind_parents:
            father = document_index("1", father) if father else ""
            mother = document_index("1", mother) if mother else ""
        found.append(
            Person(
                key=get["record_id"],
                name=get["name"],
                sex=SEXES.get(get["sex"].upper(), ""),
                birth_date=_date(get["birth_date"]),
                id_type=ID_TYPES[get["id_type"]],
                id_number=get["id_number"].upper(),
                birthplace=get["birthplace"],
                ethnicity=get["ethnicity"],
                father_name=get["father_name"],
                father_id=father,
                mother_name=get["mother_name"],
                mother_id=mother,
                county=get["school_county"],
            )
        )
    return found


def check_file(source: TextIO, *, against_registry: bool = False) -> list[Match]:
    reader = csv.DictReader(source)
    if reader.fieldnames is None or "record_id" not in reader.fieldnames:
        raise BadFile("the file has no record_id column")
    people = people_of(reader, blind_parents=against_registry)
    matches = find_duplicates(people)
    if against_registry:
        from xueji.identity.scan import _person
        from xueji.students.models import Student
        from xueji.students.national import national_index

        registry = [_person(row) for row in national_index().match_rows()]
        masked = dict(
            Student.objects.filter(pk__in=[p.key for p in registry]).values_list(
                "pk", "number_masked"
            )
        )
        names = {str(pk): f"registry:{number}" for pk, number in masked.items()}
        inside = {person.key for person in people}
        for match in find_against(people, registry):
            a, b = (match.a, match.b) if match.a in inside else (match.b, match.a)
            if b in inside:
                continue
            matches.append(Match(a, names.get(b, b), match.score, match.contributions))
    return matches


def write_pairs(matches: list[Match], target: TextIO) -> None:
    writer = csv.writer(target)
    writer.writerow(OUTPUT_COLUMNS)
    for match in matches:
        writer.writerow([match.a, match.b, f"{match.score:.2f}", match.reasons])


def run(path: Path, output: Path, *, against_registry: bool = False) -> dict[str, Any]:
    with path.open(encoding="utf-8-sig", newline="") as source:
        matches = check_file(source, against_registry=against_registry)
    with output.open("w", encoding="utf-8", newline="") as target:
        write_pairs(matches, target)
    return {"pairs": len(matches)}
