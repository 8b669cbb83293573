"""A few changes under way in the demo (`xueji changes demo`, after `xueji load_demo`), filed
through the services so that the demo accounts find something in their queues:

- a transfer into the demo school (福田区) from another school of the county, filed by the demo
  registrar: waiting for the sending school;
- a transfer out of the demo school to another school of the county: waiting for the demo
  school (registrar or principal);
- a suspension at the demo school, filed by the demo registrar: waiting for county_approver.

The other school's registrar is an account of its own (`demo_registrar_<school code>`, no usable
password: it only files). Running it twice adds nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from xueji.access.models import Membership, Role, ScopeLevel
from xueji.changes.models import ACTIVE_STATES, ChangeRequest
from xueji.changes.services import change_file, transfer_file
from xueji.corrections.evidence import Upload
from xueji.schools.models import School, SchoolClass, academic_start_year
from xueji.students.models import Placement, RecordState

# A one-page PDF standing in for the guardian's signed request.
DEMO_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def _registrar_of(school: School) -> Any:
    users = get_user_model().objects
    user, created = users.get_or_create(username=f"demo_registrar_{school.code}")
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        Membership.objects.create(
            user=user, role=Role.REGISTRAR, scope_level=ScopeLevel.SCHOOL, school=school
        )
    return user


def _pupil(school: School, on: datetime.date) -> Any:
    placement = (
        Placement.objects.select_related("student")
        .filter(
            school=school,
            end_date__isnull=True,
            student__state=RecordState.ENROLLED,
            school_class__academic_year__start_year=academic_start_year(on),
        )
        .exclude(student__changes__state__in=ACTIVE_STATES)
        .order_by("grade", "student__name_pinyin")
        .first()
    )
    return placement


def changes_demo_seed(*, on: datetime.date | None = None) -> int:
    """File the demo's changes under way; returns how many were filed (0 when already done)."""
    on = on or timezone.localdate()
    users = get_user_model().objects
    registrar = users.filter(username="registrar").select_related("membership").first()
    if registrar is None or registrar.membership.school_id is None:
        return 0
    home = School.objects.get(pk=registrar.membership.school_id)
    if (
        ChangeRequest.objects.filter(from_school=home).exists()
        or ChangeRequest.objects.filter(to_school=home).exists()
    ):
        return 0
    neighbour = (
        School.objects.filter(county_id=home.county_id, kind=home.kind).exclude(pk=home.pk).first()
    )
    if neighbour is None:
        return 0
    guardian = Upload("监护人申请书.pdf", DEMO_PDF)
    filed = 0
    with transaction.atomic():
        incoming = _pupil(neighbour, on)
        if incoming is not None:
            target = SchoolClass.objects.filter(
                school=home,
                grade=incoming.grade,
                academic_year__start_year=academic_start_year(on),
            ).first()
            if target is not None:
                transfer_file(
                    actor=registrar,
                    student_number=incoming.student.reveal_student_number(),
                    name=incoming.student.name,
                    to_class_id=target.pk,
                    reason="随父母工作调动，就近入学",
                    guardian_request=guardian,
                    on=on,
                )
                filed += 1
        outgoing = _pupil(home, on)
        if outgoing is not None:
            target = SchoolClass.objects.filter(
                school=neighbour,
                grade=outgoing.grade,
                academic_year__start_year=academic_start_year(on),
            ).first()
            if target is not None:
                transfer_file(
                    actor=_registrar_of(neighbour),
                    student_number=outgoing.student.reveal_student_number(),
                    name=outgoing.student.name,
                    to_class_id=target.pk,
                    reason="家庭搬迁",
                    guardian_request=guardian,
                    on=on,
                )
                filed += 1
        resting = _pupil(home, on)
        if resting is not None:
            change_file(
                actor=registrar,
                student_id=resting.student_id,
                kind="suspend",
                reason="因病休学一年（附医院证明）",
                guardian_request=guardian,
                on=on,
            )
            filed += 1
    return filed
