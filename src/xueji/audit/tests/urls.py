"""The project's URLs plus views that refuse in each of the ways the audit middleware knows."""

import uuid

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from xueji.audit.services import audit_record
from xueji.core.errors import NotFound


def permission_denied(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    raise PermissionDenied("not your class")


def answers_404(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    return HttpResponseNotFound("nothing here")


def raises_404(request: HttpRequest) -> HttpResponse:
    raise Http404("no such thing")


def service_refusal_shown_as_form_error(request: HttpRequest) -> HttpResponse:
    try:
        with transaction.atomic():
            audit_record(actor=request.user, action="test.half_done")
            raise NotFound("class_not_found", "No such class at your school.")
    except NotFound as refused:
        return HttpResponse(str(refused.message))


def fine(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("t/denied/<uuid:student_id>/", permission_denied),
    path("t/missing/<uuid:student_id>/", answers_404),
    path("t/raise404/", raises_404),
    path("t/service/", service_refusal_shown_as_form_error),
    path("t/fine/", fine),
    *project_urlpatterns,
]
