"""The demo: loaded once, the promised shape, one working account per role."""

import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from xueji.access.models import Membership, Role
from xueji.access.scope import scope_of
from xueji.audit.models import AuditEntry
from xueji.demo import demo
from xueji.demo.selectors import demo_accounts
from xueji.demo.services import demo_load
from xueji.schools.models import School, SchoolClass, SchoolKind
from xueji.students.models import FamilyMember, Placement, Student
from xueji.students.selectors import student_by_number, students_in_scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(capsys):
    call_command("load_demo")
    return capsys.readouterr().out


def test_load_demo_loads_once_and_a_second_run_does_nothing(loaded, capsys):
    assert "Demo loaded: 20,000 students in 40 schools" in loaded
    counts = (Student.objects.count(), School.objects.count(), Membership.objects.count())
    call_command("load_demo")
    assert "already loaded" in capsys.readouterr().out
    assert (Student.objects.count(), School.objects.count(), Membership.objects.count()) == counts
    assert AuditEntry.objects.filter(action=demo.AUDIT_ACTION).count() == 1
    assert demo_load(actor=None) is None


def test_the_demo_has_the_promised_shape(loaded):
    assert Student.objects.count() == demo.STUDENTS
    assert Placement.objects.filter(end_date__isnull=True).count() == demo.STUDENTS
    assert FamilyMember.objects.count() == 2 * demo.STUDENTS
    schools = School.objects.all()
    assert schools.count() == 40
    assert {s.province_id for s in schools} == {"440000"}
    assert {s.city_id for s in schools} == {"440100", "440300"}
    assert {s.county_id for s in schools} == set(demo.COUNTIES)
    kinds = {s.kind for s in schools}
    assert {
        SchoolKind.PRIMARY,
        SchoolKind.JUNIOR,
        SchoolKind.NINE_YEAR,
        SchoolKind.SENIOR,
        SchoolKind.COMPLETE_SECONDARY,
        SchoolKind.KINDERGARTEN,
        SchoolKind.SPECIAL,
    } <= kinds
    assert schools.filter(kind=SchoolKind.SPECIAL).count() == 1
    classes = SchoolClass.objects.all()
    assert not classes.filter(class_teacher__isnull=True).exists()
    teacher_memberships = Membership.objects.filter(role=Role.CLASS_TEACHER)
    assert teacher_memberships.count() == classes.count()
    for school_class in classes.select_related("class_teacher__membership")[:50]:
        assert school_class.class_teacher.membership.school_id == school_class.school_id
    # Single parents and grandparents as guardians are among the families.
    assert FamilyMember.objects.exclude(missing_reason="").count() > 0.05 * demo.STUDENTS
    assert FamilyMember.objects.filter(relation__in=["61", "62"], is_guardian=True).exists()


def test_one_demo_account_per_role_all_with_the_printed_password(loaded):
    rows = demo_accounts()
    assert {row.username for row in rows} == {account.username for account in demo.ACCOUNTS}
    assert {
        m.role for m in Membership.objects.filter(user__username__in=[r.username for r in rows])
    } == set(Role.values)
    for account in demo.ACCOUNTS:
        user = authenticate(username=account.username, password=demo.PASSWORD)
        assert user is not None, account.username
        scope = scope_of(user)
        assert scope is not None and (scope.role, scope.level) == (account.role, account.level)
        if account.division:
            assert scope.division_code == account.division
    registrar = authenticate(username="registrar", password=demo.PASSWORD)
    school = School.objects.get(pk=scope_of(registrar).school_id)
    assert school.county_id == demo.ACCOUNT_COUNTY and school.kind == SchoolKind.PRIMARY
    # The demo class teacher teaches a class of the same school.
    assert SchoolClass.objects.filter(
        school=school, class_teacher__username="class_teacher"
    ).exists()
    # Scopes nest as promised: the county viewer sees the registrar's school, not Guangzhou's.
    county_viewer = authenticate(username="county_viewer", password=demo.PASSWORD)
    visible = students_in_scope(county_viewer)
    assert visible.filter(school=school).exists()
    assert not visible.filter(school__city_id="440100").exists()
    student = Student.objects.filter(school=school).first()
    assert student_by_number(registrar, student.reveal_student_number()) == student
    assert (
        student_by_number(
            authenticate(username="nation_viewer", password=demo.PASSWORD),
            student.reveal_id_number(),
        )
        == student
    )


