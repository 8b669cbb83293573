"""The registration form: parse, call student_register, show each refusal next to its field."""

import datetime
from typing import Any

import pytest

from xueji.core import codes
from xueji.students.models import FamilyMember, Student
from xueji.testing.factories import SchoolClassFactory, resident_id

from .conftest import client_as

pytestmark = pytest.mark.django_db

URL = "/students/register/"


def form_data(school_class, **overrides: Any) -> dict[str, str]:
    """What a browser posts for a valid boy born 2020-03-05 with two parents."""
    birth = overrides.pop("birth_date", datetime.date(2020, 3, 5))
    data = {
        "school_class": str(school_class.pk),
        "start_date": "",
        "name": "赵小龙",
        "sex": "1",
        "birth_date": birth.isoformat(),
        "birthplace_code__province": "440000",
        "birthplace_code__city": "440300",
        "birthplace_code": "440304",
        "native_place_code__province": "",
        "ethnicity": "01",
        "nationality": "CHN",
        "id_doc_type": "1",
        "id_number": resident_id(birth_date=birth),
        "overseas_status": "00",
        "health": "10",
        "hukou_division_code__province": "440000",
        "hukou_division_code__city": "440300",
        "hukou_division_code": "440304",
        "hukou_nature": "2",
        "attendance_mode": "1",
        "entry_method": "1",
        "left_behind": "0",
        "disability_type": "0",
        "attended_preschool": "on",
        "age_confirmation": "",
        "family-TOTAL_FORMS": "2",
        "family-INITIAL_FORMS": "2",
        "family-MIN_NUM_FORMS": "0",
        "family-MAX_NUM_FORMS": "6",
        "family-0-relation": "51",
        "family-0-missing_reason": "",
        "family-0-name": "赵大龙",
        "family-0-id_doc_type": "",
        "family-0-phone": "13800138000",
        "family-0-is_guardian": "on",
        "family-1-relation": "52",
        "family-1-missing_reason": "",
        "family-1-name": "钱小凤",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(response, field: str) -> list[str]:
    form = response.context["form"]
    return [str(e) for e in form.errors.get(field, [])]


def member_errors(response, index: int, field: str) -> list[str]:
    member = response.context["formset"].forms[index]
    return [str(e) for e in member.errors.get(field, [])]


def test_a_valid_form_registers_and_opens_the_new_record(registry):
    client = client_as(registry.registrar_a)
    response = client.post(URL, form_data(registry.class_a))
    student = Student.objects.get(name="赵小龙")
    assert response.status_code == 302
    assert response["Location"] == f"/students/{student.pk}/"
    assert student.birthplace_id == "440304"
    assert student.hukou_division_id == "440304"
    assert student.school == registry.school_a
    assert student.attended_preschool is True
    assert student.only_child is False
    page = client.get(response["Location"]).content.decode()
    assert "is registered" in page
    assert student.number_masked in page


def test_the_form_shows_classes_of_the_registrars_school_only(registry):
    grade_two_class = SchoolClassFactory(school=registry.school_a, grade=2, number=3, name="3班")
    response = client_as(registry.registrar_a).get(URL)
    offered = [
        value
        for _label, group in response.context["form"].fields["school_class"].choices[1:]
        for value, _name in group
    ]
    assert offered == [registry.class_a.pk, grade_two_class.pk]


def test_class_preselected_from_the_roster_link(registry):
    response = client_as(registry.registrar_a).get(URL, {"class": registry.class_a.pk})
    assert f'<option value="{registry.class_a.pk}" selected>' in response.content.decode()


def test_a_bad_id_number_shows_its_reason_next_to_the_id_field(registry):
    good = resident_id()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = client_as(registry.registrar_a).post(URL, form_data(registry.class_a, id_number=bad))
    assert response.status_code == 200
    assert errors_of(response, "id_number")
    assert "check" in " ".join(errors_of(response, "id_number")).lower()
    assert not Student.objects.filter(name="赵小龙").exists()
    page = response.content.decode()
    assert 'id="id_id_number_error"' in page
    assert "The student is not registered yet." in page


def test_service_errors_land_on_their_fields_all_at_once(registry):
    response = client_as(registry.registrar_a).post(
        URL,
        form_data(
            registry.class_a,
            name="",
            birthplace_code__province="",
            birthplace_code__city="",
            birthplace_code="",
            phone="not a phone",
        ),
    )
    assert response.status_code == 200
    assert errors_of(response, "name") == ["The name is required."]
    assert errors_of(response, "birthplace_code") == ["The birthplace is required."]
    assert errors_of(response, "phone") == ["This is not a phone number."]


def test_family_member_errors_land_on_the_members_fields(registry):
    response = client_as(registry.registrar_a).post(
        URL,
        form_data(
            registry.class_a,
            **{"family-1-name": "", "family-0-phone": "12", "family-0-is_guardian": None},
        ),
    )
    assert response.status_code == 200
    assert member_errors(response, 1, "name") == [
        "Give the member's name, or the reason the member is missing."
    ]
    assert member_errors(response, 0, "phone") == ["This is not a phone number."]
    assert member_errors(response, 0, "name") == []


def test_missing_guardian_is_a_family_wide_error(registry):
    response = client_as(registry.registrar_a).post(
        URL, form_data(registry.class_a, **{"family-0-is_guardian": None})
    )
    assert response.status_code == 200
    assert [str(m) for e in response.context["family_errors"] for m in e] == [
        "Mark at least one present family member as the guardian."
    ]
    assert "Mark at least one present family member as the guardian." in (response.content.decode())


def test_a_missing_parent_with_a_reason_registers(registry):
    response = client_as(registry.registrar_a).post(
        URL,
        form_data(
            registry.class_a,
            **{"family-0-name": "", "family-0-missing_reason": "1"},
            **{"family-0-is_guardian": None, "family-1-is_guardian": "on"},
        ),
    )
    assert response.status_code == 302
    student = Student.objects.get(name="赵小龙")
    father = FamilyMember.objects.get(student=student, ordinal=0)
    assert father.missing_reason == codes.MissingReason.DECEASED
    assert father.name == ""
    page = client_as(registry.registrar_a).get(response["Location"]).content.decode()
    assert "Missing" in page
    assert "Deceased" in page


def test_an_added_third_member_is_recorded_and_an_empty_one_is_ignored(registry):
    data = form_data(
        registry.class_a,
        **{
            "family-TOTAL_FORMS": "4",
            "family-2-relation": "63",
            "family-2-name": "孙外公",
            "family-2-is_guardian": "on",
            "family-3-relation": "",
        },
    )
    response = client_as(registry.registrar_a).post(URL, data)
    assert response.status_code == 302
    student = Student.objects.get(name="赵小龙")
    assert list(student.family.values_list("name", flat=True)) == ["赵大龙", "钱小凤", "孙外公"]


def test_the_add_member_button_returns_the_next_member_and_counts_it(registry):
    client = client_as(registry.registrar_a)
    response = client.get("/students/register/member/", {"family-TOTAL_FORMS": "2"})
    page = response.content.decode()
    assert 'name="family-2-name"' in page
    assert 'name="family-TOTAL_FORMS" value="3"' in page
    assert 'hx-swap-oob="true"' in page
    full = client.get("/students/register/member/", {"family-TOTAL_FORMS": "6"})
    assert full.status_code == 204


def test_an_unusual_age_asks_for_a_reason_then_registers_with_it(registry):
    client = client_as(registry.registrar_a)
    older = datetime.date(2016, 3, 5)  # ten on 1 September: unusual for grade 1
    first = client.post(URL, form_data(registry.class_a, birth_date=older))
    assert first.status_code == 200
    assert "is 10 on 1 September" in first.context["age_warning"]
    page = first.content.decode()
    assert 'id="age-warning"' in page
    assert 'name="age_confirmation"' in page
    assert "Confirm and register" in page
    assert not Student.objects.filter(name="赵小龙").exists()

    data = form_data(registry.class_a, birth_date=older)
    data["id_number"] = first.context["form"].data["id_number"]
    data["age_confirmation"] = "Came back from two years abroad."
    second = client.post(URL, data)
    assert second.status_code == 302
    student = Student.objects.get(name="赵小龙")
    assert student.events.get().detail["age_confirmation"] == "Came back from two years abroad."


def test_an_id_number_already_registered_names_the_school_when_the_name_is_the_records(registry):
    taken = registry.student_b.reveal_id_number()
    response = client_as(registry.registrar_a).post(
        URL, form_data(registry.class_a, id_number=taken, name="李小紅")
    )
    assert response.status_code == 200
    assert any(registry.school_b.name in e for e in errors_of(response, "id_number"))


def test_under_another_name_the_page_says_registered_elsewhere_with_a_transfer_link(registry):
    taken = registry.student_b.reveal_id_number()
    response = client_as(registry.registrar_a, "zh-hans").post(
        URL, form_data(registry.class_a, id_number=taken)
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert registry.school_b.name not in content
    assert registry.student_b.number_masked not in content
    assert any("已在其他学校注册学籍" in e for e in errors_of(response, "id_number"))
    assert 'id="registered-elsewhere"><a href="/changes/transfer/">' in content


def test_over_the_limit_of_lookups_the_page_says_so_with_429(registry, settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 1
    client = client_as(registry.registrar_a, "en")
    taken = registry.student_b.reveal_id_number()
    first = client.post(URL, form_data(registry.class_a, id_number=taken, name="李小红"))
    assert registry.school_b.name in first.content.decode()
    second = client.post(URL, form_data(registry.class_a, id_number=taken, name="李小红"))
    assert second.status_code == 429
    content = second.content.decode()
    assert registry.school_b.name not in content
    assert "Too many look-ups of children registered at other schools" in content
    assert not Student.objects.filter(name="赵小龙").exists()


def test_a_class_of_another_school_is_refused_at_the_class_field(registry):
    response = client_as(registry.registrar_a).post(URL, form_data(registry.class_b))
    assert response.status_code == 200
    assert errors_of(response, "school_class")
    assert not Student.objects.filter(name="赵小龙").exists()
