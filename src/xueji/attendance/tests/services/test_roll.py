"""Taking the roll: only absences and class-days are stored; corrections; the card system's CSV."""

import datetime

import pytest

from xueji.attendance.models import Absence, Portion, Reason, RollCall, RollCorrection, Symptom
from xueji.attendance.services import AbsenceIn, roll_import_csv, roll_take
from xueji.attendance.tests.conftest import MON, day
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.testing.factories import SchoolClassFactory, SchoolFactory

pytestmark = pytest.mark.django_db


def test_only_the_absent_are_rows_and_the_class_day_is_one(att):
    a, _b, *_ = att["pupils"]
    result = roll_take(
        actor=att["teacher"],
        school_class_id=att["class"].pk,
        day=MON,
        absences=[AbsenceIn(a.pk, Reason.SICK, symptom=Symptom.COUGH)],
    )
    assert result.created and result.absent == 1 and result.enrolled == 4
    assert RollCall.objects.count() == 1 and Absence.objects.count() == 1
    roll = RollCall.objects.get()
    assert (roll.enrolled, roll.absent, roll.taken_by) == (4, 1, att["teacher"])


def test_the_same_roll_twice_changes_nothing(att):
    a = att["pupils"][0]
    absences = [AbsenceIn(a.pk, Reason.UNEXCUSED)]
    roll_take(actor=att["teacher"], school_class_id=att["class"].pk, day=MON, absences=absences)
    entries = AuditEntry.objects.count()
    again = roll_take(
        actor=att["teacher"], school_class_id=att["class"].pk, day=MON, absences=absences
    )
    assert not again.changed
    assert AuditEntry.objects.count() == entries
    assert RollCorrection.objects.count() == 0


def test_only_the_own_class_and_school_days(att):
    with pytest.raises(NotFound):
        roll_take(actor=att["colleague"], school_class_id=att["class"].pk, day=MON, absences=[])
    with pytest.raises(FieldErrors) as sunday:
        roll_take(
            actor=att["teacher"],
            school_class_id=att["class"].pk,
            day=datetime.date(2026, 9, 13),
            absences=[],
        )
    assert "day" in sunday.value.errors
    with pytest.raises(FieldErrors) as future:
        roll_take(actor=att["teacher"], school_class_id=att["class"].pk, day=day(1), absences=[])
    assert "day" in future.value.errors


def test_absences_must_hold_together(att):
    a, b, c, _ = att["pupils"]
    with pytest.raises(FieldErrors) as refused:
        roll_take(
            actor=att["teacher"],
            school_class_id=att["class"].pk,
            day=MON,
            absences=[
                AbsenceIn(a.pk, Reason.SICK),  # no symptom
                AbsenceIn(b.pk, Reason.OTHER),  # no note
                AbsenceIn(att["other"].pk, Reason.PERSONAL),  # another class
                AbsenceIn(c.pk, Reason.PERSONAL, portion="night"),
            ],
        )
    assert len(refused.value.errors) == 4
    assert not RollCall.objects.exists()


def test_corrections_until_the_end_of_the_next_school_day_then_the_registrar_with_a_reason(att):
    a, b, *_ = att["pupils"]
    klass = att["class"].pk
    roll_take(actor=att["teacher"], school_class_id=klass, day=MON, absences=[])
    # Tuesday is the next school day: the class teacher still corrects.
    att["set_today"](day(1))
    fixed = roll_take(
        actor=att["teacher"],
        school_class_id=klass,
        day=MON,
        absences=[AbsenceIn(a.pk, Reason.PERSONAL, portion=Portion.AFTERNOON)],
    )
    assert fixed.changed and fixed.added == 1
    correction = RollCorrection.objects.get()
    assert correction.before == [] and not correction.late
    # Wednesday: too late for the class teacher.
    att["set_today"](day(2))
    with pytest.raises(Conflict):
        roll_take(actor=att["teacher"], school_class_id=klass, day=MON, absences=[])
    # The registrar needs a reason.
    with pytest.raises(FieldErrors) as no_reason:
        roll_take(actor=att["registrar"], school_class_id=klass, day=MON, absences=[])
    assert "reason" in no_reason.value.errors
    late = roll_take(
        actor=att["registrar"],
        school_class_id=klass,
        day=MON,
        absences=[AbsenceIn(b.pk, Reason.SICK, symptom=Symptom.FEVER)],
        reason="家长补交病假条",
    )
    assert late.added == 1 and late.removed == 1
    last = RollCorrection.objects.order_by("-at").first()
    assert last.late and last.reason == "家长补交病假条" and last.actor == att["registrar"]
    assert AuditEntry.objects.filter(action="attendance.correct").count() == 2
    assert list(Absence.objects.values_list("student_id", flat=True)) == [b.pk]


