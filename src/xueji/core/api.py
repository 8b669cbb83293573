"""What every API endpoint shares: the error body and the handlers that produce it.

Every refusal is JSON with a stable machine `code` and a human `message` in the request's
language (Accept-Language; Chinese by default). Field problems are listed under `fields`, each
field with its own codes: {"code": "invalid_fields", "message": "...",
"fields": {"id_number": [{"code": "id_check_character", "message": "..."}]}}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError

from xueji.core.errors import FieldErrors, ServiceError


class FieldErrorOut(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[FieldErrorOut]] | None = None
    details: dict[str, Any] | None = None


# The responses every authenticated endpoint may give besides its own, for the OpenAPI document.
COMMON_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


def caller(request: HttpRequest) -> Any:
    """The user the request acts as (the token's owner or the session's user)."""
    return getattr(request, "auth", None)


def error_body(
    code: str,
    message: Any,
    *,
    fields: dict[str, list[dict[str, str]]] | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    if details:
        body["details"] = details
    return body


def _respond(
    api: NinjaAPI, request: HttpRequest, status: int, body: dict[str, Any]
) -> HttpResponse:
    response = api.create_response(request, body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="xueji"'
    return response


def _service_error(api: NinjaAPI, request: HttpRequest, exc: ServiceError) -> HttpResponse:
    if isinstance(exc, FieldErrors):
        body = error_body(
            "invalid_fields",
            _("Some fields are not valid; each is listed with the reason."),
            fields=exc.as_json(),
        )
        return _respond(api, request, exc.status, body)
    details = {key: value for key, value in exc.details.items() if key != "field"}
    field = exc.details.get("field")
    fields = {field: [{"code": exc.code, "message": str(exc.message)}]} if field else None
    body = error_body(exc.code, exc.message, fields=fields, details=details)
    return _respond(api, request, exc.status, body)


# pydantic's error types, told in words the request's language has.
def _request_field_message(error_type: str) -> str:
    if error_type == "missing":
        return _("This field is required.")
    if error_type in ("string_too_long", "too_long"):
        return _("This value is too long.")
    if error_type in ("string_too_short", "too_short"):
        return _("This value is too short.")
    if error_type.startswith("date") or error_type.startswith("datetime"):
        return _("Enter a date as YYYY-MM-DD.")
    if error_type.startswith(("int", "float", "decimal")):
        return _("Enter a number.")
    if error_type.startswith("bool"):
        return _("Enter true or false.")
    if error_type.startswith("uuid"):
        return _("This is not a valid identifier.")
    return _("This value is not valid.")


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    source = parts.pop(0) if parts else ""
    if source == "body" and parts:
        parts.pop(0)  # the name of the endpoint's body parameter, not a field of the body
    return ".".join(str(part) for part in parts) or "__all__"


def _request_validation_error(
    api: NinjaAPI, request: HttpRequest, exc: RequestValidationError
) -> HttpResponse:
    fields: dict[str, list[dict[str, str]]] = {}
    for error in exc.errors:
        error_type = str(error.get("type", "invalid"))
        fields.setdefault(_field_name(error.get("loc", ())), []).append(
            {"code": error_type, "message": _request_field_message(error_type)}
        )
    body = error_body(
        "invalid_request",
        _("The request is not well formed; each field is listed with the reason."),
        fields=fields,
    )
    return _respond(api, request, 422, body)


def _authentication_error(
    api: NinjaAPI, request: HttpRequest, exc: AuthenticationError
) -> HttpResponse:
    body = error_body(
        "not_authenticated",
        _("Sign in, or send an API token as “Authorization: Bearer <token>”."),
    )
    return _respond(api, request, 401, body)


def _not_found(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    return _respond(api, request, 404, error_body("not_found", _("Nothing is found here.")))


def _http_error(api: NinjaAPI, request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        body = error_body("bad_request", _("The request body is not valid JSON."))
    else:
        body = error_body(f"http_{exc.status_code}", exc.message)
    return _respond(api, request, exc.status_code, body)


def _register(
    api: NinjaAPI,
    exc_class: type[Exception],
    handler: Callable[[NinjaAPI, HttpRequest, Any], HttpResponse],
) -> None:
    def handle(request: HttpRequest, exc: Any) -> HttpResponse:
        return handler(api, request, exc)

    api.add_exception_handler(exc_class, handle)


def install_error_handlers(api: NinjaAPI) -> None:
    """Make every refusal of `api` a JSON error with a code and a translated message."""
    _register(api, ServiceError, _service_error)
    _register(api, RequestValidationError, _request_validation_error)
    _register(api, AuthenticationError, _authentication_error)
    _register(api, HttpError, _http_error)
    _register(api, Http404, _not_found)
