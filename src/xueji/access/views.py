"""The user's own page: the role, the area, and what the permission matrix lets the role do."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from xueji.access.decorators import requires
from xueji.access.policy import Action, Limit, grant
from xueji.access.scope import may, scope_of


@require_GET
@login_required
@requires(Action.HOME)
def my_role(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    rows = []
    for action in Action:
        if action == Action.HOME or not may(scope, action):
            continue
        found = grant(scope.role if scope else None, action)
        limit = Limit(found.limit) if found else Limit.AREA
        rows.append({"action": action, "limit": limit, "limited": limit != Limit.AREA})
    return render(request, "access/my_role.html", {"rows": rows})
