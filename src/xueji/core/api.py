"""What every API endpoint shares: the error body and the handlers that produce it.

Every refusal is JSON with a stable machine `code` and a human `message` in the request's
language (Accept-Language; Chinese by default). Field problems are listed under `fields`, each
field with its own codes: {"code": "invalid_fields", "message": "...",
"fields": {"id_number": [{"code": "id_check_character", "message": "..."}]}}.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Annotated, Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError
from ninja.files import UploadedFile
from ninja.parser import Parser
from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

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


# ---- parameter types: what the OpenAPI document promises is exactly what is accepted ----------


# A row's id: a signed 64-bit key (SQLite's INTEGER, PostgreSQL's bigint); a larger number is
# refused as malformed (422) before it reaches a query, where SQLite would fail on it.
def _not_a_boolean(value: Any) -> Any:
    # pydantic reads true and false as 1 and 0; the document says integer.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "an integer")
    return value


# An integer, never true or false; after its bounds in Annotated (it then runs first, and the
# bounds stay the document's minimum and maximum).
NotBoolean = BeforeValidator(_not_a_boolean)

DATABASE_ID_MAX = 2**63 - 1
DatabaseId = Annotated[int, Field(ge=1, le=DATABASE_ID_MAX), NotBoolean]
# An offset into a list, bounded likewise.
Offset = Annotated[int, Field(ge=0, le=DATABASE_ID_MAX), NotBoolean]


def _true_or_false(value: Any) -> Any:
    # pydantic reads a form's yes, on, 1 (and no, off, 0) as booleans; the document says boolean.
    if isinstance(value, bool) or value in ("true", "false"):
        return value
    raise PydanticCustomError("bool_type", "true or false")


# A boolean read from a form or a query: true or false, as the document says.
TextBoolean = Annotated[bool, BeforeValidator(_true_or_false)]

# Years and dates of the registry: from 1900 to 2099 (a school year by the year it starts in).
YEAR_MIN = 1900
YEAR_MAX = 2099
Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX), NotBoolean]
ISO_DATE_PATTERN = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_ISO_DATE = re.compile(ISO_DATE_PATTERN)


def _iso_date(value: Any) -> Any:
    # pydantic also reads a number as a Unix time (date=0 is 1970-01-01) and any year from 1 to
    # 9999: a date travels as YYYY-MM-DD of 1900-2099, as the document says, and nothing else.
    if isinstance(value, datetime.date) and YEAR_MIN <= value.year <= YEAR_MAX:
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_format", "a date as YYYY-MM-DD from 1900 to 2099")


IsoDate = Annotated[
    datetime.date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DATE_PATTERN}),
]

# A division's GB/T 2260 code: six digits (province 440000, city 440300, county 440304).
DIVISION_CODE_PATTERN = r"^[0-9]{6}$"
DivisionCode = Annotated[str, Field(pattern=DIVISION_CODE_PATTERN)]


class NonEmptyUploadedFile(UploadedFile):
    """An uploaded file, as the document describes it: Django drops an empty file part, which
    then is `missing`, so the document asks for at least one byte."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: Any, handler: Callable[..., Any]
    ) -> dict[str, Any]:
        return {"type": "string", "format": "binary", "minLength": 1}


class BodyNotObject(ValueError):
    """A JSON body that is not an object (every body of this API is one)."""


NUL = "\x00"


def _nul_refused(fields: list[str]) -> FieldErrors:
    # PostgreSQL stores no NUL in text: the query would fail (a 500) wherever the value went.
    message = _("Text cannot hold a NUL character (U+0000).")
    return FieldErrors(
        {field: [DjangoValidationError(message, code="nul_character")] for field in fields}
    )


def _with_nul(data: Any, path: str = "") -> list[str]:
    """The fields (dotted paths) of a JSON value whose text or name holds a NUL."""
    if isinstance(data, str):
        return [path or "__all__"] if NUL in data else []
    if isinstance(data, dict):
        found = []
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            found += [name] if NUL in str(key) else _with_nul(value, name)
        return found
    if isinstance(data, list):
        return [field for index, item in enumerate(data) for field in _with_nul(item, path)]
    return []


