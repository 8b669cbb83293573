"""Forms of the account administration: they parse; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.accounts.administration.selectors import AccountFilter, AccountState
from xueji.core.names import person_name


class AccountFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Name or login name"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    role = forms.ChoiceField(label=_("Role"), required=False)
    level = forms.ChoiceField(label=_("Level"), required=False)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Any")), *AccountState.CHOICES],
    )
    place = forms.RegexField(
        label=_("School or division code"),
        regex=r"^([0-9]{6}|[0-9]{10})$",
        required=False,
        error_messages={
            "invalid": _("A school code has 10 digits, a division code 6."),
        },
    )

    def __init__(self, *args: Any, roles: Any = (), levels: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("Any")), *roles]  # type: ignore[attr-defined]
        self.fields["level"].choices = [("", _("Any")), *levels]  # type: ignore[attr-defined]

    def wanted(self) -> AccountFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return AccountFilter(
            q=(data.get("q") or "").strip(),
            role=data.get("role") or "",
            level=data.get("level") or "",
            state=data.get("state") or "",
            place=data.get("place") or "",
        )


class AccountForm(forms.Form):
    login_name = forms.CharField(
        label=_("Login name"),
        max_length=32,
        help_text=_(
            "3 to 32 letters, digits, '.', '_' or '-'. It can never be changed or used again."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("Name"), max_length=30)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=11,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    role = forms.ChoiceField(label=_("Role"))
    school_code = forms.CharField(
        label=_("School code (学校标识码)"),
        max_length=10,
        required=False,
        help_text=_("For school staff: the school's 10-digit code."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    division_code = forms.CharField(
        label=_("Division code"),
        max_length=6,
        required=False,
        help_text=_(
            "For bureau staff and administrators: the 6-digit code of the county, city or "
            "province; empty for the nation."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, roles: Any = (), creating: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "—"), *roles]  # type: ignore[attr-defined]
        if not creating:
            del self.fields["login_name"]


class SealForm(forms.Form):
    note = forms.CharField(label=_("Why (kept in the audit trail)"), max_length=200, required=False)


class RemoveForm(forms.Form):
    reason = forms.CharField(label=_("Why the account is removed"), max_length=200)
    confirm = forms.BooleanField(
        label=_("I understand that the account can never be used again."), required=True
    )


class HandOverForm(forms.Form):
    successor = forms.TypedChoiceField(label=_("Successor"), coerce=int)

    def __init__(self, *args: Any, successors: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["successor"].choices = [  # type: ignore[attr-defined]
            (user.pk, f"{user.get_username()} · {person_name(user, '—')}") for user in successors
        ]


class BulkUploadForm(forms.Form):
    file = forms.FileField(label=_("Accounts sheet (.xlsx)"))


class BulkConfirmForm(forms.Form):
    sheet = forms.CharField(widget=forms.HiddenInput)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, and not a common password."),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two new passwords differ."))
        return cleaned
