from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from xueji.access.menu import menu_for
from xueji.access.models import Membership
from xueji.access.policy import actions_of
from xueji.access.scope import Scope, scope_of


def _membership(request: HttpRequest) -> Membership | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.select_related("school", "division").filter(user=user).first()


def allowed_actions(scope: Scope | None) -> dict[str, bool]:
    """The actions the matrix grants the scope, with "_" for "." (for templates):
    {"correction_view": True, ...}."""
    if scope is None:
        return {}
    return {action.replace(".", "_"): True for action in actions_of(scope.role, scope.level)}


def membership(request: HttpRequest) -> dict[str, Any]:
    """The user's scope, what the role may do, and (lazily, for the pages that draw them) the
    membership with its place for the header and the menu with the breadcrumb."""
    scope = scope_of(getattr(request, "user", None))
    return {
        "scope": scope,
        "allowed": allowed_actions(scope),
        "membership": SimpleLazyObject(lambda: _membership(request)),
        "menu": SimpleLazyObject(lambda: menu_for(request)),
    }
