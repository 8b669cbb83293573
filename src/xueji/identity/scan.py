"""The duplicate scan (一人多籍) over the registry: nightly for the whole registry (`xueji
duplicates scan`, or the task `scan_duplicates`), on demand for an area (its records against
every record). Rows come through the national interface (`match_rows`), so that the two-level
deployment runs the same scan at the hub; the matcher is xueji.identity.matching; new pairs are
proposed once (a pair decided, whatever the decision, is never proposed again)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from xueji.audit.services import audit_record
from xueji.identity.matching import Person, find_against, find_duplicates
from xueji.identity.services import pairs_propose
from xueji.students.national import national_index


@dataclass(frozen=True)
class ScanResult:
    records: int
    matches: int
    proposed: int
    seconds: float


def _person(row: dict[str, Any]) -> Person:
    return Person(
        key=row["key"],
        name=row["name"],
        sex=row["sex"],
        birth_date=row["birth_date"],
        id_type=row["id_type"],
        id_number=row["id_number"],
        birthplace=row["birthplace"] or "",
        ethnicity=row["ethnicity"],
        father_name=row["father_name"],
        father_id=row["father_id"],
        mother_name=row["mother_name"],
        mother_id=row["mother_id"],
        county=row["county"],
    )


def duplicate_scan(*, actor: Any, area_code: str = "") -> ScanResult:
    """Propose the pairs of records that may be one child: of the whole registry, or of the
    records of `area_code` (a division code: its prefix of significant digits) against all."""
    started = time.perf_counter()
    prefix = area_code.rstrip("0") if area_code else ""
    if len(prefix) % 2:
        prefix += "0"
    everyone = [_person(row) for row in national_index().match_rows()]
    counties = {person.key: person.county for person in everyone}
    if prefix:
        new = [person for person in everyone if person.county.startswith(prefix)]
        matches = find_against(new, everyone)
    else:
        matches = find_duplicates(everyone)
    with transaction.atomic():
        proposed = pairs_propose(matches, counties)
        audit_record(
            actor=actor,
            action="duplicate.scan",
            object_type="division",
            detail={
                "area": area_code or "nation",
                "records": len(everyone),
                "matches": len(matches),
                "proposed": proposed,
            },
        )
    return ScanResult(
        records=len(everyone),
        matches=len(matches),
        proposed=proposed,
        seconds=round(time.perf_counter() - started, 2),
    )
