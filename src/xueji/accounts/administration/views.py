"""Pages of the account administration: the list (the security administrator's home), one
account with its actions, each irreversible one behind a confirmation page, the bulk creation
from a sheet, and the user's own password change.

A password chosen by the system (a new account's, a reset's, a sheet's) is shown on the page that
answers the request and nowhere else: it is not stored, and the page is not cached.
"""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import form_submitted, refusal_as_message, refusal_response
from xueji.access.policy import Action
from xueji.access.scope import require
from xueji.accounts.administration import bulk
from xueji.accounts.administration.forms import (
    AccountFilterForm,
    AccountForm,
    BulkConfirmForm,
    BulkUploadForm,
    HandOverForm,
    PasswordChangeForm,
    RemoveForm,
    SealForm,
)
from xueji.accounts.administration.middleware import password_changed
from xueji.accounts.administration.selectors import (
    account_detail,
    account_list,
    levels_to_give,
    roles_to_give,
)
from xueji.accounts.administration.services import (
    AccountData,
    account_create,
    account_edit,
    account_password_reset,
    account_remove,
    account_seal,
    account_unseal,
    open_items_hand_over,
    password_change,
)
from xueji.accounts.administration.sheet import SheetRefused
from xueji.core.errors import ServiceError

ACCOUNTS_PER_PAGE = 50
BULK_SALT = "xueji.accounts.bulk"
BULK_MAX_AGE = 3600
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _posted(request: HttpRequest) -> Any:
    """The posted data, or None for a GET (an empty POST, as a confirmation is, is bound)."""
    return request.POST if request.method == "POST" else None


def _detail_or_refusal(request: HttpRequest, user_id: int) -> Any:
    try:
        return account_detail(request.user, user_id)
    except ServiceError as refused:
        response = refusal_response(request, refused)
        if response is None:
            raise
        return response


@require_GET
@login_required
@requires(Action.ACCOUNT_MANAGE)
def account_list_page(request: HttpRequest) -> HttpResponse:
    scope = require(request.user, Action.ACCOUNT_MANAGE)
    form = AccountFilterForm(
        request.GET or None, roles=roles_to_give(scope), levels=levels_to_give(scope)
    )
    wanted = form.wanted()
    page = Paginator(account_list(request.user, wanted), ACCOUNTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/administration/list.html",
        {"form": form, "page": page, "filtered": bool(request.GET.dict().keys() - {"page"})},
    )


def _account_data(form: AccountForm) -> AccountData:
    data = form.cleaned_data
    return AccountData(
        name=data["name"],
        phone=data.get("phone") or "",
        role=data["role"],
        school_code=data.get("school_code") or "",
        division_code=data.get("division_code") or "",
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ACCOUNT_MANAGE)
def account_create_page(request: HttpRequest) -> HttpResponse:
    scope = require(request.user, Action.ACCOUNT_MANAGE)
    form = AccountForm(_posted(request), roles=roles_to_give(scope))

    def save() -> HttpResponse:
        created = account_create(
            actor=request.user,
            login_name=form.cleaned_data["login_name"],
            data=_account_data(form),
        )
        return render(
            request,
            "accounts/administration/password_shown.html",
            {"account": created.user, "password": created.password, "created": True},
        )

    answered = form_submitted(request, form, save) if form.is_bound else None
    return answered or render(
        request, "accounts/administration/form.html", {"form": form, "creating": True}
    )


@require_GET
@login_required
@requires(Action.ACCOUNT_MANAGE)
def account_page(request: HttpRequest, user_id: int) -> HttpResponse:
    view = _detail_or_refusal(request, user_id)
    if isinstance(view, HttpResponse):
        return view
    return render(request, "accounts/administration/detail.html", {"view": view})


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ACCOUNT_MANAGE)
def account_edit_page(request: HttpRequest, user_id: int) -> HttpResponse:
    view = _detail_or_refusal(request, user_id)
    if isinstance(view, HttpResponse):
        return view
    scope = require(request.user, Action.ACCOUNT_MANAGE)
    membership = view.membership
    initial = {
        "name": view.user.last_name,
        "phone": view.profile.phone if view.profile else "",
        "role": membership.role if membership else "",
        "school_code": membership.school.code if membership and membership.school else "",
        "division_code": membership.division_id or "" if membership else "",
    }
    form = AccountForm(
        _posted(request), initial=initial, roles=roles_to_give(scope), creating=False
    )

    def save() -> HttpResponse:
        account_edit(actor=request.user, user_id=user_id, data=_account_data(form))
        messages.success(request, _("The account is saved."))
        return redirect("accounts:account", user_id=user_id)

    answered = form_submitted(request, form, save) if form.is_bound else None
    return answered or render(
        request,
        "accounts/administration/form.html",
        {"form": form, "creating": False, "view": view},
    )


