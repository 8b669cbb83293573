"""The audit trail's view of each request: the client's address for entries written during it, and
an entry for every refusal (a failed permission check), written once the response is ready.

A refusal is known in one of three ways: the code that refused called note_refusal (every
xueji.core.errors NotFound or 403 ServiceError does, when it is created); the view raised
PermissionDenied or Http404; or a view that resolved answered 403 or 404. Out of scope and
nonexistent look the same to the caller (404) but both are written down for the auditors.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from xueji.audit import context
from xueji.audit.context import Refusal, note_refusal
from xueji.audit.services import audit_denied

REFUSED_STATUSES = (403, 404)


def client_address(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or, behind XUEJI_TRUSTED_PROXIES reverse proxies, the address the outermost
    trusted proxy received the request from (the right-hand entries of X-Forwarded-For are the
    proxies' own; anything further left was written by the client and is not trusted)."""
    proxies = int(getattr(settings, "XUEJI_TRUSTED_PROXIES", 0))
    remote = request.META.get("REMOTE_ADDR")
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]


def _object_of(request: HttpRequest) -> tuple[str, uuid.UUID | None]:
    """The object a refused URL named, when it names one by UUID (students are named so)."""
    match = getattr(request, "resolver_match", None)
    for name, value in match.kwargs.items() if match else []:
        try:
            found = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        except ValueError:
            continue
        return (name.removesuffix("_id"), found)
    return ("", None)


class AuditMiddleware:
    """Install after AuthenticationMiddleware (it needs request.user)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = context.begin(client_address(request))
        try:
            response = self.get_response(request)
            self._record_refusals(request, response)
            return response
        finally:
            context.end(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, PermissionDenied):
            note_refusal("permission_denied", exception, status=403)
        elif isinstance(exception, Http404):
            note_refusal("not_found", status=404)

    def _record_refusals(self, request: HttpRequest, response: HttpResponse) -> None:
        current = context.current()
        refusals: list[Refusal] = list(current.refusals) if current else []
        resolved = getattr(request, "resolver_match", None) is not None
        if not refusals and resolved and response.status_code in REFUSED_STATUSES:
            refusals.append(Refusal(code=f"http_{response.status_code}"))
        if not refusals:
            return
        first = refusals[0]
        object_type, object_id = _object_of(request)
        match: Any = getattr(request, "resolver_match", None)
        detail: dict[str, Any] = {
            "status": response.status_code,
            "method": request.method,
            "path": request.path,
            "view": match.view_name if match else "",
        }
        if len(refusals) > 1:
            detail["also"] = [refusal.code for refusal in refusals[1:]]
        audit_denied(
            actor=getattr(request, "user", None),
            code=first.code,
            reason=first.reason,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
        )
