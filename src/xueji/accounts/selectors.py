"""Reads of accounts: sealed accounts of a bureau's area, and what an authenticator app needs."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import PREFIX_DIGITS, Scope, area_q, require
from xueji.accounts.models import AccountSeal
from xueji.schools.models import School


def accounts_in_area(scope: Scope) -> QuerySet[Any]:
    """Accounts whose membership lies in the scope's area: at one of its schools, or at a
    bureau of it (a county's accounts for a county, a city's and its counties' for a city …).
    Accounts without a membership belong to the nation."""
    users = get_user_model().objects.all()
    if scope.level == ScopeLevel.NATION:
        return users
    schools = School.objects.filter(area_q(scope, ""))
    at_schools = Q(membership__school__in=schools)
    if scope.level == ScopeLevel.SCHOOL:
        return users.filter(at_schools)
    digits = PREFIX_DIGITS[scope.level]
    prefix = (scope.division_code or "")[:digits]
    return users.filter(at_schools | Q(membership__division__code__startswith=prefix))


def sealed_accounts(user: Any) -> list[AccountSeal]:
    """The open seals of the caller's area, oldest first (account managers only)."""
    scope = require(user, Action.ACCOUNT_MANAGE)
    return list(
        AccountSeal.objects.filter(reopened_at__isnull=True, user__in=accounts_in_area(scope))
        .select_related("user__membership__school", "user__membership__division")
        .order_by("sealed_at", "user__username")
    )


def has_second_factor(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@dataclass(frozen=True)
class AuthenticatorSetup:
    secret: str  # base32, for typing into the app by hand, in groups of four
    qr_svg: SafeString  # the otpauth:// link as a QR code, inline SVG (no script, no style)
    already_set_up: bool


def authenticator_setup(user: Any, key: str) -> AuthenticatorSetup:
    """What the enrolment page shows for the secret `key` (hex) it keeps in the session."""
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
