"""Signing in and out leave audit entries: who, from where, and failed and locked-out tries."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from xueji.accounts.lockout import address_locked
from xueji.accounts.services import account_event_record


@receiver(user_logged_in, dispatch_uid="xueji_accounts_logged_in")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    account_event_record(actor=user, action="account.login")


@receiver(user_logged_out, dispatch_uid="xueji_accounts_logged_out")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        reason = getattr(request, "xueji_logout_reason", "") if request is not None else ""
        account_event_record(
            actor=user, action="account.logout", detail={"reason": reason} if reason else None
        )


def _known_user(username: str) -> Any:
    if not username:
        return None
    return get_user_model()._default_manager.filter(username=username).first()


@receiver(user_login_failed, dispatch_uid="xueji_accounts_login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Django masks the password in `credentials`; the name tried is kept (shortened).
    username = str(credentials.get("username") or "")[:150]
    account_event_record(
        actor=None,
        action="account.login_failed",
        detail={"username": username, "known": _known_user(username) is not None},
    )


@receiver(user_locked_out, dispatch_uid="xueji_accounts_locked_out")
def _locked_out(
    sender: Any, request: Any = None, username: str | None = None, **kwargs: Any
) -> None:
    # Which limit: the account's at this address, or the address's over all accounts.
    limit = "address" if request is not None and address_locked(request) else "account"
    account_event_record(
        actor=None,
        action="account.locked_out",
        detail={"username": (username or "")[:150], "limit": limit},
    )
