"""What the welfare pages share: the user's scope, the term picked, money shown in yuan."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from xueji.access.scope import Scope, scope_of
from xueji.schools.models import Term
from xueji.welfare import selectors


def scope(request: HttpRequest) -> Scope | None:
    return scope_of(request.user)


def picked_term(request: HttpRequest) -> Term | None:
    return selectors.term_of(request.GET.get("term") or request.POST.get("term") or None)


def term_context(request: HttpRequest) -> dict[str, Any]:
    term = picked_term(request)
    return {"term": term, "terms": list(selectors.terms()[:12])}