def _confirmed_action(
    request: HttpRequest,
    user_id: int,
    template: str,
    form: Any,
    act: Any,
) -> HttpResponse:
    """A confirmation page (GET), and the action once its form is posted and valid."""
    view = _detail_or_refusal(request, user_id)
    if isinstance(view, HttpResponse):
        return view
    if request.method == "POST" and form.is_valid():
        try:
            return act(view)  # type: ignore[no-any-return]
        except ServiceError as refused:
            response = refusal_as_message(request, refused)
            if response is not None:
                return response
            return redirect("accounts:account", user_id=user_id)
    return render(request, template, {"view": view, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ACCOUNT_MANAGE)
def account_seal_page(request: HttpRequest, user_id: int) -> HttpResponse:
    form = SealForm(_posted(request))

    def act(view: Any) -> HttpResponse:
        account_seal(actor=request.user, user_id=user_id, note=form.cleaned_data["note"])
        messages.success(
            request,
            _("%(user)s is sealed: it cannot log in until it is reopened.")
            % {"user": view.user.get_username()},
        )
        return redirect("accounts:account", user_id=user_id)

    return _confirmed_action(
        request, user_id, "accounts/administration/confirm_seal.html", form, act
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ACCOUNT_MANAGE)
def account_reopen_page(request: HttpRequest, user_id: int) -> HttpResponse:
    form = SealForm(_posted(request))

    def act(view: Any) -> HttpResponse:
        account_unseal(actor=request.user, user_id=user_id)
        messages.success(
            request,
            _("%(user)s is reopened and can log in again.") % {"user": view.user.get_username()},
        )
        return redirect("accounts:account", user_id=user_id)

    return _confirmed_action(
        request, user_id, "accounts/administration/confirm_reopen.html", form, act
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ACCOUNT_MANAGE)
def account_remove_page(request: HttpRequest, user_id: int) -> HttpResponse:
    form = RemoveForm(_posted(request))

    def act(view: Any) -> HttpResponse:
        account_remove(actor=request.user, user_id=user_id, reason=form.cleaned_data["reason"])
        messages.success(
            request,
            _("%(user)s is removed for ever; its login name will never be used again.")
            % {"user": view.user.get_username()},
        )
        return redirect("accounts:account", user_id=user_id)

    return _confirmed_action(
        request, user_id, "accounts/administration/confirm_remove.html", form, act
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ACCOUNT_MANAGE)
def account_password_page(request: HttpRequest, user_id: int) -> HttpResponse:
    form = SealForm(_posted(request))

    def act(view: Any) -> HttpResponse:
        reset = account_password_reset(actor=request.user, user_id=user_id)
        return render(
            request,
            "accounts/administration/password_shown.html",
            {"account": reset.user, "password": reset.password, "created": False},
        )

    return _confirmed_action(
        request, user_id, "accounts/administration/confirm_password.html", form, act
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ACCOUNT_MANAGE)
def account_hand_over_page(request: HttpRequest, user_id: int) -> HttpResponse:
    view = _detail_or_refusal(request, user_id)
    if isinstance(view, HttpResponse):
        return view
    form = HandOverForm(_posted(request), successors=view.successors)

    def save() -> HttpResponse:
        handed = open_items_hand_over(
            actor=request.user, from_user_id=user_id, to_user_id=form.cleaned_data["successor"]
        )
        messages.success(
            request,
            _("%(count)d open items of %(from)s now belong to %(to)s.")
            % {
                "count": handed.count,
                "from": handed.predecessor.get_username(),
                "to": handed.successor.get_username(),
            },
        )
        return redirect("accounts:account", user_id=user_id)

    answered = form_submitted(request, form, save) if form.is_bound else None
    return answered or render(
        request, "accounts/administration/hand_over.html", {"view": view, "form": form}
    )


# ---- bulk creation from a sheet ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.ACCOUNT_MANAGE)
def bulk_page(request: HttpRequest) -> HttpResponse:
    """Upload a sheet: its errors, or what it would create and a button to create it."""
    form = BulkUploadForm(_posted(request), request.FILES if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form, "columns": bulk.COLUMNS}
    if form.is_bound and form.is_valid():
        try:
            checked = bulk.accounts_sheet_check(
                actor=request.user, stream=form.cleaned_data["file"]
            )
        except SheetRefused as refused:
            form.add_error("file", str(refused.message))
        else:
            context["checked"] = checked
            if checked.valid:
                context["confirm"] = BulkConfirmForm(
                    initial={"sheet": _sealed_rows(request, checked.rows)}
                )
    return render(request, "accounts/administration/bulk.html", context)


def _sealed_rows(request: HttpRequest, rows: list[bulk.AccountRow]) -> str:
    """The checked rows, signed for the confirmation (and for this user only)."""
    payload = {
        "user": request.user.pk,
        "rows": [
            [row.row, row.school_code, row.name, row.login_name, row.role, row.phone]
            for row in rows
        ],
    }
    return signing.dumps(payload, salt=BULK_SALT, compress=True)


def _unsealed_rows(request: HttpRequest, sealed: str) -> list[bulk.AccountRow] | None:
    try:
        payload = signing.loads(sealed, salt=BULK_SALT, max_age=BULK_MAX_AGE)
    except signing.BadSignature:
        return None
    if payload.get("user") != request.user.pk:
        return None
    return [bulk.AccountRow(*values) for values in payload["rows"]]


@require_POST
@login_required
@requires(Action.ACCOUNT_MANAGE)
def bulk_create_page(request: HttpRequest) -> HttpResponse:
    """Create the accounts of a checked sheet; the result, with the initial passwords, is shown
    once, on this answer only (a download built into the page, and the table)."""
    form = BulkConfirmForm(request.POST)
    rows = _unsealed_rows(request, form.data.get("sheet", "")) if form.is_valid() else None
    if rows is None:
        messages.error(request, _("The checked sheet has expired: upload it again."))
        return redirect("accounts:bulk")
    try:
        created = bulk.accounts_bulk_create(actor=request.user, rows=rows)
    except SheetRefused as refused:
        return render(
            request,
            "accounts/administration/bulk.html",
            {
                "form": BulkUploadForm(),
                "columns": bulk.COLUMNS,
                "checked": bulk.CheckedSheet([], refused.details.get("errors", [])),
                "refused": refused.message,
            },
        )
    except ServiceError as refused:
        response = refusal_as_message(request, refused)
        return response or redirect("accounts:bulk")
    workbook = base64.b64encode(bulk.result_workbook(created)).decode()
    return render(
        request,
        "accounts/administration/bulk_done.html",
        {"created": created, "download": f"data:{XLSX};base64,{workbook}"},
    )


@require_GET
@login_required
@requires(Action.ACCOUNT_MANAGE)
def bulk_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(bulk.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="accounts.xlsx"'
    return response


# ---- the user's own password -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.HOME)
def password_change_page(request: HttpRequest) -> HttpResponse:
    """Choose an own password; after one somebody else chose, nothing else opens until then."""
    form = PasswordChangeForm(_posted(request))

    def save() -> HttpResponse:
        user = password_change(
            actor=request.user,
            old_password=form.cleaned_data["old_password"],
            new_password=form.cleaned_data["new_password1"],
        )
        update_session_auth_hash(request, user)
        password_changed(request)
        messages.success(request, _("Your password is changed."))
        wanted = request.GET.get("next", "")
        if wanted and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(wanted)
        return redirect("students:home")

    answered = form_submitted(request, form, save) if form.is_bound else None
    return answered or render(
        request, "accounts/administration/password_change.html", {"form": form}
    )
