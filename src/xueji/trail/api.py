"""API of the audit trail: the auditors' search, as on the page."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from xueji.access.decorators import endpoint_requires
from xueji.access.policy import Action
from xueji.core.api import (
    COMMON_ERRORS,
    DATABASE_ID_MAX,
    ErrorOut,
    IsoDate,
    caller,
    error_body,
)
from xueji.core.idnumbers import query_holds_id_like_number
from xueji.trail.selectors import MAX_PAGE_SIZE, PAGE_SIZE, AuditFilters, audit_search

router = Router(tags=["audit"])


class AuditParams(Schema):
    student: str = Field("", description="A student's id, or a current or former student number.")
    user: str = Field("", description="The acting user's name, exactly (case-insensitive).")
    action: str = Field("", description="An action, or its beginning (`student.`).")
    since: IsoDate | None = Field(None, description="From this day (inclusive).")
    until: IsoDate | None = Field(None, description="To this day (inclusive).")
    before: int | None = Field(
        None, ge=1, le=DATABASE_ID_MAX, description="Older page: the `older` of a page."
    )
    after: int | None = Field(
        None, ge=0, le=DATABASE_ID_MAX, description="Newer page: the `newer` of a page."
    )
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class AuditEntryOut(Schema):
    seq: int
    at: datetime.datetime
    actor: str = Field(description="The user name when acting; empty for the system.")
    actor_role: str
    ip_address: str | None
    action: str
    object_type: str
    object_id: uuid.UUID | None
    detail: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: uuid.UUID
    hash: str

    @staticmethod
    def resolve_actor(obj: Any) -> str:
        return str(obj.actor_username)


class AuditPageOut(Schema):
    entries: list[AuditEntryOut]
    older: int | None = Field(description="Pass as `before` for older entries; null at the end.")
    newer: int | None = Field(description="Pass as `after` for newer entries; null at the top.")
    student_id: uuid.UUID | None
    student_not_found: bool


def _search(request: HttpRequest, params: AuditParams) -> object:
    filters = AuditFilters(
        student=params.student,
        user=params.user,
        action=params.action,
        since=params.since,
        until=params.until,
        before=params.before,
        after=params.after,
    )
    return audit_search(caller(request), filters, limit=params.limit)


# The operation keeps the id it had in the OpenAPI document before browsing moved out of
# xueji.audit, so that clients generated from the document keep working.
@router.get(
    "/entries",
    response={200: AuditPageOut, 403: ErrorOut, **COMMON_ERRORS},
    operation_id="xueji_audit_api_search_entries",
)
@endpoint_requires(Action.AUDIT_VIEW)
def search_entries(request: HttpRequest, params: Query[AuditParams]) -> object:
    """Search the audit trail of your area, newest first (auditors only; others get 403
    `forbidden`). Filters combine; pages follow `older` / `newer`. A student is given here by
    the record's id: a query string holding a student or ID number is refused (400
    `number_in_query`), since addresses are kept in access logs; search by number with
    `POST /api/audit/entries/search`."""
    if query_holds_id_like_number(request.GET):
        return JsonResponse(
            error_body(
                "number_in_query",
                _(
                    "A student number or ID number cannot be sent in the address: addresses "
                    "are kept in access logs. Search with POST /api/audit/entries/search, the "
                    "criteria in the JSON body."
                ),
            ),
            status=400,
            json_dumps_params={"ensure_ascii": False},
        )
    return _search(request, params)


@router.post(
    "/entries/search",
    response={200: AuditPageOut, 403: ErrorOut, **COMMON_ERRORS},
)
@endpoint_requires(Action.AUDIT_VIEW)
def search_entries_by_body(request: HttpRequest, payload: AuditParams) -> object:
    """The search of `GET /api/audit/entries` with its criteria in the JSON body, so that a
    student number stays out of the address (auditors only)."""
    return _search(request, payload)
