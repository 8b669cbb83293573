"""API of an account's second factor, for the security administrator (as its page,
/accounts/<id>/second-factor/): the state of an account's authenticator, an enrolment code issued
(shown once, in the answer that issues it), a lost authenticator reset. Never one's own account;
an administrator's or an auditor's only by the nation's security administrator. Each step and each
refusal is audited by the services."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.accounts.second_factor.selectors import SecondFactorStatus, second_factor_status
from xueji.accounts.second_factor.services import second_factor_code_issue, second_factor_reset
from xueji.core.api import COMMON_ERRORS, DatabaseId, ErrorOut, caller

router = Router(tags=["accounts"])

RESPONSES: dict[int, Any] = {404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}


class SecondFactorOut(Schema):
    login_name: str
    required: bool = Field(description="Does the account's role need a second factor?")
    enrolled_at: datetime.datetime | None = Field(description="None: no authenticator")
    recovery_codes_left: int
    code_pending_until: datetime.datetime | None = Field(
        description="An enrolment code not used yet expires then"
    )


class IssuedCodeOut(Schema):
    login_name: str
    code: str = Field(description="The enrolment code: shown once, here, and stored as a digest")
    expires_at: datetime.datetime


class ResetOut(Schema):
    login_name: str
    authenticators: int
    recovery_codes: int
    revoked_codes: int


def _status(status: SecondFactorStatus) -> dict[str, Any]:
    pending = status.pending_code
    return {
        "login_name": status.user.get_username(),
        "required": status.required,
        "enrolled_at": status.enrolled_at,
        "recovery_codes_left": status.recovery_codes_left,
        "code_pending_until": None if pending is None else pending.expires_at,
    }


@router.get(
    "/{user_id}/second-factor",
    response={200: SecondFactorOut, **RESPONSES},
    summary="An account's second factor",
)
@endpoint_requires(Action.ACCOUNT_SECOND_FACTOR_MANAGE)
def second_factor_get(request: HttpRequest, user_id: DatabaseId) -> dict[str, Any]:
    """Whether the account has an authenticator, its recovery codes left, a code pending. 404
    `account_not_found` for an account you do not manage (your own among them)."""
    return _status(second_factor_status(caller(request), user_id))


@router.post(
    "/{user_id}/second-factor/code",
    response={201: IssuedCodeOut, **RESPONSES},
    summary="Issue an enrolment code for the second factor",
)
@endpoint_requires(Action.ACCOUNT_SECOND_FACTOR_MANAGE)
def second_factor_code(request: HttpRequest, user_id: DatabaseId) -> Status[dict[str, Any]]:
    """A single-use code with which the user sets up an authenticator (a pending one is
    revoked). 409 `second_factor_exists` while the account has one: reset it first."""
    status = second_factor_status(caller(request), user_id)
    issued = second_factor_code_issue(actor=caller(request), user=status.user)
    return Status(
        201,
        {
            "login_name": issued.user.get_username(),
            "code": issued.code,
            "expires_at": issued.expires_at,
        },
    )


@router.post(
    "/{user_id}/second-factor/reset",
    response={200: ResetOut, **RESPONSES},
    summary="Reset a lost authenticator",
)
@endpoint_requires(Action.ACCOUNT_SECOND_FACTOR_MANAGE)
def second_factor_reset_lost(request: HttpRequest, user_id: DatabaseId) -> dict[str, Any]:
    """Remove the account's authenticator and recovery codes and revoke a pending code; the
    user sets up another only with a new enrolment code. 409 `second_factor_missing` when
    there is nothing to reset."""
    status = second_factor_status(caller(request), user_id)
    reset = second_factor_reset(actor=caller(request), user=status.user)
    return {
        "login_name": reset.user.get_username(),
        "authenticators": reset.authenticators,
        "recovery_codes": reset.recovery_codes,
        "revoked_codes": reset.revoked_codes,
    }
