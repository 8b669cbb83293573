import pytest

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.students.selectors import (
    class_roster,
    student_by_number,
    student_get,
    student_search,
    students_in_scope,
)
from xueji.students.services import student_register
from xueji.testing.factories import (
    SchoolClassFactory,
    SchoolFactory,
    UserFactory,
    member,
    student_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_schools():
    """A student at a school in 福田区 (Shenzhen) and one in 天河区 (Guangzhou)."""
    placed = {}
    for county, name in (("440304", "张春铭"), ("440106", "李小龙")):
        school_class = SchoolClassFactory(
            grade=1, school=SchoolFactory(county=Division.objects.get(code=county))
        )
        registrar = member(Role.REGISTRAR, school=school_class.school)
        student = student_register(
            actor=registrar, school_class_id=school_class.pk, data=student_data(name=name)
        ).student
        placed[county] = (registrar, school_class, student)
    return placed


def test_a_school_sees_only_its_own_students(two_schools):
    registrar, school_class, mine = two_schools["440304"]
    _, other_class, theirs = two_schools["440106"]
    assert list(students_in_scope(registrar)) == [mine]
    assert student_get(registrar, theirs.pk) is None
    assert student_by_number(registrar, theirs.reveal_student_number()) is None
    assert student_by_number(registrar, theirs.reveal_id_number()) is None
    assert student_search(registrar, query="li") == []
    assert class_roster(registrar, other_class.pk) == []
    assert class_roster(registrar, school_class.pk) == [mine]


@pytest.mark.parametrize(
    ("division", "visible"),
    [
        ("440304", {"440304"}),
        ("440300", {"440304"}),
        ("440100", {"440106"}),
        ("440000", {"440304", "440106"}),
    ],
)
def test_bureaus_see_their_area(two_schools, division, visible):
    viewer = member(Role.BUREAU_VIEWER, division=Division.objects.get(code=division))
    expected = {two_schools[c][2] for c in visible}
    assert set(students_in_scope(viewer)) == expected


def test_the_nation_sees_all_and_a_user_without_membership_sees_nothing(two_schools):
    nation = member(Role.BUREAU_VIEWER)
    assert students_in_scope(nation).count() == 2
    assert students_in_scope(UserFactory()).count() == 0


def test_search_by_name_pinyin_and_initials(two_schools):
    nation = member(Role.BUREAU_VIEWER)
    zhang = two_schools["440304"][2]
    assert student_search(nation, query="张春") == [zhang]
    assert student_search(nation, query="zhangchun") == [zhang]
    assert student_search(nation, query="ZCM") == [zhang]
    assert student_search(nation, query=zhang.reveal_student_number()) == [zhang]
    assert student_search(nation, query="zcm", grade=2) == []
    assert student_search(nation, query="zcm", grade=1) == [zhang]
