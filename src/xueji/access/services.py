"""Writes of access: API tokens for system clients. Each service runs in one transaction."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ApiToken, Role, ScopeLevel
from xueji.access.scope import scope_of
from xueji.audit.services import audit_record
from xueji.core.errors import FieldErrors, NotFound, ServiceError

TOKEN_PREFIX = "xj_"
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length or 64


def _may_manage_tokens_of(actor: Any, user: Any) -> bool:
    """The operator's command line (no actor), the owner, or the nation's security
    administrator (keys are the security administrator's duty, 三员分立: a system administrator
    who could make a token for the auditor would read the trail through it)."""
    if actor is None:
        return True
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.pk == user.pk:
        return True
    scope = scope_of(actor)
    return (
        scope is not None and scope.role == Role.SECURITY_ADMIN and scope.level == ScopeLevel.NATION
    )


def api_token_create(*, actor: Any, user: Any, name: str) -> tuple[ApiToken, str]:
    """Make a token that acts as `user`; the raw token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise FieldErrors({"name": [ValidationError(_("Give the token a name."), code="required")]})
    if len(name) > NAME_MAX_LENGTH:
        raise FieldErrors(
            {
                "name": [
                    ValidationError(
                        _("A token name has at most %(max)d characters."),
                        code="max_length",
                        params={"max": NAME_MAX_LENGTH},
                    )
                ]
            }
        )
    if not user.is_active:
        raise ServiceError("account_inactive", _("The account is disabled."))
    if not _may_manage_tokens_of(actor, user):
        raise ServiceError(
            "forbidden", _("You may not create API tokens for this account."), status=403
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, prefix=raw[:8], digest=ApiToken.digest_of(raw)
        )
        audit_record(
            actor=actor,
            action="api_token.create",
            object_type="api_token",
            detail={
                "token_id": token.pk,
                "user": user.get_username(),
                "name": name,
                "prefix": token.prefix,
            },
        )
    return token, raw


def api_token_revoke(*, actor: Any, token_id: int) -> ApiToken:
    """Revoke a token at once; revoking a revoked token is refused, not repeated."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("user").filter(pk=token_id)
        found = token.first()
        if found is None or not _may_manage_tokens_of(actor, found.user):
            raise NotFound("token_not_found", _("No such API token."))
        if found.revoked_at is not None:
            raise ServiceError("token_already_revoked", _("This API token is already revoked."))
        found.revoked_at = timezone.now()
        found.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoke",
            object_type="api_token",
            detail={
                "token_id": found.pk,
                "user": found.user.get_username(),
                "name": found.name,
                "prefix": found.prefix,
            },
        )
    return found
