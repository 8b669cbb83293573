from typing import Any

from django.http import HttpRequest

from xueji.access.scope import scope_of


def membership(request: HttpRequest) -> dict[str, Any]:
    return {"scope": scope_of(getattr(request, "user", None))}
