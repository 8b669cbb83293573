"""A county's school accounts from an Excel sheet: all or nothing, every error named with its
row, initial passwords generated and returned once, a hostile file refused before calamine."""

from __future__ import annotations

import io
import zipfile

import pytest
import xlsxwriter
from django.contrib.auth import authenticate, get_user_model
from django.utils import translation
from python_calamine import CalamineWorkbook

from xueji.access.models import Membership, Role
from xueji.access.scope import PermissionRefused
from xueji.accounts.administration import bulk
from xueji.accounts.administration.models import AccountProfile
from xueji.accounts.administration.sheet import SheetRefused
from xueji.audit.models import AuditEntry
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db

HEADER = ["学校标识码", "姓名", "登录名", "角色", "手机"]


def workbook(rows, header=HEADER) -> bytes:
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = book.add_worksheet()
    for number, values in enumerate([header, *rows]):
        for column, value in enumerate(values):
            if isinstance(value, int | float):
                sheet.write_number(number, column, value)
            else:
                sheet.write_string(number, column, value)
    book.close()
    return output.getvalue()


def check(actor, content):
    with translation.override("en"):
        return bulk.accounts_sheet_check(actor=actor, stream=io.BytesIO(content))


def test_a_valid_sheet_creates_every_account_with_a_password_to_change(area, county_approver):
    other = member(Role.REGISTRAR, school=area.school).membership.school
    rows = [
        [area.school.code, "王芳", "wangfang", "学籍管理员", "13800138000"],
        # A code typed as a number, the role's English label and its code, no phone.
        [int(area.school.code), "李雷", "lilei", "Principal", ""],
        [other.code, "韩梅梅", "hanmeimei", "class_teacher", 13900139000],
    ]
    checked = check(county_approver, workbook(rows))
    assert checked.valid, checked.errors
    assert [row.role for row in checked.rows] == [Role.REGISTRAR, Role.PRINCIPAL,
                                                   Role.CLASS_TEACHER]  # fmt: skip
    created = bulk.accounts_bulk_create(actor=county_approver, rows=checked.rows)
    assert len(created) == 3
    for item in created:
        assert authenticate(username=item.row.login_name, password=item.created.password)
        assert AccountProfile.objects.get(user=item.created.user).must_change_password
    assert Membership.objects.get(user__username="hanmeimei").school == other
    entry = AuditEntry.objects.get(action="account.bulk_create")
    assert entry.detail["count"] == 3
    assert [a["user"] for a in entry.detail["accounts"]] == ["wangfang", "lilei", "hanmeimei"]
    assert not any(item.created.password in str(entry.detail) for item in created)
    # The result to hand over: each account with its password, as text.
    result = bulk.result_workbook(created)
    with CalamineWorkbook.from_filelike(io.BytesIO(result)) as book:
        table = book.get_sheet_by_index(0).to_python()
    assert table[0][3:6] == ["登录名", "角色", "初始密码"]
    assert table[1][3:6] == ["wangfang", "学籍管理员", created[0].created.password]


def test_every_error_is_named_with_its_row_and_nothing_is_written(area, county_approver):
    member(Role.REGISTRAR, school=area.school, username="taken")
    rows = [
        [area.school.code, "王芳", "wangfang", "学籍管理员", ""],  # right
        ["123", "", "Taken", "校长", "12345"],  # four problems
        [area.nanshan_school.code, "李雷", "WangFang", "教育局工作人员（审核）", ""],
        [area.school.code, "韩梅梅", "x", "", ""],
    ]
    checked = check(county_approver, workbook(rows))
    assert not checked.valid and checked.rows == []
    found = {(error.row, error.column) for error in checked.errors}
    assert found == {
        (3, "学校标识码"),
        (3, "姓名"),
        (3, "登录名"),
        (3, "手机"),
        (4, "学校标识码"),  # another county's school
        (4, "登录名"),  # the same name as row 2, in other letters
        (4, "角色"),  # not a school role
        (5, "登录名"),
        (5, "角色"),
    }
    by_place = {(error.row, error.column): error.message for error in checked.errors}
    assert "row 2" in by_place[(4, "登录名")]
    assert "taken" in by_place[(3, "登录名")]
    assert not get_user_model().objects.filter(username__in=["wangfang", "x"]).exists()


def test_unknown_and_missing_columns_are_named(area, county_approver):
    checked = check(county_approver, workbook([["1", "2", "3"]], header=["学校", "姓名", "身份"]))
    assert not checked.valid
    messages = " ".join(error.message for error in checked.errors)
    assert "学校标识码" in messages and "登录名" in messages and "角色" in messages
    assert "学校" in messages and "身份" in messages


def test_the_rows_are_checked_again_when_the_accounts_are_created(area, county_approver):
    checked = check(county_approver, workbook([[area.school.code, "王芳", "wangfang", "校长", ""]]))
    member(Role.REGISTRAR, school=area.school, username="wangfang")  # taken meanwhile
    with pytest.raises(SheetRefused) as caught:
        bulk.accounts_bulk_create(actor=county_approver, rows=checked.rows)
    assert caught.value.details["errors"][0].column == "登录名"
    assert get_user_model().objects.filter(username="wangfang").count() == 1


def test_only_account_managers_upload_and_only_school_roles_of_their_area(area, registrar):
    with pytest.raises(PermissionRefused):
        check(registrar, workbook([[area.school.code, "王芳", "wangfang", "校长", ""]]))
    city = area.manager(Role.BUREAU_APPROVER, "city")
    checked = check(city, workbook([[area.tianhe_school.code, "王芳", "wangfang", "校长", ""]]))
    assert [(error.row, error.column) for error in checked.errors] == [(2, "学校标识码")]


def _zip(members: dict[str, bytes]) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return output.getvalue()


def _with_sheet_xml(sheet_xml: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(workbook([["4403040001", "a", "abc", "校长", ""]])))
    members = {name: source.read(name) for name in source.namelist()}
    members["xl/worksheets/sheet1.xml"] = sheet_xml
    return _zip(members)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "file_empty"),
        (b"%PDF-1.4 not a sheet", "not_xlsx"),
        (b"\xd0\xcf\x11\xe0 an old .xls", "not_xlsx"),
        (b"PK\x03\x04" + b"\0" * 2**21 + b"x", "file_too_large"),
        (_zip({"[Content_Types].xml": b"<Types/>", "a.xml": b"\0" * (8 * 2**20)}), "file_bomb"),
        (
            _with_sheet_xml(
                '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'.encode("utf-16")
            ),
            "xml_entities",
        ),
        (
            _with_sheet_xml(
                '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'.encode("utf-32")
            ),
            "xml_entities",
        ),
        (
            _with_sheet_xml(
                b'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is>'
                b'</c><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'
            ),
            "sheet_too_large",
        ),
    ],
    ids=["empty", "pdf", "xls", "too-large", "bomb", "utf16-doctype", "utf32-doctype", "far-cell"],
)
def test_a_hostile_or_wrong_file_is_refused_before_it_is_read(area, county_approver, content,
                                                              code):  # fmt: skip
    with pytest.raises(SheetRefused) as caught:
        check(county_approver, content)
    assert caught.value.code == code


def test_the_template_has_the_columns(area):
    with CalamineWorkbook.from_filelike(io.BytesIO(bulk.template_workbook())) as book:
        assert book.get_sheet_by_index(0).to_python()[0] == HEADER
