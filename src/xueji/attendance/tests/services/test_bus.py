"""School buses: routes, stops and the children whose record says they need the bus; the
monitor's check morning and afternoon; a card reader's taps (twice changes nothing); and the
flags raised at once when the roll and the bus disagree, shown to the class teacher and the
principal."""

import datetime

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.attendance.models import Boarding, BusCheck, BusFlag, Reason
from xueji.attendance.services import AbsenceIn, roll_take
from xueji.attendance.services.bus import (
    Tap,
    bus_check_save,
    bus_rider_assign,
    bus_route_save,
    bus_stop_add,
    bus_taps_record,
)
from xueji.attendance.tests.conftest import day
from xueji.core.errors import FieldErrors, NotFound
from xueji.students.models import Student
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def bus(att):
    a, b, c = att["pupils"][:3]
    Student.objects.filter(pk__in=[a.pk, b.pk]).update(needs_school_bus=True)
    route = bus_route_save(
        actor=att["registrar"],
        name="一号线",
        vehicle="粤B12345",
        driver="陈师傅",
        monitor_id=att["colleague"].pk,
    )
    stop = bus_stop_add(actor=att["registrar"], route_id=route.pk, name="村口", morning_at="07:10")
    for child in (a, b):
        bus_rider_assign(
            actor=att["registrar"],
            route_id=route.pk,
            student_id=child.pk,
            stop_id=stop.pk,
            on=datetime.date(2026, 9, 1),
        )
    att["set_today"](day(1))
    return {**att, "route": route, "stop": stop, "a": a, "b": b, "c": c}


def test_only_children_who_need_the_bus_are_assigned_and_the_monitor_is_a_teacher(bus):
    with pytest.raises(FieldErrors) as refused:
        bus_rider_assign(
            actor=bus["registrar"],
            route_id=bus["route"].pk,
            student_id=bus["c"].pk,
            stop_id=bus["stop"].pk,
        )
    assert refused.value.errors["student_id"][0].code == "no_need"
    stranger = member(Role.CLASS_TEACHER, school=SchoolFactory(county=bus["county"]))
    with pytest.raises(FieldErrors) as refused:
        bus_route_save(
            actor=bus["registrar"],
            route_id=bus["route"].pk,
            name="一号线",
            monitor_id=stranger.pk,
        )
    assert "monitor_id" in refused.value.errors
    with pytest.raises(PermissionRefused):
        bus_route_save(actor=bus["teacher"], name="二号线")


def test_boarded_in_the_morning_but_not_in_class_is_flagged_at_once_and_cleared(bus):
    a, b = bus["a"], bus["b"]
    # The monitor (a teacher of the school) checks the morning trip: both boarded.
    bus_check_save(
        actor=bus["colleague"],
        route_id=bus["route"].pk,
        day=day(1),
        trip="am",
        boarded=[a.pk, b.pk],
    )
    assert not BusFlag.objects.exists()  # the roll is not taken yet: nothing to compare
    roll_take(
        actor=bus["teacher"],
        school_class_id=bus["class"].pk,
        day=day(1),
        absences=[AbsenceIn(a.pk, Reason.UNEXCUSED)],
    )
    flag = BusFlag.objects.get()
    assert (flag.student_id, flag.kind, flag.school_class_id) == (
        a.pk,
        "boarded_absent",
        bus["class"].pk,
    )
    # Shown to the class teacher (the roll's page) and the principal (the morning page).
    for user, url in (
        (bus["teacher"], "/attendance/roll/"),
        (bus["principal"], "/attendance/morning/"),
    ):
        page = Client()
        page.force_login(user)
        html = page.get(url, {"day": day(1).isoformat()}).content.decode()
        assert 'id="bus-flags"' in html and a.name in html
    # The roll corrected (the child was there after all): the flag goes.
    roll_take(actor=bus["teacher"], school_class_id=bus["class"].pk, day=day(1), absences=[])
    assert not BusFlag.objects.exists()


def test_in_class_but_not_boarded_home_is_flagged_when_the_afternoon_check_is_saved(bus):
    a, b = bus["a"], bus["b"]
    roll_take(
        actor=bus["teacher"],
        school_class_id=bus["class"].pk,
        day=day(1),
        absences=[AbsenceIn(b.pk, Reason.PERSONAL, "pm")],
    )
    result = bus_check_save(
        actor=bus["registrar"], route_id=bus["route"].pk, day=day(1), trip="pm", boarded=[]
    )
    # a was in class and did not board home; b left at noon (absent in the afternoon).
    assert result.flags == 1
    assert list(BusFlag.objects.values_list("student_id", "kind")) == [(a.pk, "missed_home")]
    again = bus_check_save(
        actor=bus["registrar"], route_id=bus["route"].pk, day=day(1), trip="pm", boarded=[a.pk]
    )
    assert again.added == 1 and not BusFlag.objects.exists()


