"""What the account administration keeps beside Django's user: the phone, whether the user must
change the password before anything else, and who created the account.

An account is never deleted: removal is a seal that is never reopened (AccountSeal, reason
"removed"), and the row stays, so that its login name (unique in the user table) is never used
again and everything it did still names it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="account_profile"
    )
    phone = models.CharField(_("mobile phone"), max_length=11, blank=True)
    # Set when someone else chose the password (creation, a reset): the middleware sends the
    # user to the change-password page until they have chosen their own.
    must_change_password = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "accounts"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(phone="") | models.Q(phone__regex=r"^1[3-9][0-9]{9}$"),
                name="account_phone_mobile",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}"
