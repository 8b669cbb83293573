"""System checks of changes of status: the province rules and the closed periods of the settings
follow their schema (xueji.changes.rules); a misspelled key or a wrong type stops the server
with a message naming it, instead of being ignored."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from xueji.changes.rules import RulesError, closed_periods_validate, province_rules_validate
from xueji.changes.windows import DEFAULT_CLOSED_PERIODS

HINT = "See README.md, Configuration: XUEJI_PROVINCE_RULES and XUEJI_CHANGE_CLOSED_PERIODS."


def check_change_rules(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    for check_id, validate, value in (
        (
            "xueji_changes.E001",
            province_rules_validate,
            getattr(settings, "XUEJI_PROVINCE_RULES", {}),
        ),
        (
            "xueji_changes.E002",
            closed_periods_validate,
            getattr(settings, "XUEJI_CHANGE_CLOSED_PERIODS", DEFAULT_CLOSED_PERIODS),
        ),
    ):
        try:
            validate(value)
        except RulesError as error:
            problems.append(Error(str(error), hint=HINT, id=check_id))
    return problems
