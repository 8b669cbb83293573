"""Pages of the second factor: the user sets up the authenticator app (with an administrator's
enrolment code), enters its code after the password, or uses a recovery code; an administrator
issues enrolment codes and resets a lost authenticator."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.util import random_hex

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.accounts.forms import TokenForm
from xueji.accounts.second_factor.forms import EnrolmentForm, ManageForm, RecoveryForm
from xueji.accounts.second_factor.selectors import (
    authenticator_setup,
    has_recovery_codes,
    has_second_factor,
    second_factor_status,
)
from xueji.accounts.second_factor.services import (
    second_factor_code_issue,
    second_factor_enrol,
    second_factor_recover,
    second_factor_reset,
    second_factor_verify,
)
from xueji.core.errors import Conflict, FieldErrors, NotFound, ServiceError

SETUP_KEY_SESSION = "xueji_totp_setup_key"


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _to(name: str, request: HttpRequest) -> HttpResponse:
    """A redirect to another account page, passing on where the user was going."""
    return redirect(f"{resolve_url(name)}?{urlencode({'next': _next_url(request)})}")


def _add_errors(form: Form, errors: FieldErrors) -> None:
    for field, found in errors.errors.items():
        for error in found:
            form.add_error(field if field in form.fields else None, error)


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.HOME)
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """The first time: the enrolment code from the administrator, then the QR code (or the key)
    scanned into an authenticator app, proved with the code it shows. The recovery codes are
    shown once, on the page this answers with."""
    key = request.session.get(SETUP_KEY_SESSION) or random_hex(20)
    request.session[SETUP_KEY_SESSION] = key
    form = EnrolmentForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            enrolment = second_factor_enrol(
                actor=request.user,
                enrolment_code=form.cleaned_data["enrolment_code"],
                key=key,
                token=form.cleaned_data["token"],
            )
        except FieldErrors as errors:
            _add_errors(form, errors)
        except Conflict:
            return _to("accounts:second_factor", request)
        else:
            del request.session[SETUP_KEY_SESSION]
            otp_login(request, enrolment.device)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": enrolment.recovery_codes, "next": _next_url(request)},
            )
    setup = authenticator_setup(request.user, key)
    if setup.already_set_up:
        return _to("accounts:second_factor", request)
    return render(
        request,
        "accounts/second_factor_setup.html",
        {"form": form, "setup": setup, "next": _next_url(request)},
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.HOME)
def second_factor(request: HttpRequest) -> HttpResponse:
    """After the password: the code the user's authenticator app shows now."""
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(_next_url(request))
    form = TokenForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            device = second_factor_verify(actor=request.user, token=form.cleaned_data["token"])
        except FieldErrors as errors:
            _add_errors(form, errors)
        except Conflict:
            return _to("accounts:second_factor_setup", request)
        else:
            otp_login(request, device)
            return redirect(_next_url(request))
    elif not form.is_bound and not has_second_factor(request.user):
        return _to("accounts:second_factor_setup", request)
    return render(
        request,
        "accounts/second_factor.html",
        {
            "form": form,
            "next": _next_url(request),
            "has_recovery_codes": has_recovery_codes(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.HOME)
def second_factor_recovery(request: HttpRequest) -> HttpResponse:
    """Without the phone: one of the recovery codes shown at the set-up, once each."""
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(_next_url(request))
    form = RecoveryForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            recovery = second_factor_recover(
                actor=request.user, code=form.cleaned_data["recovery_code"]
            )
        except FieldErrors as errors:
            _add_errors(form, errors)
        except Conflict as refused:
            messages.error(request, str(refused.message))
        else:
            otp_login(request, recovery.device)
            messages.warning(
                request,
                _(
                    "You logged in with a recovery code; %(left)d are left. If the phone is "
                    "lost, ask your administrator to reset the authenticator."
                )
                % {"left": recovery.codes_left},
            )
            return redirect(_next_url(request))
    return render(
        request,
        "accounts/second_factor_recovery.html",
        {
            "form": form,
            "next": _next_url(request),
            "has_recovery_codes": has_recovery_codes(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ACCOUNT_SECOND_FACTOR_MANAGE)
def second_factor_manage(request: HttpRequest, user_id: int) -> HttpResponse:
    """An account's second factor, for the administrator: issue an enrolment code (shown once,
    on the page this answers with) or reset a lost authenticator. Both are confirmed first."""
    try:
        status = second_factor_status(request.user, user_id)
    except NotFound as missing:
        raise Http404(str(missing.message)) from None
    except ServiceError as refused:  # no role at all
        raise PermissionDenied(str(refused.message)) from None
    context: dict[str, Any] = {"status": status, "confirm": request.GET.get("confirm", "")}
    if request.method == "POST":
        form = ManageForm(request.POST)
        if not form.is_valid():
            return redirect("accounts:second_factor_manage", user_id=user_id)
        step = form.cleaned_data["step"]
        if not form.cleaned_data["confirmed"]:
            context["confirm"] = step
            return render(request, "accounts/second_factor_manage.html", context)
        try:
            if step == ManageForm.ISSUE:
                issued = second_factor_code_issue(actor=request.user, user=status.user)
            else:
                reset = second_factor_reset(actor=request.user, user=status.user)
        except ServiceError as refused:
            messages.error(request, str(refused.message))
            return redirect("accounts:second_factor_manage", user_id=user_id)
        if step == ManageForm.ISSUE:
            context.update(
                status=second_factor_status(request.user, user_id), issued=issued, confirm=""
            )
            return render(request, "accounts/second_factor_manage.html", context)
        messages.success(
            request,
            _(
                "The authenticator of %(user)s is reset (%(codes)d recovery codes removed). "
                "Issue an enrolment code to set up a new one."
            )
            % {"user": reset.user.get_username(), "codes": reset.recovery_codes},
        )
        return redirect("accounts:second_factor_manage", user_id=user_id)
    return render(request, "accounts/second_factor_manage.html", context)
