"""Account pages: setting up and using the second factor, and reopening sealed accounts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.util import random_hex

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.accounts.forms import ReopenForm, TokenForm
from xueji.accounts.selectors import authenticator_setup, has_second_factor, sealed_accounts
from xueji.accounts.services import account_reopen, second_factor_verify, totp_enrol
from xueji.core.errors import Conflict, FieldErrors, ServiceError

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


def _add_token_errors(form: TokenForm, errors: FieldErrors) -> None:
    for error in errors.errors.get("token", []):
        form.add_error("token", error)


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.HOME)
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """The first time: scan the QR code (or type the key) into an authenticator app, then
    prove it with the code it shows."""
    key = request.session.get(SETUP_KEY_SESSION) or random_hex(20)
    request.session[SETUP_KEY_SESSION] = key
    form = TokenForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            device = totp_enrol(actor=request.user, key=key, token=form.cleaned_data["token"])
        except FieldErrors as errors:
            _add_token_errors(form, errors)
        except Conflict:
            return _to("accounts:second_factor", request)
        else:
            del request.session[SETUP_KEY_SESSION]
            otp_login(request, device)
            messages.success(request, _("The authenticator app is set up for this account."))
            return redirect(_next_url(request))
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
            _add_token_errors(form, errors)
        except Conflict:
            return _to("accounts:second_factor_setup", request)
        else:
            otp_login(request, device)
            return redirect(_next_url(request))
    elif not form.is_bound and not has_second_factor(request.user):
        return _to("accounts:second_factor_setup", request)
    return render(
        request, "accounts/second_factor.html", {"form": form, "next": _next_url(request)}
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ACCOUNT_MANAGE)
def sealed(request: HttpRequest) -> HttpResponse:
    """Accounts of the area sealed for lack of use; the account manager reopens them."""
    if request.method == "POST":
        form = ReopenForm(request.POST)
        if form.is_valid():
            try:
                seal = account_reopen(actor=request.user, user_id=form.cleaned_data["user"])
            except ServiceError as refused:
                messages.error(request, str(refused.message))
            else:
                messages.success(
                    request,
                    _("%(user)s is reopened and can log in again.")
                    % {"user": seal.user.get_username()},
                )
        return redirect("accounts:sealed")
    try:
        seals = sealed_accounts(request.user)
    except ServiceError as refused:
        return render(request, "403.html", {"exception": refused.message}, status=refused.status)
    return render(request, "accounts/sealed.html", {"seals": seals})
