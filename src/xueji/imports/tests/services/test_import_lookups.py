"""An import is no existence oracle: a row whose ID number another school's child holds names that
school only when the row's name is the record's (folded as a registration folds it), else says
"registered at another school"; each such row is an audited look-up of that child, counted with
the importer's other look-ups of the hour; the rows beyond the hour's allowance are refused as
"look-up limit reached" (nothing written, no row below the last answer telling whether its number
is registered) and the auditors see an alert. The registry is asked set-based, never per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xueji.access.lookups import (
    LOOKUP_ACTION,
    LOOKUP_REFUSED_ACTION,
    LookupKind,
    LookupOutcome,
    lookup_answer,
)
from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.imports.models import JobState
from xueji.imports.tests.sheets import csv_bytes, row_of, xlsx_bytes
from xueji.students.models import Student
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data
from xueji.trail.selectors import lookup_alerts

pytestmark = pytest.mark.django_db

OTHER_NAMES = [f"王{a}{b}" for a in "春夏秋冬梅兰竹菊" for b in "明亮华伟强军"]


@pytest.fixture
def other_school():
    school = SchoolFactory(name="南山外国语学校")
    SchoolClassFactory(school=school, grade=1, number=1)
    return school


@pytest.fixture
def registered_elsewhere(other_school, upload):
    """Children of another school, registered by its registrar's import: name -> ID number."""

    def register(names):
        data = [student_data(name=name) for name in names]
        job = upload(xlsx_bytes([row_of(d) for d in data]), actor=member(school=other_school))
        assert job.state == JobState.IMPORTED, (job.message, job.errors)
        return {d.name: d.id_number for d in data}

    return register


def _lookups(user, action=LOOKUP_ACTION):
    return list(AuditEntry.objects.filter(actor=user, action=action).order_by("id"))


def _errors(job):
    return sorted((error[0], error[3]) for error in job.errors)


@pytest.mark.parametrize("make", [xlsx_bytes, csv_bytes], ids=["xlsx", "csv"])
def test_another_schools_child_is_named_only_to_the_records_name_and_each_row_is_a_lookup(
    upload, school, registrar, registered_elsewhere, make
):
    held = registered_elsewhere(["王五", "阿依古丽·买买提", "张伟"])
    own = student_data(name="李华")
    assert upload(xlsx_bytes([row_of(own)])).state == JobState.IMPORTED
    rows = [
        row_of(student_data(name="赵六")),  # row 2: a new child
        row_of(student_data(name="李四", id_number=held["王五"])),  # another name
        row_of(student_data(name="阿依古丽•买买提", id_number=held["阿依古丽·买买提"])),
        row_of(student_data(name="張偉", id_number=held["张伟"])),  # traditional characters
        row_of(student_data(name="李华", id_number=own.id_number)),  # the school's own
    ]
    job = upload(make(rows), filename="s." + ("xlsx" if make is xlsx_bytes else "csv"))
    assert job.state == JobState.INVALID
    assert _errors(job) == [
        (3, "registered_elsewhere"),
        (4, "id_number_registered"),
        (5, "id_number_registered"),
        (6, "id_number_registered"),
    ]
    messages = {error[0]: (error[4], error[5]) for error in job.errors}
    assert "南山外国语学校" not in str(messages[3])
    assert "registered at another school" in messages[3][1]
    assert "已在其他学校注册学籍" in messages[3][0]
    assert "南山外国语学校" in messages[4][1] and "南山外国语学校" in messages[5][1]
    assert school.name in messages[6][1]
    # Three look-ups, each about its child; the school's own duplicate is none.
    entries = _lookups(registrar)
    holders = dict(Student.objects.values_list("name", "pk"))
    assert [
        (e.object_id, e.detail["kind"], e.detail["outcome"], e.detail["row"]) for e in entries
    ] == [
        (holders["王五"], "import", "registered_elsewhere", 3),
        (holders["阿依古丽·买买提"], "import", "school_named", 4),
        (holders["张伟"], "import", "school_named", 5),
    ]
    for entry in entries:
        assert entry.detail["import"] == str(job.pk)
        assert "*" in entry.detail["id_number"]
        assert not any(number in str(entry.detail) for number in held.values())
    assert not _lookups(registrar, LOOKUP_REFUSED_ACTION)
    assert job.message and "Look-up limit" not in job.message_en