def test_a_card_reader_sends_the_same_taps_twice_and_nothing_changes(bus):
    a, b = bus["a"], bus["b"]
    api = api_as(bus["registrar"], language="en")
    taps = {
        "taps": [
            {
                "route_id": bus["route"].pk,
                "day": day(1).isoformat(),
                "trip": "am",
                "student_id": str(a.pk),
            },
            {
                "route_id": bus["route"].pk,
                "day": day(1).isoformat(),
                "trip": "am",
                "student_number": b.reveal_student_number(),
            },
        ]
    }
    first = api.post("/api/attendance/buses/taps", taps)
    assert first.status_code == 200, first.content
    assert first.json()["added"] == 2
    second = api.post("/api/attendance/buses/taps", taps)
    assert second.json() == {"taps": 2, "added": 0, "unchanged": 2, "flags": 0}
    assert Boarding.objects.count() == 2 and BusCheck.objects.get().source == "reader"
    # All or nothing: one unknown child refuses the batch, naming the tap.
    bad = {
        "taps": [
            taps["taps"][0] | {"trip": "pm"},
            taps["taps"][0] | {"trip": "pm", "student_id": str(bus["c"].pk)},
        ]
    }
    refused = api.post("/api/attendance/buses/taps", bad)
    assert refused.status_code == 400 and "taps[1]" in refused.content.decode()
    assert Boarding.objects.count() == 2


def test_a_teacher_of_another_school_cannot_check_or_see_the_route(bus):
    other = SchoolFactory(county=bus["county"])
    SchoolClassFactory(school=other, grade=3, number=1)
    outsider = member(Role.CLASS_TEACHER, school=other)
    with pytest.raises(NotFound):
        bus_check_save(actor=outsider, route_id=bus["route"].pk, day=day(1), trip="am", boarded=[])
    with pytest.raises(NotFound):
        bus_taps_record(
            actor=outsider,
            taps=[Tap(bus["route"].pk, day(1), "am", student_id=bus["a"].pk)],
        )
    page = Client()
    page.force_login(outsider)
    assert page.get(f"/attendance/board/{bus['route'].pk}/").status_code == 404
    with pytest.raises(FieldErrors):  # no school day (a Sunday)
        bus_check_save(
            actor=bus["colleague"],
            route_id=bus["route"].pk,
            day=datetime.date(2026, 9, 13),
            trip="am",
            boarded=[],
        )


def test_the_pages_of_routes_and_the_phone_check(bus):
    registrar = Client()
    registrar.force_login(bus["registrar"])
    listed = registrar.get("/attendance/buses/").content.decode()
    assert 'id="bus-routes"' in listed and "一号线" in listed
    refused = registrar.post("/attendance/buses/", {"name": ""})
    assert refused.status_code == 400 and 'id="name_error"' in refused.content.decode()
    made = registrar.post("/attendance/buses/", {"name": "二号线"})
    assert made.status_code == 302
    # Removing a stop asks first.
    route_url = f"/attendance/buses/{bus['route'].pk}/"
    asked = registrar.post(route_url, {"action": "remove_stop", "stop_id": bus["stop"].pk})
    assert asked.status_code == 200 and 'id="bus-confirm"' in asked.content.decode()
    in_use = registrar.post(
        route_url, {"action": "remove_stop", "stop_id": bus["stop"].pk, "confirmed": "yes"}
    )
    assert in_use.status_code == 400  # children are assigned to it
    # The monitor's phone page: tick who boards.
    monitor = Client()
    monitor.force_login(bus["colleague"])
    home = monitor.get("/attendance/board/").content.decode()
    assert "一号线" in home
    url = f"/attendance/board/{bus['route'].pk}/"
    sheet = monitor.get(url, {"day": day(1).isoformat(), "trip": "am"}).content.decode()
    assert f'value="{bus["a"].pk}"' in sheet
    saved = monitor.post(
        url, {"day": day(1).isoformat(), "trip": "am", "boarded": [str(bus["a"].pk)]}
    )
    assert saved.status_code == 302
    assert set(Boarding.objects.values_list("student_id", flat=True)) == {bus["a"].pk}
