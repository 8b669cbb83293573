"""The guardians' record check sheets (核对表): the registrar prints a class's sheets (numbers
masked unless revealed, each reveal audited) and records each returned sheet: confirmed, or the
corrections it carries, other information and family contacts at once and key data as a
correction request with the scanned sheet, all or nothing."""

import pytest

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.audit.models import AuditEntry
from xueji.core import codes
from xueji.core.errors import FieldErrors, NotFound
from xueji.corrections.evidence import Upload
from xueji.corrections.models import CorrectionRequest
from xueji.corrections.tests.files import PDF
from xueji.students.models import EventKind, FamilyMember, RecordEvent, Student
from xueji.testing.factories import member
from xueji.verification.models import GuardianCheck
from xueji.verification.selectors import guardian_classes, guardian_sheets
from xueji.verification.services import guardian_check_record

pytestmark = pytest.mark.django_db


def father(student):
    return student.family.get(relation=codes.Relation.FATHER)


def test_a_confirmed_sheet_is_recorded(school):
    check = guardian_check_record(
        actor=school["registrar"], student_id=school["pupil"].pk, confirmed=True, signed_by="张伟"
    )
    assert (check.outcome, check.signed_by, check.school_class) == (
        "confirmed",
        "张伟",
        school["mine"],
    )
    entry = AuditEntry.objects.get(action="guardian_check.confirmed")
    assert entry.object_id == school["pupil"].pk
    _school, _year, rows = guardian_classes(school["registrar"])
    mine = next(r for r in rows if r.school_class == school["mine"])
    assert (mine.students, mine.confirmed, mine.corrected, mine.waiting) == (1, 1, 0, 0)


def test_other_information_and_family_contacts_are_corrected_at_once(school):
    pupil = school["pupil"]
    dad = father(pupil)
    check = guardian_check_record(
        actor=school["registrar"],
        student_id=pupil.pk,
        confirmed=False,
        other={"address": "福田区莲花路1号", "only_child": True},
        contacts={dad.ordinal: {"phone": "13900139000", "employer": "深圳地铁"}},
        signed_by="张伟",
    )
    assert check.outcome == "corrected" and check.correction is None
    pupil.refresh_from_db()
    dad.refresh_from_db()
    assert (pupil.address, pupil.only_child) == ("福田区莲花路1号", True)
    assert (dad.phone, dad.employer) == ("13900139000", "深圳地铁")
    assert set(check.changed_fields) == {
        "address",
        "only_child",
        f"family-{dad.ordinal}-phone",
        f"family-{dad.ordinal}-employer",
    }
    assert RecordEvent.objects.filter(student=pupil, kind=EventKind.INFO_UPDATED).count() == 2
    family = AuditEntry.objects.get(action="student.edit_family_contacts")
    assert family.after[f"family-{dad.ordinal}-phone"] == "13900139000"
    assert AuditEntry.objects.filter(action="guardian_check.corrected").count() == 1


def test_key_data_become_a_correction_request_with_the_scanned_sheet(school):
    pupil = school["pupil"]
    check = guardian_check_record(
        actor=school["registrar"],
        student_id=pupil.pk,
        confirmed=False,
        basic={"name": "张春明", "sex": pupil.sex},
        reason="监护人在核对表上更正姓名（户口簿）",
        evidence=[Upload("核对表.pdf", PDF)],
    )
    correction = CorrectionRequest.objects.get(student=pupil)
    assert check.correction == correction and correction.state == "pending_school"
    assert Student.objects.get(pk=pupil.pk).name == "张春铭"  # changed on approval only


def test_all_or_nothing_every_bad_field_named(school):
    pupil = school["pupil"]
    dad = father(pupil)
    with pytest.raises(FieldErrors) as refused:
        guardian_check_record(
            actor=school["registrar"],
            student_id=pupil.pk,
            confirmed=False,
            other={"address": "新地址"},
            contacts={dad.ordinal: {"phone": "not a phone", "employer": ""}},
            basic={"name": "张春明"},
            reason="",
        )
    errors = refused.value.errors
    assert f"family-{dad.ordinal}-phone" in errors
    assert "evidence" in errors and "reason" in errors
    pupil.refresh_from_db()
    assert pupil.address == "" and not GuardianCheck.objects.exists()
    assert FamilyMember.objects.get(pk=dad.pk).phone == "13800138000"
    assert not CorrectionRequest.objects.filter(student=pupil).exists()
    # A sheet with nothing different is a confirmation, not a correction.
    with pytest.raises(FieldErrors) as refused:
        guardian_check_record(
            actor=school["registrar"],
            student_id=pupil.pk,
            confirmed=False,
            other={"address": ""},
            basic={"name": pupil.name},
        )
    assert refused.value.errors["__all__"][0].code == "no_correction"


def test_only_the_school_s_registrar_records_sheets(school):
    from xueji.testing.factories import SchoolFactory

    pupil = school["pupil"]
    for refused in (school["principal"], school["teacher"], school["approver"], member(Role.ADMIN)):
        with pytest.raises(PermissionRefused):
            guardian_check_record(actor=refused, student_id=pupil.pk, confirmed=True)
        assert guardian_sheets(refused, school["mine"].pk) is None
    stranger = member(Role.REGISTRAR, school=SchoolFactory())
    with pytest.raises(NotFound):
        guardian_check_record(actor=stranger, student_id=pupil.pk, confirmed=True)
    assert guardian_sheets(stranger, school["mine"].pk) is None
    assert not GuardianCheck.objects.exists()


def test_sheets_are_masked_unless_revealed_and_each_reveal_is_audited(school):
    masked = guardian_sheets(school["registrar"], school["mine"].pk)
    child = masked.children[0]
    assert child.id_number == school["pupil"].id_number_masked and "*" in child.id_number
    assert child.birthplace == "广东省深圳市福田区"
    assert not AuditEntry.objects.filter(action="student.reveal_numbers").exists()
    revealed = guardian_sheets(school["registrar"], school["mine"].pk, reveal=True)
    assert revealed.children[0].id_number == school["pupil"].reveal_id_number()
    entry = AuditEntry.objects.get(action="student.reveal_numbers")
    assert entry.object_id == school["pupil"].pk
    assert entry.detail["purpose"] == "guardian_check_sheet"
