"""The queues of changes (issue 20, items 10 and 16): a tab per box with its count, 查询/重置
filters (kind, state, overdue or held, the days filed, the child's name; a county and a school for
a bureau, within its area), pages with their numbers and the total, an Excel export of the box as
filtered; a child named in full where the user has the record (the school that filed, the child's
school, the bureaus above it), masked elsewhere."""

import datetime
import io
import re

import openpyxl
import pytest

from xueji.access.scope import today
from xueji.audit.models import AuditEntry
from xueji.changes import queues
from xueji.changes.models import ApprovalStep, ChangeRequest, ChangeState, StepState
from xueji.changes.tests.views.scenario import (
    approve_all,
    client_as,
    enrol,
    file_suspension,
    file_transfer,
)
from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db


def hold(change, resumes_on=None):
    """Put a request back into the queue of a closed period."""
    change.steps.exclude(ordinal=1).update(state=StepState.WAITING, due_on=None)
    ChangeRequest.objects.filter(pk=change.pk).update(
        state=ChangeState.HELD, resumes_on=resumes_on or today() + datetime.timedelta(days=20)
    )


def rows_of(html):
    return re.findall(r'<tr id="change-([0-9a-f-]+)"', html)


# ---- names (item 10) -----------------------------------------------------------------------------


def test_the_filer_sees_its_held_request_by_name(scene):
    other = enrol(scene.nanshan, "王大山")
    change = file_suspension(scene.nanshan, other)
    hold(change)
    held = client_as(scene.nanshan.registrar).get("/changes/?box=held").content.decode()
    assert f'id="change-{change.pk}"' in held and "王大山" in held and "王*山" not in held
    # The county above the child's school has the record too; the API says the same.
    county = client_as(scene.approvers["440305"]).get("/changes/?box=held").content.decode()
    assert "王大山" in county
    (row,) = api_as(scene.nanshan.registrar).get("/api/changes", {"box": "held"}).json()
    assert row["student_name"] == "王大山"


def test_a_finished_transfer_is_named_where_the_child_now_sits_and_masked_where_it_left(scene):
    change = approve_all(scene, file_transfer(scene, scene.child))
    assert change.state == ChangeState.COMPLETED
    receiver = client_as(scene.receiver.registrar).get("/changes/?box=finished").content.decode()
    assert f'id="change-{change.pk}"' in receiver and "张春铭" in receiver
    # The sending school no longer holds the record and did not file: masked.
    sender = client_as(scene.sender.registrar).get("/changes/?box=finished").content.decode()
    assert f'id="change-{change.pk}"' in sender and "张*铭" in sender and "张春铭" not in sender
    (row,) = api_as(scene.sender.principal).get("/api/changes", {"box": "recent"}).json()
    assert row["student_name"] == "张*铭"
    (row,) = api_as(scene.receiver.principal).get("/api/changes", {"box": "recent"}).json()
    assert row["student_name"] == "张春铭"


def test_a_party_without_the_record_sees_the_name_masked_until_its_turn(scene):
    change = file_transfer(scene, scene.child)
    # 北京市 (the receiving province) decides after 东城区: masked before its turn.
    beijing = client_as(scene.approvers["110000"])
    assert "张*铭" in beijing.get("/changes/?box=all").content.decode()
    assert "张春铭" not in beijing.get(f"/changes/{change.pk}/").content.decode()


# ---- tabs, filters, pages (item 16) ------------------------------------------------------------


@pytest.fixture
def three_suspensions(scene):
    names = ["王小明", "李小红", "赵大海"]
    return [file_suspension(scene.sender, enrol(scene.sender, name)) for name in names]


def test_the_queue_pages_with_numbers_and_total(scene, three_suspensions, monkeypatch):
    monkeypatch.setattr(queues, "QUEUE_PER_PAGE", 2)
    county = client_as(scene.approvers["440304"])
    first = county.get("/changes/").content.decode()
    assert len(rows_of(first)) == 2 and 'id="queue-total">3 requests<' in first
    assert 'aria-current="page">1<' in first and "?page=2" in first
    assert re.search(r'id="waiting-count">3<', first)
    second = county.get("/changes/?page=2").content.decode()
    assert len(rows_of(second)) == 1
    assert set(rows_of(first) + rows_of(second)) == {str(c.pk) for c in three_suspensions}
    # Oldest deadline first: the order holds across the pages.
    assert rows_of(first)[0] == str(three_suspensions[0].pk)


def test_the_filters_narrow_the_box_and_reset_clears_them(scene, three_suspensions):
    county = client_as(scene.approvers["440304"])
    by_name = county.get("/changes/", {"box": "all", "name": "李小"}).content.decode()
    assert rows_of(by_name) == [str(three_suspensions[1].pk)]
    assert 'id="reset-filters"' in by_name and 'href="/changes/?box=all"' in by_name
    assert (
        rows_of(county.get("/changes/", {"box": "all", "kind": "transfer"}).content.decode()) == []
    )
    ChangeRequest.objects.filter(pk=three_suspensions[2].pk).update(state=ChangeState.WITHDRAWN)
    withdrawn = county.get("/changes/", {"box": "all", "state": "withdrawn"}).content.decode()
    assert rows_of(withdrawn) == [str(three_suspensions[2].pk)]
    # Overdue: a step past its deadline.
    ApprovalStep.objects.filter(request=three_suspensions[0], state=StepState.PENDING).update(
        due_on=datetime.date(2000, 1, 3)
    )
    late = county.get("/changes/", {"box": "waiting", "flag": "overdue"}).content.decode()
    assert rows_of(late) == [str(three_suspensions[0].pk)]
    # Held.
    hold(three_suspensions[1])
    held = county.get("/changes/", {"box": "all", "flag": "held"}).content.decode()
    assert rows_of(held) == [str(three_suspensions[1].pk)]
    # The days filed.
    ChangeRequest.objects.filter(pk=three_suspensions[0].pk).update(
        filed_on=today() - datetime.timedelta(days=40)
    )
    recent = county.get(
        "/changes/",
        {"box": "all", "filed_from": (today() - datetime.timedelta(days=7)).isoformat()},
    ).content.decode()
    assert set(rows_of(recent)) == {str(c.pk) for c in three_suspensions[1:]}
    # The tabs count under the same filters.
    assert re.search(r'id="all-count">2<', recent)


