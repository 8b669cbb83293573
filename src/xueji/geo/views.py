"""The division picker's htmx endpoint: re-renders the three selects after a change."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_GET

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.geo.forms import DivisionPicker

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,60}$")


@require_GET
@login_required
@requires(Action.DIVISION_VIEW)
def division_picker(request: HttpRequest) -> HttpResponse:
    field = request.GET.get("field", "")
    element_id = request.GET.get("id", "") or f"id_{field}"
    if not _NAME.match(field) or not re.match(r"^[A-Za-z][A-Za-z0-9_-]{0,80}$", element_id):
        return HttpResponseBadRequest()
    picker = DivisionPicker()
    picker.user = request.user
    value = picker.value_from_datadict(request.GET, {}, field)
    return HttpResponse(picker.render(field, value, attrs={"id": element_id}, renderer=None))
