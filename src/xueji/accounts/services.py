"""Writes of accounts: sealing of unused accounts and their reopening, and the audit entries
of signing in and out (the second factor's are in accounts.second_factor.services). Each runs in
one transaction with its audit entry."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import DateTimeField, Max
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import require
from xueji.accounts.administration.rules import manageable_accounts
from xueji.accounts.models import AccountSeal, SealReason
from xueji.accounts.policy import stale_days
from xueji.audit.services import audit_record
from xueji.core.errors import NotFound


def account_event_record(*, actor: Any, action: str, detail: dict[str, Any] | None = None) -> None:
    """An entry for signing in or out, a failed or locked-out login (in its own transaction)."""
    with transaction.atomic():
        audit_record(actor=actor, action=action, object_type="user", detail=detail or {})


# ---- sealing of unused accounts ----------------------------------------------------------------


@dataclass(frozen=True)
class SealedAccount:
    username: str
    last_used_at: datetime.datetime


def _last_use() -> Any:
    """The last time an account was used: its last login, its API tokens' last use, the day it
    was created or last reopened, whichever is latest."""
    joined = "date_joined"
    return Greatest(
        Coalesce("last_login", joined),
        Coalesce(Max("api_tokens__last_used_at"), joined),
        Coalesce(Max("account_seals__reopened_at"), joined),
        output_field=DateTimeField(),
    )


def accounts_seal_stale(*, actor: Any, now: datetime.datetime | None = None) -> list[SealedAccount]:
    """Seal every active account unused for XUEJI_ACCOUNT_STALE_DAYS: it is switched off until
    a bureau reopens it. Returns the accounts sealed now."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=stale_days())
    user_model = get_user_model()
    sealed: list[SealedAccount] = []
    with transaction.atomic():
        stale = (
            user_model.objects.filter(is_active=True)
            .annotate(last_use=_last_use())
            .filter(last_use__lt=cutoff)
            .order_by("pk")
        )
        for user in stale:
            AccountSeal.objects.create(user=user, sealed_at=now, last_used_at=user.last_use)
            user_model.objects.filter(pk=user.pk).update(is_active=False)
            audit_record(
                actor=actor,
                action="account.seal",
                object_type="user",
                detail={
                    "user": user.get_username(),
                    "last_used": user.last_use,
                    "days": stale_days(),
                },
            )
            sealed.append(SealedAccount(user.get_username(), user.last_use))
    return sealed


def account_reopen(*, actor: Any, user_id: int) -> AccountSeal:
    """Reopen a sealed account the actor manages (account.manage in the permission matrix, and
    a role the actor may give, xueji.accounts.administration.rules); the operator's command line
    reopens any (actor None). A removed account is never reopened."""
    with transaction.atomic():
        if actor is None:
            users = get_user_model().objects.all()
        else:
            users = manageable_accounts(require(actor, Action.ACCOUNT_MANAGE))
        seal = (
            AccountSeal.objects.select_for_update()
            .filter(user__in=users, user_id=user_id, reopened_at__isnull=True)
            .exclude(reason=SealReason.REMOVED)
            .select_related("user")
            .first()
        )
        if seal is None:
            raise NotFound("sealed_account_not_found", _("No such sealed account in your area."))
        seal.reopened_at = timezone.now()
        seal.reopened_by = actor
        seal.save(update_fields=["reopened_at", "reopened_by"])
        get_user_model().objects.filter(pk=seal.user_id).update(is_active=True)
        audit_record(
            actor=actor,
            action="account.reopen",
            object_type="user",
            detail={"user": seal.user.get_username(), "sealed_at": seal.sealed_at},
            before={"is_active": False},
            after={"is_active": True},
        )
    return seal