def test_wrong_filters_are_named_next_to_their_field(scene):
    county = client_as(scene.approvers["440304"])
    backwards = county.get("/changes/", {"filed_from": "2026-10-10", "filed_until": "2026-10-01"})
    assert backwards.status_code == 400
    html = backwards.content.decode()
    assert 'id="id_filed_until_error"' in html and "<h1>" in html


def test_a_bureau_filters_by_county_and_school_within_its_area_only(scene):
    ours = file_suspension(scene.sender, scene.child)
    theirs = file_suspension(scene.nanshan, enrol(scene.nanshan, "王大山"))
    province = client_as(scene.approvers["440000"])
    page = province.get("/changes/?box=all").content.decode()
    assert set(rows_of(page)) == {str(ours.pk), str(theirs.pk)}
    assert 'name="county"' in page and 'name="school"' in page
    nanshan = province.get("/changes/", {"box": "all", "county": "440305"}).content.decode()
    assert rows_of(nanshan) == [str(theirs.pk)]
    by_code = province.get(
        "/changes/", {"box": "all", "school": scene.sender.school.code}
    ).content.decode()
    assert rows_of(by_code) == [str(ours.pk)]
    # A county outside the province is no choice.
    outside = province.get("/changes/", {"box": "all", "county": "110101"})
    assert outside.status_code == 400 and 'id="id_county_error"' in outside.content.decode()
    # A county bureau: a school filter, no county; a school: neither.
    county = client_as(scene.approvers["440304"]).get("/changes/?box=all").content.decode()
    assert 'name="school"' in county and 'name="county"' not in county
    school = client_as(scene.sender.registrar).get("/changes/").content.decode()
    assert 'name="school"' not in school and 'name="county"' not in school


def test_the_tabs_are_the_users_boxes(scene):
    tabs = lambda user: re.findall(  # noqa: E731
        r'id="box-([a-z]+)"', client_as(user).get("/changes/").content.decode()
    )
    assert tabs(scene.sender.registrar) == ["waiting", "filed", "held", "finished", "all"]
    assert tabs(scene.approvers["440304"]) == ["waiting", "overdue", "held", "finished", "all"]
    assert tabs(scene.shenzhen_viewer) == ["overdue", "held", "finished", "all"]
    assert client_as(scene.class_teacher).get("/changes/").status_code == 403


# ---- the export (item 16) ----------------------------------------------------------------------


def test_the_box_is_exported_to_excel_as_filtered_and_audited(scene, three_suspensions):
    transfer = file_transfer(scene, enrol(scene.sender, "钱多多"))
    county = client_as(scene.approvers["440304"])
    page = county.get("/changes/", {"box": "all", "kind": "suspend"}).content.decode()
    link = re.search(r'id="queue-export" href="([^"]+)"', page)[1].replace("&amp;", "&")
    assert link.startswith("/exports/changes.xlsx?") and "kind=suspend" in link
    response = county.get(link)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0][0] == "Student"
    assert sorted(line[0] for line in lines[1:]) == sorted(["王小明", "李小红", "赵大海"])
    assert "钱多多" not in str(lines) and str(transfer.pk) not in str(lines)
    entry = AuditEntry.objects.get(action="export", actor=scene.approvers["440304"])
    assert entry.detail["rows"] == 3
    assert entry.detail["filters"] == {"box": "all", "kind": "suspend"}


def test_the_export_names_children_as_the_page_does_and_no_number(scene):
    change = approve_all(scene, file_transfer(scene, scene.child))
    response = client_as(scene.sender.registrar).get("/exports/changes.csv?box=finished")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response.status_code == 200 and "张*铭" in body and "张春铭" not in body
    assert not re.search(r"[GJL]\d{6}", body) and str(change.pk) not in body


def test_who_may_not_export_the_queue(scene, settings):
    assert client_as(scene.class_teacher).get("/exports/changes.xlsx").status_code == 403
    county = client_as(scene.approvers["440304"])
    assert county.get("/exports/changes.pdf").status_code == 404
    province = client_as(scene.approvers["440000"])
    assert province.get("/exports/changes.xlsx?county=110101").status_code == 400
    # More rows than one Excel file takes at once: back to the queue with the reason.
    file_suspension(scene.sender, scene.child)
    settings.XUEJI_EXPORT_BACKGROUND_ROWS = 0
    refused = county.get("/exports/changes.xlsx?box=all")
    assert refused.status_code == 302 and refused["Location"].startswith("/changes/?")
    assert not AuditEntry.objects.filter(action="export").exists()
