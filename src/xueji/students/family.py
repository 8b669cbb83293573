"""The family members' contacts (phone, employer), which are other information: the school's
registrar corrects them directly, as the other information of the child (a guardian's record
check sheet carries such corrections most often). Names, documents and who is the guardian are
left to the registration's checks and to a key-data correction of the child where they matter."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import may_at_school, scope_of, students_visible_in_area
from xueji.audit.services import audit_record
from xueji.core.errors import FieldErrors, NotFound
from xueji.geo.selectors import division_exists
from xueji.students.models import EventKind, FamilyMember, Student
from xueji.students.record import record_event_append
from xueji.students.services import student_data_of
from xueji.students.validation import validate_student_data

# What of a family member the registrar corrects directly.
CONTACT_FIELDS = ("phone", "employer")
EMPLOYER_MAX = 128  # FamilyMember.employer's max_length


def contact_field(ordinal: int, name: str) -> str:
    """The name a form and an error give a member's contact field: family-<ordinal>-phone."""
    return f"family-{ordinal}-{name}"


def family_contacts_update(
    *, actor: Any, student_id: Any, contacts: dict[int, dict[str, str]]
) -> list[str]:
    """Correct family members' phone and employer, {ordinal: {"phone": …, "employer": …}},
    checked with the registration's rules; the names of the fields changed (family-1-phone …).
    One transaction, a record event and an audit entry; nothing when nothing changes."""
    unknown = sorted(
        {name for values in contacts.values() for name in values} - set(CONTACT_FIELDS)
    )
    if unknown:
        raise FieldErrors(
            {
                "__all__": [
                    ValidationError(
                        _("Only a family member's phone and employer are corrected here."),
                        code="not_a_contact",
                    )
                ]
            }
        )
    scope = scope_of(actor)
    with transaction.atomic():
        student = (
            Student.objects.select_for_update()
            .filter(students_visible_in_area(scope), pk=student_id)
            .first()
        )
        if student is None or not may_at_school(
            scope, Action.STUDENT_EDIT_OTHER_INFO, student.school_id
        ):
            raise NotFound("student_not_found", _("No such student."))
        members = {m.ordinal: m for m in student.family.select_for_update().order_by("ordinal")}
        before: dict[str, str] = {}
        after: dict[str, str] = {}
        changed: list[FamilyMember] = []
        for ordinal, values in sorted(contacts.items()):
            member = members.get(ordinal)
            if member is None or member.missing_reason:
                if any(v.strip() for v in values.values()):
                    raise FieldErrors(
                        {
                            contact_field(ordinal, "phone"): [
                                ValidationError(
                                    _("This family member is not recorded."), code="no_member"
                                )
                            ]
                        }
                    )
                continue
            touched = False
            for name, value in values.items():
                new = (value or "").strip()
                if new != getattr(member, name):
                    key = contact_field(ordinal, name)
                    before[key], after[key] = getattr(member, name), new
                    setattr(member, name, new)
                    touched = True
            if touched:
                changed.append(member)
        if not changed:
            return []
        _check(student, members, changed)
        FamilyMember.objects.bulk_update(changed, list(CONTACT_FIELDS))
        record_event_append(
            student=student,
            kind=EventKind.INFO_UPDATED,
            on=timezone.localdate(),
            actor=actor,
            detail={"fields": sorted(after)},
        )
        audit_record(
            actor=actor,
            action="student.edit_family_contacts",
            object_type="student",
            object_id=student.pk,
            before=before,
            after=after,
        )
    return sorted(after)


def _check(student: Student, members: dict[int, FamilyMember], changed: list[FamilyMember]) -> None:
    """The registration's checks of the family as it would be; only the changed members'
    contact fields are reported, named family-<ordinal>-<field>."""
    for member in changed:
        if len(member.employer) > EMPLOYER_MAX:
            raise FieldErrors(
                {
                    contact_field(member.ordinal, "employer"): [
                        ValidationError(_("This is too long."), code="too_long")
                    ]
                }
            )
    data = student_data_of(student)
    ordinals = sorted(members)
    family = list(data.family)
    for member in changed:
        index = ordinals.index(member.ordinal)
        family[index] = dataclasses.replace(
            family[index], phone=member.phone, employer=member.employer
        )
    try:
        validate_student_data(
            dataclasses.replace(data, family=family), division_exists=division_exists
        )
    except FieldErrors as errors:
        found: dict[str, list[ValidationError]] = {}
        for member in changed:
            index = ordinals.index(member.ordinal)
            for name in CONTACT_FIELDS:
                key = f"family.{index}.{name}"
                if key in errors.errors:
                    found[contact_field(member.ordinal, name)] = errors.errors[key]
        if found:
            raise FieldErrors(found) from None
