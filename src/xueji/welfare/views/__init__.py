"""The welfare pages: funding, aid, meals and the consistency checks, one module each."""

from xueji.welfare.views.aid import (
    aid_home,
    application_decide,
    apply,
    entitled,
    finance,
    need_assess,
    need_decide,
    need_new,
    notice,
    payments,
    programme_new,
)
from xueji.welfare.views.checks import checks_home, checks_run, finding_detail, finding_explain
from xueji.welfare.views.funding import census, flows, funding_home, rate_new, rates
from xueji.welfare.views.meals import (
    meal_claim,
    meal_lookup,
    meal_record,
    meal_settings,
    meal_week,
    meals_home,
)

__all__ = [
    "aid_home",
    "application_decide",
    "apply",
    "census",
    "checks_home",
    "checks_run",
    "entitled",
    "finance",
    "finding_detail",
    "finding_explain",
    "flows",
    "funding_home",
    "meal_claim",
    "meal_lookup",
    "meal_record",
    "meal_settings",
    "meal_week",
    "meals_home",
    "need_assess",
    "need_decide",
    "need_new",
    "notice",
    "payments",
    "programme_new",
    "rate_new",
    "rates",
]
