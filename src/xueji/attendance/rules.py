"""A province's dropout-control settings (xueji.attendance.models.ProvinceSettings); a province
without a row has the defaults, which `settings.XUEJI_ATTENDANCE` (a dict of the same field
names) may change for the whole installation."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from xueji.attendance.models import ProvinceSettings

FIELDS = (
    "unexcused_run_days",
    "unexcused_term_days",
    "returned_after_days",
    "hollow_after_days",
    "cluster_children",
    "cluster_days",
    "step_deadline_working_days",
    "graduate_grade",
)


def province_code_of(division_code: str) -> str:
    return division_code[:2] + "0000"


def _model_default(name: str) -> int:
    field: Any = ProvinceSettings._meta.get_field(name)
    return int(field.default)


def installation_defaults() -> dict[str, int]:
    """The value of each setting for a province that saved none: the model's default, or
    `settings.XUEJI_ATTENDANCE` (the environment) where it names the field. Defaults only: a
    province's saved row wins."""
    configured = getattr(settings, "XUEJI_ATTENDANCE", None) or {}
    return {name: int(configured.get(name, _model_default(name))) for name in FIELDS}


def settings_for(division_code: str) -> ProvinceSettings:
    """The settings of the province holding the division (a saved row, or the defaults)."""
    code = province_code_of(division_code)
    found = ProvinceSettings.objects.filter(province_id=code).first()
    if found is not None:
        return found
    return ProvinceSettings(province_id=code, **installation_defaults())
