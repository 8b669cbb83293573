"""Forms of the second factor's pages: they parse; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.accounts.forms import TokenForm


def _code_input(**attrs: object) -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "class": "mono",
            **attrs,
        }
    )


class EnrolmentForm(TokenForm):
    enrolment_code = forms.CharField(
        label=_("Enrolment code from your administrator"),
        max_length=40,
        widget=_code_input(autofocus=True),
        help_text=_("Single use, valid for a few days: ask your administrator if you have none."),
    )
    field_order = ["enrolment_code", "token"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["token"].widget.attrs.pop("autofocus", None)


class RecoveryForm(forms.Form):
    recovery_code = forms.CharField(
        label=_("Recovery code"), max_length=40, widget=_code_input(autofocus=True)
    )


class ManageForm(forms.Form):
    """The administrator's buttons: what to do, and whether they confirmed it."""

    ISSUE = "issue"
    RESET = "reset"

    step = forms.ChoiceField(choices=[(ISSUE, ISSUE), (RESET, RESET)])
    confirmed = forms.BooleanField(required=False)
