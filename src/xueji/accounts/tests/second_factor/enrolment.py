"""Helpers of the second factor's tests: an authenticator's codes, and an account set up the way
its user would (a code issued from the command line, then the app proved)."""

from __future__ import annotations

from typing import Any

from django_otp.oath import TOTP

from xueji.accounts.second_factor.models import Authenticator
from xueji.accounts.second_factor.services import (
    Enrolment,
    second_factor_code_issue,
    second_factor_enrol,
)

KEY = "3132333435363738393031323334353637383930"


def code_for(key: str, offset_steps: int = 0) -> str:
    totp = TOTP(bytes.fromhex(key))
    totp.time = totp.time + offset_steps * 30
    return f"{totp.token():06d}"


def enrol(user: Any, key: str = KEY) -> Enrolment:
    """Set up `user`'s authenticator with secret `key`; the codes of the current step stay
    usable afterwards (the device is stepped back past the enrolment's own code)."""
    issued = second_factor_code_issue(actor=None, user=user)
    enrolment = second_factor_enrol(
        actor=user, enrolment_code=issued.code, key=key, token=code_for(key)
    )
    Authenticator.objects.filter(pk=enrolment.device.pk).update(last_t=enrolment.device.last_t - 3)
    return enrolment
