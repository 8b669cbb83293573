"""A class teacher sees the current students of own classes only while the county's window is
open: tested the day before it opens, on its first day, on its last day and the day after."""

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.access.tests.fixtures import AFTER, BEFORE, FIRST, LAST
from xueji.geo.models import Division
from xueji.schools.selectors import class_get
from xueji.students.selectors import class_roster, student_get, student_search, students_in_scope
from xueji.students.tests.views.conftest import client_as
from xueji.testing.factories import member
from xueji.verification.selectors import check_sheet, my_classes
from xueji.verification.services import window_close, window_open

pytestmark = pytest.mark.django_db


def sees(teacher, school):
    """What the teacher's selectors return for the own class and the colleague's."""
    return {
        "in_scope": set(students_in_scope(teacher)),
        "pupil": student_get(teacher, school["pupil"].pk) is not None,
        "other": student_get(teacher, school["other"].pk) is not None,
        "roster": class_roster(teacher, school["mine"].pk),
        "class": class_get(teacher, school["mine"].pk) is not None,
        "other_class": class_get(teacher, school["theirs"].pk) is not None,
        "search": student_search(teacher, query="zcm"),
        "sheet": check_sheet(teacher, school["mine"].pk) is not None,
    }


NOTHING = {
    "in_scope": set(),
    "pupil": False,
    "other": False,
    "roster": [],
    "class": False,
    "other_class": False,
    "search": [],
    "sheet": False,
}


@pytest.mark.parametrize(
    ("day", "open_"), [(BEFORE, False), (FIRST, True), (LAST, True), (AFTER, False)]
)
def test_the_own_class_is_visible_from_the_first_to_the_last_day_only(school, today, day, open_):
    today(day)
    seen = sees(school["teacher"], school)
    if not open_:
        assert seen == NOTHING
        return
    pupil = school["pupil"]
    assert seen == {
        "in_scope": {pupil},
        "pupil": True,
        "other": False,  # the colleague's class stays hidden, window or not
        "roster": [pupil],
        "class": True,
        "other_class": False,
        "search": [pupil],
        "sheet": True,
    }


@pytest.mark.parametrize(
    ("day", "status"), [(BEFORE, 404), (FIRST, 200), (LAST, 200), (AFTER, 404)]
)
def test_the_pages_open_and_close_with_the_window(school, today, day, status):
    today(day)
    client = Client()
    client.force_login(school["teacher"])
    assert client.get(f"/students/{school['pupil'].pk}/").status_code == status
    assert client.get(f"/classes/{school['mine'].pk}/").status_code == status
    assert client.get(f"/verification/classes/{school['mine'].pk}/").status_code == status
    assert client.get(f"/students/{school['other'].pk}/").status_code == 404
    page = client.get("/verification/").content.decode()
    assert (f"/verification/classes/{school['mine'].pk}/" in page) is (status == 200)


def test_the_home_page_says_when_the_window_opens(school, today):
    today(BEFORE)
    mine = my_classes(school["teacher"])
    assert mine.window is None and mine.next_window == school["window"]
    page = client_as(school["teacher"]).get("/", follow=True).content.decode()
    assert "The verification window is closed." in page
    assert "The next window opens on Sept. 7, 2026 and closes on Sept. 11, 2026." in page
    assert school["pupil"].name not in page


def test_closing_the_window_early_hides_the_class_at_once(school, today):
    today(FIRST)
    assert sees(school["teacher"], school)["pupil"]
    window_close(actor=school["approver"], window_id=school["window"].pk)
    assert sees(school["teacher"], school) == NOTHING


def test_a_window_of_another_county_opens_nothing_here(school, today):
    window_close(actor=school["approver"], window_id=school["window"].pk)
    nanshan = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440305"))
    window_open(actor=nanshan, opens_on=FIRST, closes_on=LAST)
    today(FIRST)
    assert sees(school["teacher"], school) == NOTHING


def test_a_student_who_left_the_class_is_no_longer_seen(school, today):
    from xueji.students.models import Placement

    today(FIRST)
    Placement.objects.filter(student=school["pupil"]).update(end_date=FIRST)
    assert sees(school["teacher"], school)["pupil"] is False
