"""What the request being served tells audit entries written deep in services: the client's
address, one id shared by the entries of the request, and the refusals met on the way.

No database access and no imports from other apps here: xueji.audit.apps registers note_refusal
with xueji.core.errors, which calls it for every refusal it creates.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str = ""
    status: int | None = None


@dataclass
class RequestContext:
    ip: str | None
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    refusals: list[Refusal] = field(default_factory=list)


_context: ContextVar[RequestContext | None] = ContextVar("xueji_audit_request", default=None)


def current() -> RequestContext | None:
    return _context.get()


def current_ip() -> str | None:
    context = _context.get()
    return None if context is None else context.ip


def current_request_id() -> uuid.UUID | None:
    context = _context.get()
    return None if context is None else context.request_id


def begin(ip: str | None) -> Any:
    """Start a request's context; returns the token for end()."""
    return _context.set(RequestContext(ip=ip))


def end(token: Any) -> None:
    _context.reset(token)


def note_refusal(code: str, reason: Any = "", *, status: int | None = None) -> None:
    """Remember that this request was refused something (out of scope, role not allowed).

    Called where the refusal is decided, usually inside the action's transaction, which is then
    rolled back: so it is only remembered here, and xueji.audit.middleware.AuditMiddleware writes
    it in its own transaction when the response is ready. Outside a request (a command, a test
    calling a service) there is nobody to tell, and it is dropped.
    """
    context = _context.get()
    if context is None:
        return
    refusal = Refusal(code=code, reason=str(reason)[:500], status=status)
    if refusal not in context.refusals:
        context.refusals.append(refusal)
