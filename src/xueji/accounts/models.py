from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.accounts.administration.models import AccountProfile
from xueji.accounts.second_factor.models import (  # noqa: F401  (their models)
    Authenticator,
    EnrolmentCode,
)

__all__ = ["AccountProfile", "AccountSeal", "SealReason"]


class SealReason(models.TextChoices):
    UNUSED = "unused", _("Not used for a long time")
    MANAGER = "manager", _("Sealed by an account manager")
    REMOVED = "removed", _("Removed for ever")


class AccountSeal(models.Model):
    """An account sealed because it was not used for a long time (XUEJI_ACCOUNT_STALE_DAYS), by
    an account manager, or for ever when it is removed.

    While a seal is open (not reopened) the account is switched off (is_active false): it can
    neither log in nor use its API tokens. An account manager of its area reopens it, except a
    removal's, which is never reopened.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_seals"
    )
    sealed_at = models.DateTimeField(_("sealed on"))
    last_used_at = models.DateTimeField(_("last used"))
    reason = models.CharField(
        _("reason"), max_length=8, choices=SealReason.choices, default=SealReason.UNUSED
    )
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    reopened_at = models.DateTimeField(_("reopened on"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(reopened_at__isnull=True),
                name="one_open_seal_per_account",
            ),
            models.CheckConstraint(
                condition=models.Q(reason__in=SealReason.values), name="seal_reason_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(reason="removed") | models.Q(reopened_at__isnull=True),
                name="removal_never_reopened",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} sealed {self.sealed_at:%Y-%m-%d}"
