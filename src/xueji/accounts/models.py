from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.accounts.second_factor.models import EnrolmentCode  # noqa: F401  (its model)


class AccountSeal(models.Model):
    """An account sealed because it was not used for a long time (XUEJI_ACCOUNT_STALE_DAYS).

    While a seal is open (not reopened) the account is switched off (is_active false): it can
    neither log in nor use its API tokens. A bureau's account manager reopens it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_seals"
    )
    sealed_at = models.DateTimeField(_("sealed on"))
    last_used_at = models.DateTimeField(_("last used"))
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
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} sealed {self.sealed_at:%Y-%m-%d}"
