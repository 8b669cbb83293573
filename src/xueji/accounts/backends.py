"""Password authentication that tells a sealed account why it cannot log in."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from xueji.accounts.models import AccountSeal, SealReason
from xueji.accounts.policy import stale_days


class AccountBackend(ModelBackend):
    """Django's username and password check, and one more refusal: an account sealed for lack
    of use gets a message saying so (as a form error of the login page) when its password is
    right; with a wrong password it is refused like any other. Put it after axes' backend, so
    that a locked-out account is refused before its password is tried."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            user_model().set_password(password)  # the same time as a wrong password
            return None
        if not user.check_password(password):
            return None
        if not user.is_active:
            seal = AccountSeal.objects.filter(user=user, reopened_at__isnull=True).first()
            if seal is not None and seal.reason == SealReason.REMOVED:
                raise ValidationError(
                    _("This account was removed on %(date)s and can no longer be used."),
                    code="account_removed",
                    params={"date": formats.date_format(timezone.localtime(seal.sealed_at))},
                )
            if seal is not None and seal.reason == SealReason.MANAGER:
                raise ValidationError(
                    _(
                        "This account was sealed on %(date)s by an account manager. Ask your "
                        "education bureau to reopen it."
                    ),
                    code="account_sealed",
                    params={"date": formats.date_format(timezone.localtime(seal.sealed_at))},
                )
            if seal is not None:
                raise ValidationError(
                    _(
                        "This account was sealed on %(date)s because it had not been used for "
                        "%(days)d days. Ask your education bureau to reopen it."
                    ),
                    code="account_sealed",
                    params={
                        "date": formats.date_format(timezone.localtime(seal.sealed_at)),
                        "days": stale_days(),
                    },
                )
        return user if self.user_can_authenticate(user) else None


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come with a request (every login over HTTP
    does). A call without one comes from code inside the process (a command, a test), where
    there is no address to count failures by; axes would refuse it outright, this lets the
    next backend decide."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