class StrictParser(Parser):
    """Reads bodies, queries and forms as django-ninja does, but refuses what it would read
    loosely or pass on to a query that fails: a JSON body that is not an object (ninja would
    read it as an empty one: 400 `body_not_object`), a field that is not a list given twice
    (ninja would read its last value: 422 `repeated`), text holding a NUL character (400
    `nul_character` for each field)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise BodyNotObject(type(data).__name__)
        if fields := _with_nul(data):
            raise _nul_refused(sorted(set(fields)))
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        # A repeated field is passed on as its list: a declared field that is not a list then
        # fails its validation (told as `repeated`), an undeclared one is ignored as any other.
        result: dict[str, Any] = {}
        repeated: set[str] = getattr(request, _REPEATED, set())
        with_nul = set()
        for key in data:
            values = data.getlist(key)
            if NUL in key or any(isinstance(value, str) and NUL in value for value in values):
                with_nul.add(key)
            if key in list_fields or len(values) == 1:
                result[key] = values if key in list_fields else values[0]
            else:
                result[key] = values
                repeated.add(key)
        if with_nul:
            raise _nul_refused(sorted(with_nul))
        setattr(request, _REPEATED, repeated)
        return result


# The request's attribute naming the fields given more than once.
_REPEATED = "_xueji_repeated_fields"


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
    if error_type == "repeated":
        return _("Give this parameter only once.")
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
    repeated: set[str] = getattr(request, _REPEATED, set())
    for error in exc.errors:
        error_type = str(error.get("type", "invalid"))
        location = tuple(error.get("loc", ()))
        if (
            location[:1] in (("query",), ("form",), ("file",))
            and location[1:2]
            and (location[1] in repeated)
        ):
            error_type = "repeated"
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
    if isinstance(exc.__cause__, ServiceError):
        # A refusal of the body by the parser (StrictParser), which django-ninja wraps.
        return _service_error(api, request, exc.__cause__)
    if exc.status_code == 400 and isinstance(exc.__cause__, BodyNotObject):
        body = error_body("body_not_object", _("The body must be a JSON object."))
    elif exc.status_code == 400:
        body = error_body("bad_request", _("The request body is not valid JSON."))
    else:
        body = error_body(f"http_{exc.status_code}", exc.message)
    return _respond(api, request, exc.status_code, body)


def _unreadable_body(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    # Django would answer these itself, but only after ninja gave up on them; and with DEBUG on
    # its error page reads the same body again and fails with a 500.
    body = error_body("bad_request", _("The request body cannot be read as it is declared."))
    return _respond(api, request, 400, body)


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
    _register(api, MultiPartParserError, _unreadable_body)
    _register(api, RequestDataTooBig, _unreadable_body)


# What Django itself answers under /api/, before or around the API: no route for the path (a
# malformed id in it), a method the path does not take, a body it cannot read, a server error.
_PLAIN_ERRORS: dict[int, tuple[str, Callable[[], str]]] = {
    400: ("bad_request", lambda: _("The request cannot be read.")),
    403: ("forbidden", lambda: _("This is not allowed.")),
    404: ("not_found", lambda: _("Nothing is found here.")),
    405: ("method_not_allowed", lambda: _("This address does not take this method.")),
    500: ("server_error", lambda: _("Something went wrong on the server; it has been logged.")),
}
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


class ApiErrorsAsJson:
    """Every error under /api/ is JSON in the error shape ({code, message}), whoever answered
    it: the API's handlers already do; this gives the same to Django's own answers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not request.path.startswith("/api/")
            or response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        code, message = _PLAIN_ERRORS.get(
            response.status_code, (f"http_{response.status_code}", lambda: response.reason_phrase)
        )
        answer = JsonResponse(error_body(code, message()), status=response.status_code)
        for header in _KEPT_HEADERS:
            if header in response:
                answer[header] = response[header]
        return answer