def test_the_rows_beyond_the_hours_allowance_are_refused_and_the_auditor_is_alerted(
    upload, school, registrar, registered_elsewhere, settings
):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 4
    held = list(registered_elsewhere(OTHER_NAMES[:6]).values())
    # One look-up of the hour is already used, by the transfer's look-up.
    lookup_answer(actor=registrar, kind=LookupKind.TRANSFER, outcome=LookupOutcome.NOT_FOUND)
    rows = [
        row_of(student_data(name="李一", id_number=held[0])),  # row 2: answered
        row_of(student_data(name="李二")),  # row 3: a new child
        row_of(student_data(name="李三", id_number=held[1]), phone="bad phone"),  # answered
        row_of(student_data(name="李四", id_number=held[2])),  # row 5: the last answered
        row_of(student_data(name="李五")),  # row 6: a new child, below the allowance
        row_of(student_data(name="李六", id_number=held[3])),  # row 7: withheld
        row_of(student_data(name="李七", id_number=held[4]), phone="bad phone"),  # withheld
        row_of(student_data(name="李八"), phone="bad phone"),  # row 9: its own error
    ]
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.INVALID and job.rows_written == 0
    assert Student.objects.filter(school=school).count() == 0
    assert _errors(job) == [
        (2, "registered_elsewhere"),
        (4, "invalid_phone"),
        (4, "registered_elsewhere"),
        (5, "registered_elsewhere"),
        (6, "lookup_limit_reached"),
        (8, "invalid_phone"),
        (9, "invalid_phone"),
    ]
    # The count of problems does not count the withheld answers either.
    assert job.error_count == 7
    [limit] = [error for error in job.errors if error[3] == "lookup_limit_reached"]
    assert limit[1] == -1 and "Look-up limit reached" in limit[5] and "查询次数上限" in limit[4]
    assert "Look-up limit reached" in job.message_en and "rows from 6 on" in job.message_en
    assert "4 children" in job.message_en and "查询次数上限" in job.message
    entries = _lookups(registrar)
    assert [e.detail.get("row") for e in entries] == [None, 2, 4, 5]
    [refusal] = _lookups(registrar, LOOKUP_REFUSED_ACTION)
    assert refusal.detail["kind"] == "import" and refusal.detail["withheld"] == 2
    assert refusal.detail["import"] == str(job.pk) and refusal.detail["answered_in_the_hour"] == 4
    # The auditors see the alert, as for any look-up over the limit.
    [alert] = lookup_alerts(member(Role.AUDITOR))
    assert alert.username == registrar.username and alert.refused == 1

    # The hour is used up: the file again answers no row about another school's child, and
    # says so from its first row, whatever the rows hold.
    again = upload(xlsx_bytes(rows[:6]))
    assert _errors(again) == [(2, "lookup_limit_reached"), (4, "invalid_phone")]
    assert len(_lookups(registrar)) == 4
    assert len(_lookups(registrar, LOOKUP_REFUSED_ACTION)) == 2


def test_a_file_without_other_schools_children_asks_nothing(upload, school, registrar, settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 0
    own = student_data(name="李华")
    assert upload(xlsx_bytes([row_of(own)])).state == JobState.IMPORTED
    again = student_data(name="李华", id_number=own.id_number, address="另一个地址")
    job = upload(xlsx_bytes([row_of(again)]))
    assert job.state == JobState.INVALID
    assert _errors(job) == [(2, "id_number_registered")]
    assert not AuditEntry.objects.filter(action__startswith="student.lookup").exists()


def test_the_registry_is_asked_set_based_not_per_row(
    upload, school, registered_elsewhere, settings
):
    """Six rows of other schools' children or forty-eight: the same queries, since the answers
    given (the hour's two) are the same."""
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 2
    held = list(registered_elsewhere(OTHER_NAMES).values())
    counts = []
    for numbers in (held[:6], held):
        rows = [row_of(student_data(name="李四", id_number=n)) for n in numbers]
        registrar = member(school=school)  # each with the hour's look-ups all left
        with CaptureQueriesContext(connection) as queries:
            job = upload(xlsx_bytes(rows), actor=registrar)
        assert _errors(job) == [
            (2, "registered_elsewhere"),
            (3, "registered_elsewhere"),
            (4, "lookup_limit_reached"),
        ]
        counts.append(len(queries))
    assert counts[0] == counts[1]
