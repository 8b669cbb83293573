"""Writes of the second factor, each in one transaction with its audit entry.

Who may set up an authenticator is decided by an administrator, not by whoever first knows the
password: an administrator issues a single-use enrolment code (shown once, kept as a digest,
valid XUEJI_ENROLMENT_CODE_HOURS), the user sets up the app with it and receives ten recovery
codes, shown once, each good for one login without the phone. A lost phone is reset by an
administrator (the authenticator and recovery codes removed), after which only a new code
sets up another. Refusals are audited too: the entry is committed, then the refusal raised.

The account's row is locked first by each of these writes, so that an issue, a reset and an
enrolment of one account happen one after the other.
"""

from __future__ import annotations

import binascii
import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from xueji.accounts.second_factor.codes import (
    ENROLMENT_CODE_LENGTH,
    RECOVERY_CODE_LENGTH,
    enrolment_digest,
    new_code,
    recovery_digest,
)
from xueji.accounts.second_factor.models import Authenticator, EnrolmentCode
from xueji.accounts.second_factor.selectors import managed_account
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors

TOTP_DIGITS = 6
TOTP_STEP = 30
RECOVERY_CODE_COUNT = 10


def enrolment_code_hours() -> int:
    return int(getattr(settings, "XUEJI_ENROLMENT_CODE_HOURS", 72))


def _field_error(field: str, message: Any, code: str) -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code)]})


def _token_value(token: str) -> int | None:
    token = (token or "").strip().replace(" ", "")
    if len(token) != TOTP_DIGITS or not token.isdigit():
        return None
    return int(token)


def _locked_account(user: Any) -> Any:
    return get_user_model().objects.select_for_update().get(pk=user.pk)


def _revoke_pending(user: Any, now: datetime.datetime) -> int:
    return EnrolmentCode.objects.filter(
        user=user, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)


# ---- the administrator's side ------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCode:
    code: str  # shown once, to the administrator, who hands it to the user
    user: Any
    expires_at: datetime.datetime


def second_factor_code_issue(*, actor: Any, user: Any) -> IssuedCode:
    """A new enrolment code for `user` (an account of the actor's area, not the actor's own;
    actor None is the operator's command line). A code still pending is revoked. Refused while
    the user has an authenticator: reset it first."""
    now = timezone.now()
    with transaction.atomic():
        target = _locked_account(managed_account(actor, user.pk))
        if Authenticator.objects.filter(user=target, confirmed=True).exists():
            raise Conflict(
                "second_factor_exists",
                _("This account already has an authenticator: reset it first."),
            )
        revoked = _revoke_pending(target, now)
        code = new_code(ENROLMENT_CODE_LENGTH)
        issued = EnrolmentCode.objects.create(
            user=target,
            digest=enrolment_digest(code),
            issued_by=actor,
            issued_at=now,
            expires_at=now + datetime.timedelta(hours=enrolment_code_hours()),
        )
        audit_record(
            actor=actor,
            action="account.second_factor_code_issue",
            object_type="user",
            detail={
                "user": target.get_username(),
                "code": issued.pk,
                "expires_at": issued.expires_at,
                "revoked_codes": revoked,
            },
        )
    return IssuedCode(code=code, user=target, expires_at=issued.expires_at)


@dataclass(frozen=True)
class SecondFactorReset:
    user: Any
    authenticators: int
    recovery_codes: int
    revoked_codes: int


def second_factor_reset(*, actor: Any, user: Any) -> SecondFactorReset:
    """Remove `user`'s authenticator and recovery codes (a lost or stolen phone) and revoke a
    pending code. Sessions the removed authenticator verified are no longer verified; the user
    sets up another only with a new enrolment code."""
    now = timezone.now()
    with transaction.atomic():
        target = _locked_account(managed_account(actor, user.pk))
        recovery_codes = StaticToken.objects.filter(device__user=target).count()
        authenticators, _by_kind = Authenticator.objects.filter(user=target).delete()
        StaticDevice.objects.filter(user=target).delete()
        revoked = _revoke_pending(target, now)
        if not (authenticators or recovery_codes or revoked):
            raise Conflict(
                "second_factor_missing",
                _("This account has no authenticator and no pending enrolment code to reset."),
            )
        audit_record(
            actor=actor,
            action="account.second_factor_reset",
            object_type="user",
            detail={
                "user": target.get_username(),
                "authenticators": authenticators,
                "recovery_codes": recovery_codes,
                "revoked_codes": revoked,
            },
        )
    return SecondFactorReset(target, authenticators, recovery_codes, revoked)


# ---- the user's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    device: Authenticator
    recovery_codes: list[str]  # shown once, on the page that confirms the set-up


def _enrolment_code_refusal(
    code: EnrolmentCode | None, now: datetime.datetime
) -> FieldErrors | None:
    if code is None:
        return _field_error(
            "enrolment_code",
            _("This enrolment code is wrong: check it, or ask your administrator for one."),
            "enrolment_code_wrong",
        )
    if code.used_at is not None:
        return _field_error(
            "enrolment_code",
            _("This enrolment code has been used: ask your administrator for a new one."),
            "enrolment_code_used",
        )
    if code.revoked_at is not None:
        return _field_error(
            "enrolment_code",
            _("This enrolment code was replaced or revoked: ask your administrator for a new one."),
            "enrolment_code_revoked",
        )
    if code.expires_at <= now:
        return _field_error(
            "enrolment_code",
            _("This enrolment code has expired: ask your administrator for a new one."),
            "enrolment_code_expired",
        )
    return None


