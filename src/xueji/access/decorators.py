"""The action each page and API endpoint performs, declared where it is defined.

`@requires(Action.X)` on a view refuses (403) a user whose role the matrix does not grant the
action; `@endpoint_requires(Action.X)` does the same for a django-ninja operation. Both only
guard the door: what lies inside the user's scope is decided again by the selectors and
services the view calls. Both record the action on the function (`xueji_action`), which the
generated matrix test reads to walk every page and endpoint.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.operation import Operation
from ninja.utils import contribute_operation_callback

from xueji.access.scope import may, require, scope_of

F = TypeVar("F", bound=Callable[..., Any])

ACTION_ATTRIBUTE = "xueji_action"


def requires(action: str) -> Callable[[F], F]:
    """A page that performs `action`: refused (403) when the user's role may not perform it.

    A signed-in user without a membership is let through: every selector shows such a user
    nothing (and objects answer 404). Put it below @login_required.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            scope = scope_of(request.user)
            if scope is not None and not may(scope, action):
                raise PermissionDenied(_("Your role does not allow this."))
            response: HttpResponse = view(request, *args, **kwargs)
            return response

        setattr(guarded, ACTION_ATTRIBUTE, action)
        return guarded  # type: ignore[return-value]

    return decorate


def endpoint_requires(action: str) -> Callable[[F], F]:
    """An API operation that performs `action`: 403 `forbidden` when the role may not (a
    caller without a membership is let through, to find nothing).

    Put it below the router's decorator. The check runs once the caller is authenticated and
    the request parsed, before the endpoint's body.
    """

    def install(operation: Operation) -> None:
        inner = operation.view_func

        @functools.wraps(inner)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if scope_of(getattr(request, "auth", None)) is not None:
                require(request.auth, action)  # type: ignore[attr-defined]
            return inner(request, *args, **kwargs)

        setattr(guarded, ACTION_ATTRIBUTE, action)
        operation.view_func = guarded

    def decorate(func: F) -> F:
        setattr(func, ACTION_ATTRIBUTE, action)
        contribute_operation_callback(func, install)
        return func

    return decorate


def action_of(func: Any) -> str | None:
    """The action a view or endpoint declared, or None."""
    return getattr(func, ACTION_ATTRIBUTE, None)
