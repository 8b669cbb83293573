"""The receiving registrar's look-up of a child by student number and name, before a transfer is
filed: a question about a record anywhere in the country, so every answer, found or not, is an
audited look-up counted against the registrar's hourly limit (xueji.access.lookups)."""

from __future__ import annotations

from typing import Any

from xueji.access.lookups import LookupKind, LookupOutcome, lookup_answer
from xueji.changes.selectors import Candidate, locate_for_transfer, transfer_candidate
from xueji.core.idnumbers import mask_student_number, normalize


def transfer_lookup(*, actor: Any, number: str, name: str) -> Candidate | None:
    """The masked minimum of the child with exactly this student number (current or former) and
    this name, or None; the answer is audited (`student.lookup`, kind `transfer`) in a
    transaction of its own. Raises LookupLimitReached (429) once the registrar's look-ups of the
    hour are used up: the answer is then withheld."""
    found = transfer_candidate(actor, number=number, name=name)
    # The entry names the child found, so that the auditors of the child's area see who looked
    # it up; the candidate shown carries no identifier.
    child = (
        None
        if found is None
        else locate_for_transfer(student_number=normalize(number), name=name.strip())
    )
    lookup_answer(
        actor=actor,
        kind=LookupKind.TRANSFER,
        outcome=LookupOutcome.FOUND if found is not None else LookupOutcome.NOT_FOUND,
        object_id=None if child is None else child.pk,
        detail={"student_number": mask_student_number(normalize(number or ""))},
    )
    return found
