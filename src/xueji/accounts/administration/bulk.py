"""Bulk creation of a county's school accounts from an Excel sheet.

Columns (in any order, on the first row): 学校标识码, 姓名, 登录名, 角色, 手机 (the phone may be
blank). Every row is checked as a single account would be (the school inside the manager's
area, a role the manager may give there, a free login name, a name, a mobile number), plus
duplicates inside the sheet; every error is named with its row and column, and nothing is
written unless every row passes (all or nothing). The initial passwords are generated, returned
once in the result that the manager hands over, and must be changed at the first login.

The file is checked and read by sheet.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

import xlsxwriter
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xueji.access.models import SCHOOL_ROLES, Role, ScopeLevel
from xueji.access.policy import Action, may_assign_role
from xueji.access.scope import Scope, require, school_in_area
from xueji.accounts.administration.passwords import initial_password
from xueji.accounts.administration.services import (
    LOGIN_NAME,
    MOBILE,
    NAME_MAX,
    AccountData,
    CreatedAccount,
    Placement,
    masked_phone,
    write_account,
)
from xueji.accounts.administration.sheet import MAX_ROWS, SheetRefused, read_sheet
from xueji.accounts.models import AccountSeal, SealReason
from xueji.audit.services import audit_record
from xueji.schools.models import School

SCHOOL = "学校标识码"
NAME = "姓名"
LOGIN = "登录名"
ROLE = "角色"
PHONE = "手机"
COLUMNS = (SCHOOL, NAME, LOGIN, ROLE, PHONE)
REQUIRED = (SCHOOL, NAME, LOGIN, ROLE)


@dataclass(frozen=True)
class RowError:
    row: int  # the sheet's row number (the header is row 1)
    column: str  # the header, or "" for the row as a whole
    value: str
    message: str


@dataclass(frozen=True)
class AccountRow:
    row: int
    school_code: str
    name: str
    login_name: str
    role: str
    phone: str


@dataclass(frozen=True)
class CheckedSheet:
    rows: list[AccountRow]
    errors: list[RowError]

    @property
    def valid(self) -> bool:
        return bool(self.rows) and not self.errors


def _role_names() -> dict[str, str]:
    """What a sheet may write in 角色 for each school role: its code, or its label in Chinese
    or in English (or "code-label", read by _role_key)."""
    names: dict[str, str] = {}
    for role in Role:
        if role.value not in SCHOOL_ROLES:
            continue
        names[role.value.lower()] = role.value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names[str(role.label).lower()] = role.value
    return names


def check_rows(scope: Scope, header: list[str], rows: list[tuple[int, list[str]]]) -> CheckedSheet:
    """Every row checked, every error named (row, column, value, reason)."""
    errors: list[RowError] = []
    missing = [column for column in REQUIRED if column not in header]
    unknown = [name for name in header if name and name not in COLUMNS]
    if missing or unknown:
        if missing:
            errors.append(
                RowError(
                    1,
                    "",
                    ", ".join(missing),
                    gettext("Columns missing from the first row: %(columns)s")
                    % {"columns": ", ".join(missing)},
                )
            )
        if unknown:
            errors.append(
                RowError(
                    1,
                    "",
                    ", ".join(unknown),
                    gettext("Columns the sheet does not know: %(columns)s (use %(known)s)")
                    % {"columns": ", ".join(unknown), "known": ", ".join(COLUMNS)},
                )
            )
        return CheckedSheet([], errors)
    if not rows:
        return CheckedSheet(
            [], [RowError(2, "", "", gettext("The sheet has no accounts: one per row."))]
        )
    if len(rows) > MAX_ROWS:
        return CheckedSheet(
            [],
            [
                RowError(
                    MAX_ROWS + 2,
                    "",
                    "",
                    gettext("At most %(count)d accounts per sheet.") % {"count": MAX_ROWS},
                )
            ],
        )
    index = {name: header.index(name) for name in COLUMNS if name in header}

    def cell(cells: list[str], column: str) -> str:
        position = index.get(column)
        return cells[position] if position is not None and position < len(cells) else ""

    found = [
        AccountRow(
            row=number,
            school_code=cell(cells, SCHOOL),
            name=cell(cells, NAME),
            login_name=cell(cells, LOGIN),
            role=cell(cells, ROLE),
            phone=cell(cells, PHONE),
        )
        for number, cells in rows
    ]
    schools = {
        school.code: school
        for school in School.objects.filter(code__in={row.school_code for row in found})
    }
    wanted_names = {row.login_name.lower() for row in found if row.login_name}
    taken = dict(
        get_user_model()
        .objects.annotate(lowered=Lower("username"))
        .filter(lowered__in=wanted_names)
        .values_list("lowered", "pk")
    )
    removed = set(
        AccountSeal.objects.filter(
            user_id__in=taken.values(), reopened_at__isnull=True, reason=SealReason.REMOVED
        ).values_list("user_id", flat=True)
    )
    roles = _role_names()
    seen: dict[str, int] = {}
    checked: list[AccountRow] = []
    for row in found:
        problems = _row_errors(scope, row, schools, taken, removed, roles, seen)
        errors.extend(problems)
        if not problems:
            checked.append(
                AccountRow(
                    row=row.row,
                    school_code=row.school_code,
                    name=row.name,
                    login_name=row.login_name,
                    role=roles[_role_key(row.role)],
                    phone=row.phone,
                )
            )
    return CheckedSheet(checked if not errors else [], errors)


def _role_key(value: str) -> str:
    # "registrar-学籍管理员" or "3-学籍管理员": the part a reader recognises.
    value = value.strip().lower()
    return value.split("-", 1)[1].strip() if "-" in value else value


def _row_errors(
    scope: Scope,
    row: AccountRow,
    schools: dict[str, School],
    taken: dict[str, int],
    removed: set[int],
    roles: dict[str, str],
    seen: dict[str, int],
) -> list[RowError]:
    problems: list[RowError] = []

    def refuse(column: str, value: str, message: str) -> None:
        problems.append(RowError(row.row, column, value, message))

    school = schools.get(row.school_code)
    if not row.school_code:
        refuse(SCHOOL, "", gettext("Required."))
    elif school is None or not school_in_area(scope, school):
        refuse(
            SCHOOL,
            row.school_code,
            gettext("No school with this code (学校标识码) in your area."),
        )
    if not row.name:
        refuse(NAME, "", gettext("Required."))
    elif len(row.name) > NAME_MAX:
        refuse(
            NAME, row.name, gettext("A name has at most %(max)d characters.") % {"max": NAME_MAX}
        )
    login = row.login_name
    if not login:
        refuse(LOGIN, "", gettext("Required."))
    elif not LOGIN_NAME.match(login):
        refuse(
            LOGIN,
            login,
            gettext("3 to 32 letters, digits, '.', '_' or '-', starting with a letter or a digit."),
        )
    elif login.lower() in seen:
        refuse(
            LOGIN,
            login,
            gettext("Also on row %(row)d: each login name once.") % {"row": seen[login.lower()]},
        )
    elif login.lower() in taken:
        refuse(
            LOGIN,
            login,
            gettext("This login name belonged to a removed account and is never used again.")
            if taken[login.lower()] in removed
            else gettext("This login name is taken."),
        )
    if login:
        seen.setdefault(login.lower(), row.row)
    role = roles.get(_role_key(row.role)) if row.role else None
    if not row.role:
        refuse(ROLE, "", gettext("Required."))
    elif role is None:
        refuse(
            ROLE,
            row.role,
            gettext("Not a school role: write 学籍管理员, 校长, 班主任 or 任课教师."),
        )
    elif not may_assign_role(scope.role, scope.level, role, ScopeLevel.SCHOOL):
        refuse(ROLE, row.role, gettext("You may not give this role."))
    if row.phone and not MOBILE.match(row.phone):
        refuse(PHONE, row.phone, gettext("A mobile number has 11 digits and starts with 13 to 19."))
    return problems


def accounts_sheet_check(*, actor: Any, stream: IO[bytes]) -> CheckedSheet:
    """Read and check the sheet; nothing is written."""
    scope = require(actor, Action.ACCOUNT_MANAGE)
    header, rows = read_sheet(stream)
    return check_rows(scope, header, rows)


# ---- writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedRow:
    row: AccountRow
    school: School
    created: CreatedAccount


def accounts_bulk_create(*, actor: Any, rows: Iterable[AccountRow]) -> list[CreatedRow]:
    """Create every account of a checked sheet, all or nothing, with one audit entry. The rows
    are checked again here (the sheet may have been checked a while ago)."""
    scope = require(actor, Action.ACCOUNT_MANAGE)
    wanted = list(rows)
    header = list(COLUMNS)
    again = check_rows(
        scope,
        header,
        [(row.row, [row.school_code, row.name, row.login_name, row.role, row.phone])
         for row in wanted],
    )  # fmt: skip
    if not again.valid:
        raise SheetRefused(
            "sheet_invalid",
            _("The sheet no longer passes its checks: check it again."),
            errors=again.errors,
        )
    schools = {
        school.code: school
        for school in School.objects.filter(code__in={row.school_code for row in again.rows})
    }
    created: list[CreatedRow] = []
    with transaction.atomic():
        for row in again.rows:
            school = schools[row.school_code]
            password = initial_password()
            user = write_account(
                actor=actor,
                login_name=row.login_name,
                data=AccountData(name=row.name, role=row.role, phone=row.phone),
                placement=Placement(row.role, ScopeLevel.SCHOOL, school, None),
                password=password,
            )
            created.append(CreatedRow(row, school, CreatedAccount(user, password)))
        audit_record(
            actor=actor,
            action="account.bulk_create",
            object_type="user",
            detail={
                "count": len(created),
                "accounts": [
                    {
                        "user": item.row.login_name,
                        "user_id": item.created.user.pk,
                        "role": item.row.role,
                        "place": item.school.code,
                        "phone": masked_phone(item.row.phone),
                    }
                    for item in created
                ],
            },
        )
    return created


# ---- the template and the result ---------------------------------------------------------------


def template_workbook() -> bytes:
    """The empty sheet to fill in: the five columns and an example row, with instructions."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = book.add_worksheet("账号")
    text = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True})
    for column, name in enumerate(COLUMNS):
        sheet.write_string(0, column, name, bold)
        sheet.set_column(column, column, 18, text)
    notes = book.add_worksheet("说明")
    for number, line in enumerate(
        (
            "每行一个账号。学校标识码：10 位；角色：学籍管理员、校长、班主任或任课教师；"
            "手机可留空。",
            "登录名：3 至 32 位字母、数字、点、下划线或连字符，以字母或数字开头，"
            "不可与已有账号重复。",
            "导入时逐行检查，任何一行有误则整表不导入。初始密码由系统生成，只显示一次，首次登录须修改。",
            "One account per row; the whole sheet is refused if any row is wrong. The initial "
            "passwords are generated, shown once, and must be changed at the first login.",
        )
    ):
        notes.write_string(number, 0, line)
    book.close()
    return output.getvalue()


def result_workbook(created: list[CreatedRow]) -> bytes:
    """What the manager hands over: each account with its initial password (shown once).
    Every value is written as text, never as a formula."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = book.add_worksheet("初始密码")
    bold = book.add_format({"bold": True})
    header = ("学校标识码", "学校", "姓名", "登录名", "角色", "初始密码")
    for column, name in enumerate(header):
        sheet.write_string(0, column, name, bold)
        sheet.set_column(column, column, 18)
    with translation.override("zh-hans"):
        for number, item in enumerate(created, start=1):
            values = (
                item.school.code,
                item.school.name,
                item.row.name,
                item.row.login_name,
                str(Role(item.row.role).label),
                item.created.password,
            )
            for column, value in enumerate(values):
                sheet.write_string(number, column, value)
    sheet.write_string(
        len(created) + 2, 0, "请将登录名和初始密码交给本人；首次登录须修改密码。本表只生成一次。"
    )
    book.close()
    return output.getvalue()
