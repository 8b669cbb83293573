"""The second factor's rows: the enrolment codes (an administrator issues one, the user types it
to set up an authenticator app; only its SHA-256 digest is kept, the code is shown once, to the
administrator who issued it), and the authenticators themselves, whose TOTP secret is sealed with
the field keys."""

from __future__ import annotations

import binascii
import time
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from xueji.core.crypto import decrypt, encrypt

# The encryption context of an authenticator's secret (authenticated with it).
TOTP_KEY_CONTEXT = "accounts.totp_key"


class EnrolmentCode(models.Model):
    """A single-use code that lets its user set up an authenticator (XUEJI_ENROLMENT_CODE_HOURS
    long). Issuing another revokes the one still pending; using it, or a reset of the user's
    second factor, ends it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolment_codes"
    )
    digest = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when issued by the operator's command line."),
    )
    issued_at = models.DateTimeField(_("issued on"))
    expires_at = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used on"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked on"), null=True, blank=True)

    class Meta:
        app_label = "accounts"
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(used_at__isnull=True, revoked_at__isnull=True),
                name="one_pending_enrolment_code_per_account",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("issued_at")),
                name="enrolment_code_expires_after_issue",
            ),
            models.CheckConstraint(
                condition=models.Q(used_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="enrolment_code_used_or_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.issued_at:%Y-%m-%d %H:%M}"


class Authenticator(TimestampMixin, ThrottlingMixin, Device):
    """An account's authenticator app (TOTP, RFC 6238), as django-otp's TOTPDevice but with its
    secret sealed with the field keys (xueji.core.crypto, the suite in force; moved by `xueji
    rotate_keys` and counted by `xueji crypto status`), never stored in plain: whoever reads the
    table or a backup of it cannot make the account's codes. django-otp's TOTPDevice, which keeps
    its key in hex, is used only to draw the set-up page's QR code, never saved."""

    key_sealed = models.TextField(editable=False)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # The time step of the last code accepted: a code is accepted once (a later step only).
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        app_label = "accounts"
        verbose_name = _("Authenticator")

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A row once written keeps its sealed secret unless `xueji rotate_keys` moves it (with an
        # UPDATE conditional on the value it read): django-otp's own saves (a code accepted, a
        # wrong one counted) write every other column, so they never put back a value read
        # before a move.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "key_sealed"
            ]
        super().save(*args, **kwargs)

    @staticmethod
    def seal(key: str) -> str:
        """The sealed form of a secret given in hex (as the set-up keeps it)."""
        binascii.unhexlify(key.encode())  # a malformed secret is refused before it is kept
        return encrypt(key.lower(), context=TOTP_KEY_CONTEXT)

    @property
    def bin_key(self) -> bytes:
        return binascii.unhexlify(decrypt(self.key_sealed, context=TOTP_KEY_CONTEXT).encode())

    def verify_token(self, token: Any) -> bool:
        """django-otp's TOTP check (TOTPDevice.verify_token's rule): a code of the step now, or
        one step either side, of a later step than the last accepted; wrong codes throttled."""
        allowed, _why = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            value = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(value, self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                if getattr(settings, "OTP_TOTP_SYNC", True):
                    self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return bool(verified)

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))
