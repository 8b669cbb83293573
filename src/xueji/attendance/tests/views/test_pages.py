"""The pages: the roll, the principal's morning and the county's day against counts by hand,
the CSV twice, the cases, the ledger and the rates of a past date."""

import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse

from xueji.attendance.models import Absence, DropoutCase, Reason, RollCall, Symptom
from xueji.attendance.rates import county_rates
from xueji.attendance.services import AbsenceIn, case_close, roll_take
from xueji.attendance.services.scan import scan_unexcused_runs
from xueji.attendance.tests.conftest import MON, day
from xueji.testing.factories import SchoolClassFactory, SchoolFactory

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_class_teacher_takes_the_roll_on_the_page(att):
    a, b, *_ = att["pupils"]
    client = _client(att["teacher"])
    url = reverse("attendance:roll", args=[att["class"].pk])
    page = client.get(url, {"day": MON.isoformat()})
    assert page.status_code == 200
    for child in att["pupils"]:
        assert child.name in page.content.decode()
    answer = client.post(
        url,
        {
            "day": MON.isoformat(),
            "absent": [str(a.pk), str(b.pk)],
            f"reason-{a.pk}": "sick",
            f"symptom-{a.pk}": "fever",
            f"reason-{b.pk}": "unexcused",
            f"portion-{b.pk}": "am",
        },
    )
    assert answer.status_code == 302
    assert dict(Absence.objects.values_list("student_id", "reason")) == {
        a.pk: "sick",
        b.pk: "unexcused",
    }
    # A sick child without a symptom is refused on the page, nothing written.
    refused = client.post(
        url,
        {"day": MON.isoformat(), "absent": [str(a.pk)], f"reason-{a.pk}": "sick"},
    )
    assert refused.status_code == 400
    assert Absence.objects.count() == 2
    # Another class's teacher does not find the class.
    assert _client(att["colleague"]).get(url).status_code == 404


def _morning_world(att):
    a, b, c, _d = att["pupils"]
    roll_take(
        actor=att["teacher"],
        school_class_id=att["class"].pk,
        day=MON,
        absences=[
            AbsenceIn(a.pk, Reason.SICK, symptom=Symptom.FEVER),
            AbsenceIn(b.pk, Reason.UNEXCUSED),
            AbsenceIn(c.pk, Reason.PERSONAL, portion="am"),
        ],
    )


