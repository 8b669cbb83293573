"""The county review of a new registration before its number is issued (县级审核): where the
province requires it a registration waits without a number, with its identity status and the
duplicate pairs found for it; the county approves (the number is issued then, G, L or J) or
returns it with a reason; the registrar corrects and resends, or withdraws. Where the setting is
off nothing changes. Only the school's county reviews; a school cannot approve."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, FieldErrors, NotFound, ServiceError
from xueji.corrections.evidence import Upload
from xueji.geo.models import Division
from xueji.identity.models import DuplicatePair, IdentityStatus, PairState
from xueji.identity.services import identity_rule_set, roll_load
from xueji.students.models import (
    NumberKind,
    Placement,
    RecordState,
    RegistrationReview,
    ReviewState,
    Student,
)
from xueji.students.national import national_index
from xueji.students.review import (
    registration_approve,
    registration_resubmit,
    registration_return,
    registration_withdraw,
)
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, resident_id

from .helpers import county_approver, province_approver, register, roll_csv
from .test_duplicates import PNG

pytestmark = pytest.mark.django_db

BORN = datetime.date(2019, 4, 2)


def _review_on(*, population_check: bool = False) -> None:
    identity_rule_set(
        actor=province_approver(), population_check=population_check, county_review=True
    )


def test_with_the_setting_off_a_registration_gets_its_number_at_once():
    student = register(name="李明", id_number=resident_id(birth_date=BORN), birth_date=BORN)
    assert student.state == RecordState.ENROLLED
    assert student.number_kind == NumberKind.G
    assert not RegistrationReview.objects.exists()


def test_a_registration_waits_without_number_until_the_county_approves_it():
    _review_on()
    number = resident_id(birth_date=BORN)
    student = register(name="李明", id_number=number, birth_date=BORN)
    student.refresh_from_db()
    assert student.state == RecordState.PENDING_REVIEW
    assert (student.number_masked, student.number_kind) == ("", "")
    assert not Placement.objects.filter(student=student).exists()
    review = RegistrationReview.objects.get(student=student)
    assert (review.state, review.county_code) == (ReviewState.WAITING, "440304")
    # The document is held already: a second registration of the same ID number is refused.
    with pytest.raises(ServiceError):
        register(name="李明", id_number=number, birth_date=BORN)

    approved = registration_approve(actor=county_approver(), student_id=student.pk)
    assert approved.state == RecordState.ENROLLED
    assert approved.number_kind == NumberKind.G
    assert approved.reveal_student_number() == "G" + number
    assert Placement.objects.get(student=student).school_class_id == review.school_class_id
    assert national_index().holder_of_number("G" + number).student_id == student.pk
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"student.register", "registration.approve", "identity.settings"} <= actions
    # Approved once: a second approval is refused, no second number.
    with pytest.raises(Conflict):
        registration_approve(actor=county_approver(), student_id=student.pk)


def test_approval_issues_l_where_the_roll_does_not_confirm_and_j_without_resident_id():
    _review_on(population_check=True)
    # The roll is loaded for the province; the child below is not in it: an L number.
    roll_load(
        actor=province_approver(),
        file_name="roll.csv",
        content=roll_csv((resident_id(birth_date=BORN), "某某", "M", BORN, "440304")),
    )
    l_child = register(name="王小", id_number=resident_id(birth_date=BORN), birth_date=BORN)
    assert IdentityStatus.objects.get(student=l_child).status == "not_in_roll"
    j_child = register(name="赵小", id_doc_type="Z", id_number="", birth_date=BORN)
    # The number is the county's to issue: the school cannot give a G number meanwhile.
    from xueji.students.services import student_assign_resident_id

    with pytest.raises(Conflict):
        student_assign_resident_id(
            actor=member(Role.REGISTRAR, school=j_child.school),
            student_id=j_child.pk,
            id_number=resident_id(birth_date=BORN),
        )
    county = county_approver()
    assert registration_approve(actor=county, student_id=l_child.pk).number_kind == NumberKind.L
    assert registration_approve(actor=county, student_id=j_child.pk).number_kind == NumberKind.J


def test_returned_corrected_and_resent_then_approved():
    _review_on()
    number = resident_id(birth_date=BORN)
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    student = register(school_class, registrar, name="张三丰", id_number=number, birth_date=BORN)
    county = county_approver()
    with pytest.raises(FieldErrors) as refused:
        registration_return(actor=county, student_id=student.pk, reason="  ")
    assert "reason" in refused.value.errors
    registration_return(actor=county, student_id=student.pk, reason="姓名与户口簿不符")
    review = RegistrationReview.objects.get(student=student)
    assert (review.state, review.reason) == (ReviewState.RETURNED, "姓名与户口簿不符")
    # Returned: the county cannot approve it until the school sends it again.
    with pytest.raises(Conflict):
        registration_approve(actor=county, student_id=student.pk)
    # A bad correction names its field.
    with pytest.raises(FieldErrors) as bad:
        registration_resubmit(
            actor=registrar, student_id=student.pk, changes={"birth_date": BORN.replace(day=3)}
        )
    assert "id_number" in bad.value.errors or "birth_date" in bad.value.errors
    registration_resubmit(actor=registrar, student_id=student.pk, changes={"name": "张三峰"})
    review.refresh_from_db()
    assert (review.state, review.rounds) == (ReviewState.WAITING, 2)
    student.refresh_from_db()
    assert student.name == "张三峰" and student.name_pinyin.startswith("zhang")
    approved = registration_approve(actor=county, student_id=student.pk)
    assert approved.reveal_student_number() == "G" + number
    kinds = list(approved.events.order_by("recorded_at").values_list("kind", flat=True))
    assert kinds == [
        "registration_submitted",
        "registration_returned",
        "registration_resubmitted",
        "registered",
    ]


def test_withdrawn_registration_frees_the_document_and_closes_its_pairs():
    number = resident_id(birth_date=BORN, male=False)
    earlier = register(name="陈小红", id_doc_type="Z", id_number="", birth_date=BORN, sex="2")
    _review_on()
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    student = register(
        school_class, registrar, name="陈小红", id_number=number, birth_date=BORN, sex="2"
    )
    # The duplicate check of the registration found the child's J-numbered record.
    pair = DuplicatePair.objects.get(state=PairState.PROPOSED)
    assert {pair.student_a_id, pair.student_b_id} == {earlier.pk, student.pk}
    # The pair cannot be merged while one record is a registration under review.
    from xueji.identity.services import pair_decide

    with pytest.raises(Conflict):
        pair_decide(
            actor=county_approver(),
            pair_id=pair.pk,
            decision="same",
            attends="a",
            evidence=[Upload(name="在读证明.png", content=PNG)],
        )
    with pytest.raises(FieldErrors):
        registration_withdraw(actor=registrar, student_id=student.pk, reason="")
    registration_withdraw(actor=registrar, student_id=student.pk, reason="已在别校注册")
    student.refresh_from_db()
    assert student.state == RecordState.REGISTRATION_WITHDRAWN
    assert student.number_masked == ""
    pair.refresh_from_db()
    assert pair.state == PairState.WITHDRAWN
    with pytest.raises(Conflict):
        registration_approve(actor=county_approver(), student_id=student.pk)
    # The document is free: the child can be registered again.
    identity_rule_set(actor=province_approver(), population_check=False, county_review=False)
    again = register(name="陈小红", id_number=number, birth_date=BORN, sex="2")
    assert again.number_kind == NumberKind.G


def test_only_the_schools_county_reviews_and_a_school_never_approves():
    _review_on()
    student = register(name="周杰", id_number=resident_id(birth_date=BORN), birth_date=BORN)
    registrar = member(Role.REGISTRAR, school=student.school)
    with pytest.raises(ServiceError) as school:
        registration_approve(actor=registrar, student_id=student.pk)
    assert school.value.status == 403
    other_county = county_approver("440305")
    with pytest.raises(NotFound):
        registration_approve(actor=other_county, student_id=student.pk)
    with pytest.raises(NotFound):
        registration_return(actor=other_county, student_id=student.pk, reason="x")
    city = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440300"), level="city")
    with pytest.raises(ServiceError) as above:
        registration_approve(actor=city, student_id=student.pk)
    assert above.value.status == 403
    # Another school's registrar neither withdraws nor corrects it.
    stranger = member(Role.REGISTRAR, school=SchoolFactory())
    with pytest.raises(NotFound):
        registration_withdraw(actor=stranger, student_id=student.pk, reason="x")
    # The other county's queue does not list it; the school's county's does.
    assert api_as(other_county).get("/api/identity/reviews").json() == []
    listed = api_as(county_approver()).get("/api/identity/reviews").json()
    assert [row["registration_id"] for row in listed] == [str(student.pk)]
    assert (
        api_as(other_county).post(f"/api/identity/reviews/{student.pk}/approve", {}).status_code
        == 404
    )
    assert (
        api_as(registrar).post(f"/api/identity/reviews/{student.pk}/approve", {}).status_code == 403
    )
    Student.objects.get(pk=student.pk, state=RecordState.PENDING_REVIEW)


def test_the_api_round_trip_of_a_review():
    county = county_approver()
    province = province_approver()
    answer = api_as(province).post(
        "/api/identity/settings", {"population_check": False, "county_review": True}
    )
    assert answer.status_code == 200 and answer.json()["county_review"] is True
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    student = register(
        school_class,
        registrar,
        name="吴敏",
        id_number=resident_id(birth_date=BORN),
        birth_date=BORN,
    )
    client = api_as(county)
    row = client.get(f"/api/identity/reviews/{student.pk}").json()
    assert (row["state"], row["number"], row["identity_status"]) == ("waiting", "", "not_checked")
    refused = client.post(f"/api/identity/reviews/{student.pk}/return", {"reason": ""})
    assert refused.status_code == 400 and "reason" in refused.json()["fields"]
    returned = client.post(f"/api/identity/reviews/{student.pk}/return", {"reason": "出生日期有误"})
    assert returned.json()["state"] == "returned"
    school = api_as(registrar)
    mine = school.get("/api/identity/registrations").json()
    assert [(r["state"], r["reason"]) for r in mine] == [("returned", "出生日期有误")]
    bad = school.post(
        f"/api/identity/registrations/{student.pk}/resubmit", {"birth_date": "2019-13-01"}
    )
    assert bad.status_code == 400 and "birth_date" in bad.json()["fields"]
    resent = school.post(f"/api/identity/registrations/{student.pk}/resubmit", {"name": "吴敏"})
    assert resent.status_code == 200 and resent.json()["state"] == "waiting"
    approved = client.post(f"/api/identity/reviews/{student.pk}/approve", {})
    assert approved.status_code == 200 and approved.json()["number"].startswith("G")
    again = client.post(f"/api/identity/reviews/{student.pk}/approve", {})
    assert again.status_code == 409


def test_the_pages_show_the_queue_and_approve_with_confirmation():
    _review_on()
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    student = register(
        school_class,
        registrar,
        name="孙丽",
        id_number=resident_id(birth_date=BORN),
        birth_date=BORN,
    )
    from xueji.identity.selectors import identity_status_counts

    assert identity_status_counts(county_code="440304")["registrations_waiting"] == 1
    page = Client()
    page.force_login(county_approver())
    home = page.get("/").content.decode()
    assert 'href="/identity/reviews/">1<' in home
    queue = page.get("/identity/reviews/")
    assert queue.status_code == 200 and "孙丽" in queue.content.decode()
    filtered = page.get("/identity/reviews/", {"q": "王"})
    assert "孙丽" not in filtered.content.decode()
    detail = page.get(f"/identity/reviews/{student.pk}/")
    assert detail.status_code == 200
    # Without the confirmation nothing is issued.
    page.post(f"/identity/reviews/{student.pk}/approve/", {})
    assert Student.objects.get(pk=student.pk).state == RecordState.PENDING_REVIEW
    page.post(f"/identity/reviews/{student.pk}/approve/", {"confirmed": "on"})
    assert Student.objects.get(pk=student.pk).state == RecordState.ENROLLED
    school_page = Client()
    school_page.force_login(registrar)
    mine = school_page.get("/identity/registrations/")
    assert mine.status_code == 200 and "孙丽" in mine.content.decode()
    assert school_page.get(f"/identity/reviews/{student.pk}/").status_code == 403
    # The province's setting page shows the setting and its history.
    province = Client()
    province.force_login(province_approver())
    roll = province.get("/identity/roll/").content.decode()
    assert 'id="county-review" checked' in roll