def test_a_roll_never_taken_may_be_entered_late_only_by_the_registrar(att):
    att["set_today"](day(3))
    with pytest.raises(Conflict):
        roll_take(actor=att["teacher"], school_class_id=att["class"].pk, day=MON, absences=[])
    roll_take(
        actor=att["registrar"],
        school_class_id=att["class"].pk,
        day=MON,
        absences=[],
        reason="纸质点名补录",
    )
    assert RollCall.objects.filter(day=MON).exists()


def _csv_rows(att):
    a, b, *_ = att["pupils"]
    return [
        {
            "date": MON.isoformat(),
            "class_id": str(att["class"].pk),
            "student_number": a.reveal_student_number(),
            "portion": "full",
            "reason": "sick",
            "symptom": "fever",
            "note": "",
        },
        {
            "date": MON.isoformat(),
            "class_id": str(att["class"].pk),
            "student_number": b.reveal_student_number(),
            "portion": "late",
            "reason": "unexcused",
            "symptom": "",
            "note": "",
        },
        {
            "date": MON.isoformat(),
            "class_id": str(att["other_class"].pk),
            "student_number": "",
            "portion": "",
            "reason": "",
            "symptom": "",
            "note": "",
        },
    ]


def test_the_card_systems_csv_twice_changes_nothing(att):
    first = roll_import_csv(actor=att["registrar"], rows=_csv_rows(att))
    assert (first.class_days, first.changed, first.absences) == (2, 2, 2)
    rolls = list(RollCall.objects.values_list("pk", "school_class_id", "absent", "changed_at"))
    absences = list(Absence.objects.values_list("pk", "student_id", "portion", "reason"))
    entries = AuditEntry.objects.count()
    second = roll_import_csv(actor=att["registrar"], rows=_csv_rows(att))
    assert (second.class_days, second.changed, second.unchanged) == (2, 0, 2)
    assert (
        list(RollCall.objects.values_list("pk", "school_class_id", "absent", "changed_at")) == rolls
    )
    assert list(Absence.objects.values_list("pk", "student_id", "portion", "reason")) == absences
    assert AuditEntry.objects.count() == entries
    assert RollCorrection.objects.count() == 0


def test_a_wrong_csv_line_writes_nothing(att):
    rows = _csv_rows(att)
    rows[1]["student_number"] = "G000000000000000000"
    with pytest.raises(FieldErrors):
        roll_import_csv(actor=att["registrar"], rows=rows)
    assert not RollCall.objects.exists()


def test_a_guest_is_on_the_host_class_roll_and_off_the_home_class_roll(att):
    from xueji.access.models import Role
    from xueji.attendance.services.guests import guest_add
    from xueji.attendance.services.roll import class_roll_ids
    from xueji.testing.factories import member

    host = SchoolFactory(county_id="440305")
    host_class = SchoolClassFactory(school=host, grade=3)
    registrar_b = member(Role.REGISTRAR, school=host)
    a = att["pupils"][0]
    guest_add(
        actor=registrar_b,
        student_number=a.reveal_student_number(),
        school_class_id=host_class.pk,
        start_date=MON,
    )
    assert a.pk in class_roll_ids(host_class.pk, MON)
    assert a.pk not in class_roll_ids(att["class"].pk, MON)
    with pytest.raises(FieldErrors):
        guest_add(
            actor=att["registrar"],
            student_number=att["other"].reveal_student_number(),
            school_class_id=att["class"].pk,
        )


# ---- the card system's CSV, set-based ----------------------------------------------------------


def _line(day_, school_class, student=None, reason="", portion="full", symptom=""):
    return {
        "date": day_.isoformat(),
        "class_id": str(school_class.pk),
        "student_number": student.reveal_student_number() if student else "",
        "portion": portion if student else "",
        "reason": reason,
        "symptom": symptom,
        "note": "",
    }


def _classes_with_children(att, count):
    from xueji.students.services import student_register
    from xueji.testing.factories import student_data

    made = []
    for n in range(count):
        klass = SchoolClassFactory(school=att["school"], grade=4, number=n + 1)
        child = student_register(
            actor=att["registrar"],
            school_class_id=klass.pk,
            data=student_data(
                name="孙" + "一二三四五六七八九十"[n], birth_date=datetime.date(2016, 5, 1 + n)
            ),
            start_date=datetime.date(2026, 9, 1),
        ).student
        made.append((klass, child))
    return made


