"""API of the account administration (/api/accounts): the accounts a manager manages, one
account, and each action the pages offer. A password the system chooses is in the answer that
creates or resets it, and nowhere else."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.models import Role, ScopeLevel
from xueji.access.policy import Action
from xueji.accounts.administration import bulk
from xueji.accounts.administration.selectors import (
    AccountFilter,
    AccountState,
    account_detail,
    account_list,
)
from xueji.accounts.administration.services import (
    AccountData,
    account_create,
    account_edit,
    account_password_reset,
    account_remove,
    account_seal,
    account_unseal,
    open_items_hand_over,
)
from xueji.accounts.administration.sheet import SheetRefused
from xueji.core.api import (
    COMMON_ERRORS,
    DatabaseId,
    ErrorOut,
    NonEmptyUploadedFile,
    Offset,
    TextBoolean,
    caller,
)
from xueji.core.names import person_name

router = Router(tags=["accounts"])


RESPONSES: dict[int, Any] = {404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}
LIMIT_MAX = 200

StateName = Literal["active", "sealed", "removed"]


class AccountParams(Schema):
    q: str = Field("", max_length=50, description="A part of the name or of the login name.")
    role: Role | None = None
    level: ScopeLevel | None = None
    state: StateName | None = None
    place: str = Field(
        "",
        pattern=r"^([0-9]{6}|[0-9]{10})?$",
        description="A school's 10-digit code, or a division's 6-digit code (and its area).",
    )
    limit: int = Field(50, ge=1, le=LIMIT_MAX)
    offset: Offset = 0


class AccountOut(Schema):
    id: int
    login_name: str
    name: str
    role: str | None
    level: str | None
    place: str = Field(description="The school's or the division's code; empty for the nation.")
    state: StateName
    last_login: datetime.datetime | None


class OpenItemsOut(Schema):
    kind: str
    ids: list[str]


class AccountDetailOut(AccountOut):
    phone: str
    must_change_password: bool
    seal_reason: str | None
    open_items: list[OpenItemsOut]


class AccountIn(Schema):
    name: str = Field(min_length=1, max_length=30)
    role: Role
    phone: str = Field("", max_length=11)
    school_code: str = Field("", max_length=10, description="For school staff.")
    division_code: str = Field(
        "", max_length=6, description="For bureau staff: the division; empty for the nation."
    )


class AccountCreateIn(AccountIn):
    login_name: str = Field(min_length=1, max_length=32)


class PasswordOut(Schema):
    account: AccountOut
    password: str = Field(description="Shown once; the user must change it at the first login.")


class SealIn(Schema):
    note: str = Field("", max_length=200)


class RemoveIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class HandOverIn(Schema):
    successor_id: DatabaseId


class HandOverOut(Schema):
    predecessor: str
    successor: str
    passed: dict[str, list[str]]


class SheetErrorOut(Schema):
    row: int
    column: str
    value: str
    message: str


class SheetAccountOut(Schema):
    row: int
    login_name: str
    school_code: str
    role: str
    password: str | None = Field(
        None, description="Only when created; shown once, changed at the first login."
    )


class SheetOut(Schema):
    created: bool
    accounts: list[SheetAccountOut]
    errors: list[SheetErrorOut]


def _account_out(user: Any, state: str | None = None) -> dict[str, Any]:
    membership = getattr(user, "membership", None)
    place = ""
    if membership is not None:
        place = (
            membership.school.code
            if membership.school is not None
            else (membership.division_id or "")
        )
    return {
        "id": user.pk,
        "login_name": user.get_username(),
        "name": person_name(user, ""),
        "role": membership.role if membership else None,
        "level": membership.scope_level if membership else None,
        "place": place,
        "state": state or getattr(user, "state", AccountState.ACTIVE),
        "last_login": user.last_login,
    }


def _detail_out(request: HttpRequest, user_id: int) -> dict[str, Any]:
    view = account_detail(caller(request), user_id)
    return {
        **_account_out(view.user, view.state),
        "phone": view.profile.phone if view.profile else "",
        "must_change_password": bool(view.profile and view.profile.must_change_password),
        "seal_reason": view.seal.reason if view.seal else None,
        "open_items": [{"kind": items.kind.key, "ids": items.ids} for items in view.open_items],
    }


def _data(body: AccountIn) -> AccountData:
    return AccountData(
        name=body.name,
        role=body.role,
        phone=body.phone,
        school_code=body.school_code,
        division_code=body.division_code,
    )


@router.get("/", response={200: list[AccountOut], **RESPONSES}, summary="Accounts you manage")
@endpoint_requires(Action.ACCOUNT_MANAGE)
def list_accounts(request: HttpRequest, params: Query[AccountParams]) -> list[dict[str, Any]]:
    """Newest first, filtered by name, role, level, state and place; pages by limit/offset."""
    users = account_list(
        caller(request),
        AccountFilter(
            q=params.q.strip(),
            role=params.role or "",
            level=params.level or "",
            state=params.state or "",
            place=params.place,
        ),
    )
    return [_account_out(user) for user in users[params.offset : params.offset + params.limit]]


@router.post("/", response={201: PasswordOut, **RESPONSES}, summary="Create an account")
@endpoint_requires(Action.ACCOUNT_MANAGE)
def create_account(request: HttpRequest, body: AccountCreateIn) -> Status[dict[str, Any]]:
    created = account_create(actor=caller(request), login_name=body.login_name, data=_data(body))
    return Status(201, {"account": _account_out(created.user), "password": created.password})


@router.post(
    "/sheet",
    response={200: SheetOut, **RESPONSES},
    summary="School accounts from an Excel sheet: checked, and created when `create` is true",
)
@endpoint_requires(Action.ACCOUNT_MANAGE)
def accounts_from_sheet(
    request: HttpRequest, file: File[NonEmptyUploadedFile], create: Form[TextBoolean] = False
) -> dict[str, Any]:
    """Columns 学校标识码, 姓名, 登录名, 角色, 手机. All or nothing: with errors (each with its
    row) nothing is created; with `create` and no error every account is, and the answer holds
    the initial passwords, once."""
    try:
        checked = bulk.accounts_sheet_check(actor=caller(request), stream=file)
    except SheetRefused as refused:
        return {
            "created": False,
            "accounts": [],
            "errors": [{"row": 0, "column": "", "value": "", "message": str(refused.message)}],
        }
    errors = [vars(error) for error in checked.errors]
    rows = [
        {"row": r.row, "login_name": r.login_name, "school_code": r.school_code, "role": r.role}
        for r in checked.rows
    ]
    if not create or not checked.valid:
        return {"created": False, "accounts": rows, "errors": errors}
    created = bulk.accounts_bulk_create(actor=caller(request), rows=checked.rows)
    return {
        "created": True,
        "accounts": [
            {
                "row": item.row.row,
                "login_name": item.row.login_name,
                "school_code": item.school.code,
                "role": item.row.role,
                "password": item.created.password,
            }
            for item in created
        ],
        "errors": [],
    }


@router.get("/{user_id}", response={200: AccountDetailOut, **RESPONSES}, summary="One account")
@endpoint_requires(Action.ACCOUNT_MANAGE)
def get_account(request: HttpRequest, user_id: DatabaseId) -> dict[str, Any]:
    return _detail_out(request, user_id)


@router.post("/{user_id}", response={200: AccountDetailOut, **RESPONSES}, summary="Edit an account")
@endpoint_requires(Action.ACCOUNT_MANAGE)
def edit_account(request: HttpRequest, user_id: DatabaseId, body: AccountIn) -> dict[str, Any]:
    account_edit(actor=caller(request), user_id=user_id, data=_data(body))
    return _detail_out(request, user_id)


@router.post(
    "/{user_id}/seal", response={200: AccountDetailOut, **RESPONSES}, summary="Seal an account"
)
@endpoint_requires(Action.ACCOUNT_MANAGE)
def seal_account(request: HttpRequest, user_id: DatabaseId, body: SealIn) -> dict[str, Any]:
    account_seal(actor=caller(request), user_id=user_id, note=body.note)
    return _detail_out(request, user_id)


@router.post(
    "/{user_id}/reopen",
    response={200: AccountDetailOut, **RESPONSES},
    summary="Reopen a sealed account",
)
@endpoint_requires(Action.ACCOUNT_MANAGE)
def reopen_account(request: HttpRequest, user_id: DatabaseId) -> dict[str, Any]:
    account_unseal(actor=caller(request), user_id=user_id)
    return _detail_out(request, user_id)


@router.post(
    "/{user_id}/remove",
    response={200: AccountDetailOut, **RESPONSES},
    summary="Remove an account for ever (its login name is never used again)",
)
@endpoint_requires(Action.ACCOUNT_MANAGE)
def remove_account(request: HttpRequest, user_id: DatabaseId, body: RemoveIn) -> dict[str, Any]:
    account_remove(actor=caller(request), user_id=user_id, reason=body.reason)
    return _detail_out(request, user_id)


@router.post(
    "/{user_id}/password",
    response={200: PasswordOut, **RESPONSES},
    summary="Reset a password (shown once; the user must change it at the next login)",
)
@endpoint_requires(Action.ACCOUNT_MANAGE)
def reset_password(request: HttpRequest, user_id: DatabaseId) -> dict[str, Any]:
    reset = account_password_reset(actor=caller(request), user_id=user_id)
    return {"account": _account_out(reset.user), "password": reset.password}


@router.post(
    "/{user_id}/hand-over",
    response={200: HandOverOut, **RESPONSES},
    summary="Hand a registrar's open items over to the successor",
)
@endpoint_requires(Action.ACCOUNT_MANAGE)
def hand_over(request: HttpRequest, user_id: DatabaseId, body: HandOverIn) -> dict[str, Any]:
    handed = open_items_hand_over(
        actor=caller(request), from_user_id=user_id, to_user_id=body.successor_id
    )
    return {
        "predecessor": handed.predecessor.get_username(),
        "successor": handed.successor.get_username(),
        "passed": handed.passed,
    }
