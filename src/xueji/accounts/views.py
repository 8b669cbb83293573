"""Account pages: reopening sealed accounts (the second factor's pages are in
accounts.second_factor.views)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.accounts.forms import ReopenForm
from xueji.accounts.selectors import sealed_accounts
from xueji.accounts.services import account_reopen
from xueji.core.errors import ServiceError


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