def test_the_csv_is_written_with_as_many_statements_for_many_classes_as_for_few(att):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    classes = _classes_with_children(att, 8)

    def file(subset):
        return [_line(MON, klass, child, "unexcused") for klass, child in subset]

    with CaptureQueriesContext(connection) as few:
        roll_import_csv(actor=att["registrar"], rows=file(classes[:2]))
    with CaptureQueriesContext(connection) as many:
        result = roll_import_csv(actor=att["registrar"], rows=file(classes[2:]))
    assert (result.class_days, result.changed) == (6, 6)
    assert len(many.captured_queries) == len(few.captured_queries)
    # One audit entry for the file, not one per class.
    assert AuditEntry.objects.filter(action="attendance.import").count() == 2
    assert not AuditEntry.objects.filter(action="attendance.take").exists()
    assert RollCall.objects.filter(day=MON, source="csv").count() == 8
    assert set(RollCall.objects.values_list("absent", "enrolled")) == {(1, 1)}


def test_a_second_file_corrects_only_the_class_days_that_differ(att):
    a, b, c, _d = att["pupils"]
    first = [
        _line(MON, att["class"], a, "sick", symptom="fever"),
        _line(MON, att["class"], b, "unexcused", portion="late"),
        _line(MON, att["other_class"]),
    ]
    roll_import_csv(actor=att["registrar"], rows=first)
    untouched = RollCall.objects.get(school_class=att["other_class"]).changed_at
    second = [
        _line(MON, att["class"], a, "sick", symptom="cough"),  # changed
        _line(MON, att["class"], c, "personal"),  # added; b is no longer absent
        _line(MON, att["other_class"]),
    ]
    result = roll_import_csv(actor=att["registrar"], rows=second)
    assert (result.changed, result.unchanged) == (1, 1)
    assert set(Absence.objects.values_list("student_id", "reason", "symptom")) == {
        (a.pk, "sick", "cough"),
        (c.pk, "personal", ""),
    }
    roll = RollCall.objects.get(school_class=att["class"])
    assert (roll.absent, roll.enrolled) == (2, 4)
    correction = RollCorrection.objects.get()
    assert {row["student"] for row in correction.before} == {str(a.pk), str(b.pk)}
    assert {row["student"] for row in correction.after} == {str(a.pk), str(c.pk)}
    assert RollCall.objects.get(school_class=att["other_class"]).changed_at == untouched


def test_a_csv_child_not_on_the_class_roll_is_named_by_line_and_nothing_is_written(att):
    a = att["pupils"][0]
    rows = [
        _line(MON, att["other_class"]),
        _line(MON, att["other_class"], a, "unexcused"),  # a is in the other class
    ]
    with pytest.raises(FieldErrors) as refused:
        roll_import_csv(actor=att["registrar"], rows=rows)
    lines = refused.value.errors["file"][0].params["lines"]
    assert [line["line"] for line in lines] == [3]
    assert not RollCall.objects.exists() and not Absence.objects.exists()
    # A class of another school: refused as unknown, nothing written.
    elsewhere = SchoolClassFactory(school=SchoolFactory(county=att["county"]), grade=3)
    with pytest.raises(NotFound):
        roll_import_csv(actor=att["registrar"], rows=[_line(MON, elsewhere)])
    # A Sunday: refused naming the class and the day.
    with pytest.raises(FieldErrors):
        roll_import_csv(
            actor=att["registrar"], rows=[_line(datetime.date(2026, 9, 13), att["class"])]
        )
    assert not RollCall.objects.exists()


def test_a_csv_moves_a_childs_absence_from_the_class_it_left(att):
    from django.db import transaction

    from xueji.students.models import EventKind, PlacementReason
    from xueji.students.record import open_placement_locked, record_move

    a = att["pupils"][0]
    roll_take(
        actor=att["teacher"],
        school_class_id=att["class"].pk,
        day=MON,
        absences=[AbsenceIn(a.pk, Reason.UNEXCUSED)],
    )
    with transaction.atomic():
        record_move(
            actor=att["registrar"],
            student=a,
            placement=open_placement_locked(a.pk),
            to_class=att["other_class"],
            on=MON,
            reason=PlacementReason.CLASS_CHANGE,
            event=EventKind.CLASS_CHANGED,
        )
    roll_import_csv(actor=att["registrar"], rows=[_line(MON, att["other_class"], a, "personal")])
    assert list(Absence.objects.values_list("student_id", "school_class_id", "reason")) == [
        (a.pk, att["other_class"].pk, "personal")
    ]
