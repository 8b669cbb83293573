"""The registrar's pages of the guardians' record check sheets: the classes, a class's printable
sheets (one page each: a page break between children, a print stylesheet), numbers masked unless
revealed, and the record of a returned sheet, confirmed or corrected, errors next to the field."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.audit.models import AuditEntry
from xueji.corrections.basic import current_values
from xueji.corrections.models import CorrectionRequest
from xueji.corrections.tests.files import PDF
from xueji.students.tests.views.conftest import client_as
from xueji.testing.factories import SchoolClassFactory
from xueji.verification.models import GuardianCheck

pytestmark = pytest.mark.django_db


def test_a_class_s_sheets_print_one_page_per_child_with_numbers_masked(school):
    client = client_as(school["registrar"])
    classes = client.get("/verification/guardian-sheets/").content.decode()
    assert f'id="guardian-class-{school["mine"].pk}"' in classes
    page = client.get(f"/verification/classes/{school['mine'].pk}/guardian-sheets/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('class="check-sheet"') == 1 and "verification/check-sheet.css" in html
    pupil = school["pupil"]
    assert pupil.id_number_masked in html and pupil.reveal_id_number() not in html
    assert "13800138000" in html  # the father's phone, for the guardian to check
    assert 'id="reveal-numbers"' in html
    assert not AuditEntry.objects.filter(action="student.reveal_numbers").exists()
    revealed = client.get(
        f"/verification/classes/{school['mine'].pk}/guardian-sheets/?reveal=1"
    ).content.decode()
    assert pupil.reveal_id_number() in revealed
    assert AuditEntry.objects.filter(action="student.reveal_numbers").count() == 1
    # Another school's class is not found; a class teacher prints nothing.
    elsewhere = SchoolClassFactory()
    assert client.get(f"/verification/classes/{elsewhere.pk}/guardian-sheets/").status_code == 404
    teacher = client_as(school["teacher"])
    mine = f"/verification/classes/{school['mine'].pk}/guardian-sheets/"
    assert teacher.get(mine).status_code == 403


def test_the_print_stylesheet_breaks_a_page_after_each_sheet():
    from django.contrib.staticfiles import finders

    with open(finders.find("verification/check-sheet.css"), encoding="utf-8") as file:
        css = file.read()
    printed = css[css.index("@media print") :]
    assert re.search(r"\.check-sheet \{[^}]*break-after: page", printed)


def test_a_returned_sheet_is_recorded_from_the_page(school):
    client = client_as(school["registrar"])
    url = f"/verification/students/{school['pupil'].pk}/guardian-check/"
    assert client.get(url).status_code == 200
    confirmed = client.post(url, {"outcome": "confirmed", "signed_by": "张伟"})
    assert confirmed.status_code == 302
    assert GuardianCheck.objects.get().outcome == "confirmed"


def _corrected(student, **changes):
    values = {k: ("" if v is None else v) for k, v in current_values(student).items()}
    data = {"outcome": "corrected", **values}
    # A place is three selects (province, city, county): the county's code names all three.
    for name in ("birthplace_code", "native_place_code", "hukou_division_code"):
        if values[name]:
            data[f"{name}__province"] = values[name][:2] + "0000"
            data[f"{name}__city"] = values[name][:4] + "00"
    for name in (
        "former_name",
        "address",
        "phone",
        "attendance_mode",
        "entry_method",
        "left_behind",
        "disability_type",
    ):
        data[name] = getattr(student, name)
    for name in (
        "only_child",
        "attended_preschool",
        "migrant_child",
        "orphan",
        "martyr_family",
        "inclusive_education",
        "needs_aid",
        "needs_school_bus",
    ):
        if getattr(student, name):
            data[name] = "on"
    for member in student.family.all():
        data[f"family-{member.ordinal}-phone"] = member.phone
        data[f"family-{member.ordinal}-employer"] = member.employer
    data.update(changes)
    return data


def test_corrections_from_the_page_and_their_errors_next_to_the_field(school):
    pupil = school["pupil"]
    client = client_as(school["registrar"])
    url = f"/verification/students/{pupil.pk}/guardian-check/"
    # Key data without the scanned sheet: refused next to the field, nothing written.
    refused = client.post(url, _corrected(pupil, name="张春明", address="莲花路1号"))
    html = refused.content.decode()
    assert refused.status_code == 400 and 'id="id_evidence_error"' in html
    pupil.refresh_from_db()
    assert pupil.address == "" and not GuardianCheck.objects.exists()
    scan = SimpleUploadedFile("核对表.pdf", PDF, content_type="application/pdf")
    corrected = _corrected(pupil, name="张春明", address="莲花路1号")
    done = client.post(url, {**corrected, "reason": "户口簿", "evidence": scan})
    assert done.status_code == 302
    pupil.refresh_from_db()
    assert pupil.address == "莲花路1号"
    check = GuardianCheck.objects.get()
    assert check.correction == CorrectionRequest.objects.get(student=pupil)
