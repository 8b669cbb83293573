"""Errors that services raise and views and the API turn into messages.

Every refusal carries a machine code (stable, for API clients) and a human message (translated,
Chinese by default); field errors name the field they concern.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import lazy

from xueji.audit.context import note_refusal


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
            note_refusal(code, message, status=self.status)


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
