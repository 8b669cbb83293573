"""The basic information (基础学籍信息, DOMAIN §3) a key-data correction may change: each field
with the record attribute that holds it, how it is stored in a request and shown on screen."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from xueji.core import codes
from xueji.core.crypto import decrypt, encrypt
from xueji.core.idnumbers import mask_id_number
from xueji.geo.models import Division

ID_NUMBER_CONTEXT = "correction.id_number"


@dataclass(frozen=True)
class BasicField:
    name: str  # as in StudentData and the forms
    attribute: str  # the Student attribute holding the value
    label: Promise
    sensitive: bool = False  # kept encrypted in the request, masked on screen


BASIC_FIELDS: tuple[BasicField, ...] = (
    BasicField("name", "name", _("Name")),
    BasicField("sex", "sex", _("Sex")),
    BasicField("birth_date", "birth_date", _("Birth date")),
    BasicField("birthplace_code", "birthplace_id", _("Birthplace")),
    BasicField("native_place_code", "native_place_id", _("Native place")),
    BasicField("ethnicity", "ethnicity", _("Ethnicity")),
    BasicField("nationality", "nationality", _("Nationality or region")),
    BasicField("id_doc_type", "id_doc_type", _("Identity document type")),
    BasicField("id_number", "id_number", _("Identity document number"), sensitive=True),
    BasicField(
        "overseas_status",
        "overseas_status",
        _("Hong Kong, Macao, Taiwan, overseas Chinese or foreign"),
    ),
    BasicField("health", "health", _("Health")),
    BasicField("hukou_division_code", "hukou_division_id", _("Household registration place")),
    BasicField("hukou_nature", "hukou_nature", _("Household registration type")),
)
BY_NAME = {f.name: f for f in BASIC_FIELDS}


def text_of(value: Any) -> str:
    """A value as kept in a request: text, dates in ISO form, nothing as ""."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def current_values(student: Any) -> dict[str, str]:
    """The record's basic information as text, by field name."""
    return {f.name: text_of(value_of(student, f.attribute)) for f in BASIC_FIELDS}


def value_of(student: Any, attribute: str) -> Any:
    """A record attribute's value; the ID number is unsealed (it is stored encrypted)."""
    if attribute == "id_number":
        return student.reveal_id_number()
    return getattr(student, attribute)


def typed(name: str, text: str) -> Any:
    """A requested value in the type the record and the checks use."""
    if name == "birth_date":
        return datetime.date.fromisoformat(text)
    return text


def seal(name: str, text: str) -> str:
    """What a request keeps of a value: ID numbers are encrypted."""
    if not (BY_NAME[name].sensitive and text):
        return text
    return encrypt(text, context=ID_NUMBER_CONTEXT)


def unseal(name: str, kept: str) -> str:
    if not (BY_NAME[name].sensitive and kept):
        return kept
    return decrypt(kept, context=ID_NUMBER_CONTEXT)


_CHOICES: dict[str, Any] = {
    "sex": dict(codes.Sex.choices),
    "ethnicity": codes.ETHNICITY_NAMES,
    "id_doc_type": dict(codes.IdDocType.choices),
    "overseas_status": dict(codes.OverseasStatus.choices),
    "health": dict(codes.Health.choices),
    "hukou_nature": dict(codes.HukouNature.choices),
}


def shown(name: str, kept: str) -> str:
    """A value for the screen and the audit trail: codes by their label, ID numbers masked."""
    if not kept:
        return "—"
    if BY_NAME[name].sensitive:
        return mask_id_number(unseal(name, kept))
    if name in _CHOICES:
        label = _CHOICES[name].get(kept)
        return f"{label}" if label is not None else kept
    if name.endswith("_code"):
        division = Division.objects.filter(pk=kept).only("name").first()
        return f"{division.name} ({kept})" if division else kept
    return kept
