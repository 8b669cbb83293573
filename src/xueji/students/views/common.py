"""What the registry's pages share: the 404 page, the registrar's own school, the pager."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from xueji.access.policy import Action
from xueji.access.scope import may, scope_of


def not_found(request: HttpRequest) -> HttpResponse:
    """The 404 page, also when DEBUG is on: outside the scope, a record simply does not exist."""
    return render(request, "404.html", status=404)


def registrar_school_id(request: HttpRequest) -> int:
    """The school of the registrar making the request (403 for anyone else)."""
    scope = scope_of(request.user)
    if scope is None or not may(scope, Action.STUDENT_REGISTER) or scope.school_id is None:
        raise PermissionDenied(_("Only the school's registrar registers new students."))
    return scope.school_id


def page_context(page: Page[Any] | None) -> dict[str, Any]:
    """What the pager (students/_pager.html) shows of a page: its numbers around the current
    one, the first and the last, with an ellipsis between."""
    if page is None:
        return {"page": None}
    return {
        "page": page,
        "page_range": list(
            page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
        ),
        "ellipsis": page.paginator.ELLIPSIS,
    }
