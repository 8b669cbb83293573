"""Errors that services raise and views and the API turn into messages.

Every refusal carries a machine code (stable, for API clients) and a human message (translated,
Chinese by default); field errors name the field they concern. A 403 or 404 refusal is a failed
permission check: whoever listens for those (the audit trail, which registers at start-up in
xueji.audit.apps) hears of it when it is created, without core knowing who listens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.utils.functional import lazy


class RefusalListener(Protocol):
    def __call__(self, code: str, reason: Any = "", *, status: int | None = None) -> None: ...


_refusal_listeners: list[RefusalListener] = []


def listen_for_refusals(listener: RefusalListener) -> Callable[[], None]:
    """Call `listener(code, message, status=...)` for every 403 or 404 ServiceError from now on
    (registering it twice calls it once). Returns the function that stops it."""
    if listener not in _refusal_listeners:
        _refusal_listeners.append(listener)

    def stop() -> None:
        if listener in _refusal_listeners:
            _refusal_listeners.remove(listener)

    return stop


def translated(message: Any, params: Mapping[str, Any]) -> Any:
    """`message % params` formatted each time it is shown, in the language active then: a
    refusal kept for later (an import's) reads in each reader's language."""
    return lazy(lambda: str(message) % params, str)()


class ServiceError(Exception):
    """A request the domain refuses as a whole (not tied to one field)."""

    status = 400

    def __init__(self, code: str, message: Any, *, status: int | None = None, **details: Any):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.details = details
        if status is not None:
            self.status = status
        if self.status in (403, 404):  # a failed permission check: the audit trail keeps it
            for listener in _refusal_listeners:
                listener(code, message, status=self.status)


class NotFound(ServiceError):
    """The object does not exist, or exists outside the caller's scope: the two look the same."""

    status = 404


class Conflict(ServiceError):
    status = 409


class FieldErrors(ServiceError):
    """One or more fields are invalid; all of them are reported at once."""

    def __init__(self, errors: Mapping[str, list[ValidationError]]):
        self.errors = dict(errors)
        first = next(iter(self.errors.values()))[0]
        super().__init__(first.code or "invalid", first.message, status=400)

    @classmethod
    def from_validation_error(cls, error: ValidationError, field: str = "__all__") -> FieldErrors:
        if hasattr(error, "error_dict"):
            return cls({name: list(errs) for name, errs in error.error_dict.items()})
        return cls({field: list(error.error_list)})

    def as_json(self) -> dict[str, list[dict[str, str]]]:
        return {
            name: [
                {"code": e.code or "invalid", "message": str(e.message % (e.params or {}))}
                for e in errs
            ]
            for name, errs in self.errors.items()
        }


def form_errors_add(form: Any, error: ServiceError) -> None:
    """Show a service's refusal on a form: each field error next to its field (or above the
    form when the form has no such field), any other refusal above the form."""
    if isinstance(error, FieldErrors):
        for field, problems in error.errors.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
    else:
        form.add_error(None, str(error.message))
