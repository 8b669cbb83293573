"""Reads of the second factor: whether a user has an authenticator, what its set-up page shows,
and what an administrator sees of an account's second factor."""

from __future__ import annotations

import base64
import binascii
import datetime
from dataclasses import dataclass
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from xueji.access.policy import Action
from xueji.access.scope import require
from xueji.accounts.administration.rules import manageable_accounts
from xueji.accounts.policy import needs_second_factor
from xueji.accounts.second_factor.models import Authenticator, EnrolmentCode
from xueji.core.errors import NotFound


def has_second_factor(user: Any) -> bool:
    return Authenticator.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def has_recovery_codes(user: Any) -> bool:
    return StaticDevice.objects.filter(user=user, confirmed=True).exists()


@dataclass(frozen=True)
class AuthenticatorSetup:
    secret: str  # base32, for typing into the app by hand, in groups of four
    qr_svg: SafeString  # the otpauth:// link as a QR code, inline SVG (no script, no style)
    already_set_up: bool


def authenticator_setup(user: Any, key: str) -> AuthenticatorSetup:
    """What the enrolment page shows for the secret `key` (hex) it keeps in the session
    (django-otp's TOTPDevice draws the link; it is never saved: the authenticator kept is
    sealed)."""
    device = TOTPDevice(user=user, key=key, step=30, digits=6)
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2
    )
    svg = image.to_string(encoding="unicode")
    try:
        secret = base64.b32encode(binascii.unhexlify(key)).decode()
    except (binascii.Error, ValueError):
        secret = ""
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return AuthenticatorSetup(
        secret=grouped,
        qr_svg=mark_safe(svg),  # generated here from our own data: no user input in it
        already_set_up=has_second_factor(user),
    )


def pending_enrolment_code(user: Any, now: datetime.datetime | None = None) -> EnrolmentCode | None:
    """The user's code not yet used, revoked or expired."""
    return (
        EnrolmentCode.objects.filter(
            user=user,
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now or timezone.now(),
        )
        .select_related("issued_by")
        .first()
    )


def managed_account(actor: Any, user_id: int) -> Any:
    """The account whose second factor `actor` manages: one of the accounts the actor manages
    (xueji.accounts.administration.rules: of the area, a role the actor may give, so that only
    the nation's security administrator reaches an administrator's or an auditor's), not the
    actor's own (a lost authenticator is reset by somebody else, and nobody issues themselves a
    code). Actor None is the operator's command line, which reaches every account."""
    users = get_user_model().objects.all()
    if actor is not None:
        users = manageable_accounts(require(actor, Action.ACCOUNT_SECOND_FACTOR_MANAGE))
    found = users.filter(pk=user_id).select_related("membership").first()
    if found is None:
        raise NotFound("account_not_found", _("No such account in your area."))
    return found


@dataclass(frozen=True)
class SecondFactorStatus:
    user: Any
    required: bool  # does the account's role need a second factor?
    enrolled_at: datetime.datetime | None  # None: no authenticator
    recovery_codes_left: int
    pending_code: EnrolmentCode | None


def second_factor_status(actor: Any, user_id: int) -> SecondFactorStatus:
    """What the administrator's page of one account shows."""
    user = managed_account(actor, user_id)
    device = Authenticator.objects.filter(user=user, confirmed=True).first()
    return SecondFactorStatus(
        user=user,
        required=needs_second_factor(user),
        enrolled_at=device.created_at if device else None,
        recovery_codes_left=recovery_codes_left(user),
        pending_code=pending_enrolment_code(user),
    )
