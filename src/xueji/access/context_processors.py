from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from xueji.access.models import Membership
from xueji.access.scope import scope_of


def _membership(request: HttpRequest) -> Membership | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.select_related("school", "division").filter(user=user).first()


def membership(request: HttpRequest) -> dict[str, Any]:
    """The user's scope, and (lazily, for the page header) the membership with its place."""
    return {
        "scope": scope_of(getattr(request, "user", None)),
        "membership": SimpleLazyObject(lambda: _membership(request)),
    }