def second_factor_enrol(*, actor: Any, enrolment_code: str, key: str, token: str) -> Enrolment:
    """Set up the authenticator app whose secret `key` (hex) was shown to the user, with the
    enrolment code an administrator issued to this user, once the app proves it produces the
    current code. The code is used up; ten recovery codes are made and returned (the only
    time they are seen). A refused try is audited with its reason."""
    try:
        secret = binascii.unhexlify(key.encode())
    except (binascii.Error, ValueError):
        raise _field_error(
            "token", _("Start again: the setup has expired."), "setup_expired"
        ) from None
    totp = TOTP(secret, step=TOTP_STEP, digits=TOTP_DIGITS)
    value = _token_value(token)
    now = timezone.now()
    refusal: FieldErrors | None = None
    enrolment: Enrolment | None = None
    with transaction.atomic():
        account = _locked_account(actor)
        if Authenticator.objects.filter(user=account, confirmed=True).exists():
            raise Conflict(
                "second_factor_exists", _("An authenticator is already set up for this account.")
            )
        code = (
            EnrolmentCode.objects.select_for_update()
            .filter(user=account, digest=enrolment_digest(enrolment_code))
            .first()
        )
        refusal = _enrolment_code_refusal(code, now)
        if refusal is None and (value is None or not totp.verify(value, tolerance=1)):
            refusal = _field_error(
                "token",
                _("The code is wrong or has expired: enter the six digits the app shows now."),
                "token_wrong",
            )
        if refusal is not None:
            audit_record(
                actor=actor,
                action="account.second_factor_enrol_refused",
                object_type="user",
                detail={"reason": refusal.code, "code": code.pk if code else None},
            )
        else:
            assert code is not None
            code.used_at = now
            code.save(update_fields=["used_at"])
            enrolment = _make_devices(account, key, totp.t())
            audit_record(
                actor=actor,
                action="account.second_factor_enrol",
                object_type="user",
                detail={
                    "device": enrolment.device.pk,
                    "code": code.pk,
                    "recovery_codes": len(enrolment.recovery_codes),
                },
            )
    if refusal is not None:
        raise refusal
    assert enrolment is not None
    return enrolment


def _make_devices(user: Any, key: str, last_t: int) -> Enrolment:
    device = Authenticator.objects.create(
        user=user,
        name="authenticator",
        key_sealed=Authenticator.seal(key),
        step=TOTP_STEP,
        digits=TOTP_DIGITS,
        confirmed=True,
        last_t=last_t,
    )
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [new_code(RECOVERY_CODE_LENGTH) for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=static, token=recovery_digest(code)) for code in codes
    )
    return Enrolment(device=device, recovery_codes=codes)


def second_factor_verify(*, actor: Any, token: str) -> Authenticator:
    """The user's authenticator, when `token` is its current code. A wrong code is recorded
    and slows the next tries down (1, 2, 4 … seconds) before it is refused; the device row is
    locked so that one code cannot be used twice by racing requests."""
    value = _token_value(token)
    device_id = (
        Authenticator.objects.filter(user=actor, confirmed=True)
        .values_list("pk", flat=True)
        .first()
    )
    if device_id is None:
        raise Conflict("second_factor_missing", _("Set up an authenticator app first."))
    with transaction.atomic():
        device = Authenticator.objects.select_for_update().get(pk=device_id)
        allowed, _why = device.verify_is_allowed()
        # A malformed code counts as a wrong one (verify_token records the failure).
        verified = allowed and device.verify_token(-1 if value is None else value)
        if verified:
            action = "account.second_factor"
        elif allowed:
            action = "account.second_factor_failed"
        else:
            action = "account.second_factor_throttled"
        audit_record(actor=actor, action=action, object_type="user", detail={"device": device.pk})
    if verified:
        return device
    if not allowed:
        raise _field_error(
            "token",
            _("Too many wrong codes: wait a few seconds, then enter the code the app shows."),
            "token_throttled",
        )
    raise _field_error(
        "token",
        _("The code is wrong or has expired: enter the six digits the app shows now."),
        "token_wrong",
    )


@dataclass(frozen=True)
class Recovery:
    device: StaticDevice
    codes_left: int


def second_factor_recover(*, actor: Any, code: str) -> Recovery:
    """Verify this session with one of the user's recovery codes instead of the phone; the
    code is used up. Wrong codes are recorded and slow the next tries down, like the app's."""
    device_id = (
        StaticDevice.objects.filter(user=actor, confirmed=True).values_list("pk", flat=True).first()
    )
    if device_id is None:
        raise Conflict(
            "recovery_codes_missing",
            _("This account has no recovery codes: ask your administrator to reset it."),
        )
    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().get(pk=device_id)
        allowed, _why = device.verify_is_allowed()
        verified = allowed and device.verify_token(recovery_digest(code))
        left = device.token_set.count()
        if verified:
            action = "account.second_factor_recovery"
        elif allowed:
            action = "account.second_factor_recovery_failed"
        else:
            action = "account.second_factor_recovery_throttled"
        audit_record(
            actor=actor,
            action=action,
            object_type="user",
            detail={"device": device.pk, "codes_left": left},
        )
    if verified:
        return Recovery(device=device, codes_left=left)
    if not allowed:
        raise _field_error(
            "recovery_code",
            _("Too many wrong codes: wait a few seconds, then try again."),
            "recovery_code_throttled",
        )
    raise _field_error(
        "recovery_code",
        _("This recovery code is wrong or has been used."),
        "recovery_code_wrong",
    )
