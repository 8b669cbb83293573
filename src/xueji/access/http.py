"""Turning a service's refusal, or a form's, into the page's answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from xueji.core.errors import FieldErrors, ServiceError


def refusal_response(request: HttpRequest, error: ServiceError) -> HttpResponse | None:
    """404 for what lies outside the scope, 403 for what the role may not do; None for any
    other refusal (the page shows it as a message)."""
    if error.status == 404:
        return render(request, "404.html", status=404)
    if error.status == 403:
        raise PermissionDenied(str(error.message))
    return None


def first_reason(error: ServiceError) -> str:
    """The refusal's message; for field errors, the first field's first reason."""
    if isinstance(error, FieldErrors):
        return str(next(iter(error.errors.values()))[0].messages[0])
    return str(error.message)


def refusal_as_message(request: HttpRequest, error: ServiceError) -> HttpResponse | None:
    """404/403 as refusal_response does; any other refusal becomes an error message and None
    is returned, for the view to answer as it would have (usually a redirect)."""
    response = refusal_response(request, error)
    if response is None:
        messages.error(request, first_reason(error))
    return response


def refusal_on_form(request: HttpRequest, form: Any, error: ServiceError) -> HttpResponse | None:
    """404/403 as refusal_response does; any other refusal goes on the form (each field error
    on its field, or on the form as a whole when the form has no such field) and None is
    returned, for the view to show the form again."""
    if isinstance(error, FieldErrors):
        for name, errors in error.errors.items():
            for each in errors:
                form.add_error(name if name in form.fields else None, each)
        return None
    response = refusal_response(request, error)
    if response is None:
        form.add_error(None, str(error.message))
    return response


def form_submitted(
    request: HttpRequest, form: Any, save: Callable[[], HttpResponse]
) -> HttpResponse | None:
    """A bound and valid form is saved: `save` calls the service and answers (a redirect).

    None when the form is unbound or invalid, or the service refused (the reasons are on the
    form): the view then shows the form again. A 404/403 refusal answers as refusal_response.
    """
    if not form.is_valid():
        return None
    try:
        return save()
    except ServiceError as error:
        return refusal_on_form(request, form, error)


def evidence_download(
    request: HttpRequest, open_file: Callable[[], tuple[Any, bytes]]
) -> HttpResponse:
    """An evidence file opened by a service, as a download the browser never renders inline;
    a refusal answers as refusal_response does."""
    try:
        found, content = open_file()
    except ServiceError as refused:
        response = refusal_response(request, refused)
        if response is not None:
            return response
        raise
    response = HttpResponse(content, content_type=found.content_type)
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(found.file_name, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def form_refused(form: forms.Form) -> HttpResponse:
    """A download's refused parameters: 400, the form's errors as plain text, each after the
    label of its field (a file cannot carry them, and no file is better than a wrong one)."""
    lines: list[str] = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        lines.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")