def test_print_demo_accounts_prints_url_password_usernames_roles_scopes(loaded, capsys):
    call_command("print_demo_accounts")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000" in out
    assert demo.PASSWORD in out
    for account in demo.ACCOUNTS:
        assert account.username in out
    assert str(Role.REGISTRAR.label) in out and str(Role.AUDITOR.label) in out
    assert "福田区" in out and "深圳市" in out and "广东省" in out


def test_with_the_second_factor_each_area_account_gets_an_enrolment_code(loaded, capsys, settings):
    """make run DEMO_TWO_FACTOR=1: the printed code sets up the account's authenticator."""
    from django.contrib.auth import get_user_model

    from xueji.accounts.second_factor.services import second_factor_enrol
    from xueji.accounts.tests.second_factor.enrolment import KEY, code_for

    settings.XUEJI_TWO_FACTOR_REQUIRED = True
    call_command("print_demo_accounts")
    out = capsys.readouterr().out
    codes = dict(re.findall(r"^  (\w+) +([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})$", out, re.MULTILINE))
    assert {"county_viewer", "nation_viewer", "auditor", "admin"} <= set(codes)
    assert "registrar" not in codes and "class_teacher" not in codes
    viewer = get_user_model().objects.get(username="county_viewer")
    second_factor_enrol(
        actor=viewer, enrolment_code=codes["county_viewer"], key=KEY, token=code_for(KEY)
    )
    call_command("print_demo_accounts")
    assert "county_viewer" not in capsys.readouterr().out.split("Second factor:")[1]
    settings.XUEJI_TWO_FACTOR_REQUIRED = False
    call_command("print_demo_accounts")
    assert "Second factor:" not in capsys.readouterr().out


def test_print_demo_accounts_without_the_demo_says_to_load_it():
    with pytest.raises(CommandError, match="load_demo"):
        call_command("print_demo_accounts")


def test_the_demo_counts_as_loaded_by_its_accounts_once_its_audit_entry_is_purged():
    from xueji.testing.factories import UserFactory

    UserFactory(username="registrar")
    assert demo_load(actor=None) is None
    assert not Student.objects.exists()


def test_the_teachers_demo_accounts_see_their_class(loaded):
    from django.contrib.auth import get_user_model

    from xueji.students.selectors import students_in_scope

    users = get_user_model().objects
    class_teacher = users.get(username="class_teacher")
    assert students_in_scope(class_teacher).exists(), "the county's window is open"
    from xueji.scores.models import TeachingAssignment

    assert TeachingAssignment.objects.filter(teacher__username="subject_teacher").exists()


def test_on_the_demo_a_zhuhai_school_and_its_registrar_are_made_on_pages(loaded):
    """Issue 19: the demo's province approver registers a school in 珠海 on its page, and the
    demo's security administrator, landing on the accounts, creates its registrar there."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    users = get_user_model().objects
    province = Client()
    province.force_login(users.get(username="province_approver"))
    assert 'value="440402"' in province.get("/schools/new/").content.decode()
    registered = province.post(
        "/schools/new/",
        {
            "code": "2144040277",
            "name": "珠海市香洲区演示小学",
            "kind": "primary",
            "county": "440402",
            "address": "珠海市香洲区演示路1号",
            "ownership": "public",
            "urban_rural": "111",
        },
    )
    school = School.objects.get(code="2144040277")
    assert registered.status_code == 302 and school.city_id == "440400"

    security = Client()
    security.force_login(users.get(username="security_admin"))
    assert security.get("/").url == "/accounts/"
    created = security.post(
        "/accounts/new/",
        {
            "login_name": "zhuhai_registrar",
            "name": "黎海燕",
            "phone": "13926900003",
            "role": "registrar",
            "school_code": school.code,
        },
    )
    assert created.status_code == 200 and 'id="password"' in created.content.decode()
    membership = Membership.objects.get(user__username="zhuhai_registrar")
    assert (membership.role, membership.school_id) == (Role.REGISTRAR, school.pk)