def test_the_principals_morning_against_a_count_by_hand(att):
    _morning_world(att)
    page = _client(att["principal"]).get(reverse("attendance:morning"), {"day": MON.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    # By hand: two children absent all day (one sick, one unexcused), one half day; the other
    # class took no roll.
    m = page.context["m"]
    assert m.totals["absent"] == 2
    assert m.totals["sick"] == 1 and m.totals["unexcused"] == 1 and m.totals.get("personal", 0) == 0
    assert m.enrolled == 5
    row = next(r for r in m.classes if r["class"] == att["class"])
    assert (row["absent"], row["half"], row["enrolled"], row["taken"]) == (2, 1, 4, True)
    assert [c.pk for c in m.not_taken] == [att["other_class"].pk]
    assert 'id="absent-total">2<' in html
    assert "王二" in html and "张一" in html and "赵四" not in html


def test_the_county_page_against_a_count_by_hand(att):
    _morning_world(att)
    # A second school of the county that took no roll, and one of another county.
    SchoolFactory(county=att["county"], name="无点名小学")
    other = SchoolFactory(county_id="440305", name="南山小学")
    SchoolClassFactory(school=other, grade=1)
    page = _client(att["viewer"]).get(reverse("attendance:area"), {"day": MON.isoformat()})
    assert page.status_code == 200
    a = page.context["a"]
    assert len(a.schools) == 1
    row = a.schools[0]
    assert (row["enrolled"], row["absent"], row["counts"]) == (4, 2, [1, 0, 1, 0])
    assert row["rate"] == 50.0
    assert [s.name for s in a.no_roll] == ["无点名小学"]
    assert "南山小学" not in page.content.decode()


def test_the_card_systems_csv_page_twice(att):
    a = att["pupils"][0]
    text = (
        "date,class_id,student_number,portion,reason,symptom,note\r\n"
        f"{MON.isoformat()},{att['class'].pk},{a.reveal_student_number()},full,sick,cough,\r\n"
    )
    client = _client(att["registrar"])
    for _ in range(2):
        upload = io.BytesIO(text.encode("utf-8-sig"))
        upload.name = "roll.csv"
        answer = client.post(reverse("attendance:roll_import"), {"file": upload})
        assert answer.status_code == 302
    assert RollCall.objects.count() == 1 and Absence.objects.count() == 1


def test_a_case_cannot_be_closed_as_lost_contact_on_the_page(att):
    a = att["pupils"][0]
    for n in range(3):
        att["set_today"](day(n))
        roll_take(
            actor=att["teacher"],
            school_class_id=att["class"].pk,
            day=day(n),
            absences=[AbsenceIn(a.pk, Reason.UNEXCUSED)],
        )
    scan_unexcused_runs(on=day(2))
    case = DropoutCase.objects.get()
    client = _client(att["approver"])
    assert client.get(reverse("attendance:case", args=[case.pk])).status_code == 200
    refused = client.post(
        reverse("attendance:case_close", args=[case.pk]),
        {"confirmed": "yes", "end": "lost_contact"},
    )
    assert refused.status_code == 400
    case.refresh_from_db()
    assert case.state == "open"
    # The school sees it, another school's staff does not.
    assert _client(att["principal"]).get(reverse("attendance:cases")).context["total"] == 1
    stranger = SchoolFactory(county=att["county"])
    from xueji.access.models import Role
    from xueji.testing.factories import member

    outsider = _client(member(Role.PRINCIPAL, school=stranger))
    assert outsider.get(reverse("attendance:case", args=[case.pk])).status_code == 404
    # The ledger of the month counts it open.
    ledger = client.get(reverse("attendance:ledger"), {"county": "440304", "month": "2026-09"})
    row = next(r for r in ledger.context["rows"] if r.trigger == "unexcused_run")
    assert (row.opened, row.open_at_end) == (1, 1)


def test_rates_of_a_past_date_are_unchanged_by_later_writes(att):
    a, b, *_ = att["pupils"]
    for n in range(3):
        att["set_today"](day(n))
        roll_take(
            actor=att["teacher"],
            school_class_id=att["class"].pk,
            day=day(n),
            absences=[AbsenceIn(a.pk, Reason.UNEXCUSED)],
        )
    scan_unexcused_runs(on=day(2))
    past = day(2)
    before = county_rates("440304", past)
    assert before.enrolled == 5 and before.open_cases == 1
    assert before.consolidation_note == "nine_years"
    # Later: the case is closed, a new child registers, another case opens, rolls go on.
    att["set_today"](day(6))
    case_close(actor=att["approver"], case_id=DropoutCase.objects.get().pk, end="returned")
    from xueji.students.services import student_register
    from xueji.testing.factories import student_data

    student_register(
        actor=att["registrar"],
        school_class_id=att["class"].pk,
        data=student_data(name="新来", birth_date=datetime.date(2017, 8, 1)),
        start_date=day(6),
    )
    for n in (4, 5, 6):
        att["set_today"](day(n))
        roll_take(
            actor=att["teacher"],
            school_class_id=att["class"].pk,
            day=day(n),
            absences=[AbsenceIn(b.pk, Reason.UNEXCUSED)],
        )
    scan_unexcused_runs(on=day(6))
    assert county_rates("440304", past) == before
    now = county_rates("440304", day(6))
    assert now.enrolled == 6 and now.open_cases == 1 and now.returned_in_month == 1
    page = _client(att["viewer"]).get(
        reverse("attendance:rates"), {"county": "440304", "on": past.isoformat()}
    )
    assert page.status_code == 200
    assert page.context["current"] == before
    assert "needs nine years" in page.content.decode() or "九年" in page.content.decode()
