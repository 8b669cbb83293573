"""Province rules of changes of status, and the closed periods of the settings, as typed objects
with one schema. Pure: the settings' JSON (XUEJI_PROVINCE_RULES, XUEJI_CHANGE_CLOSED_PERIODS)
is parsed here by the code that reads it (xueji.changes.windows), by the system check that
refuses a wrong one at start-up (xueji.changes.checks), and by the page that edits a province's
rules (`province_rules_validate`, xueji.changes.services.province_rules): a misspelled key or a
value of the wrong type is an error naming the province, the key and the reason, never ignored.
The settings are defaults: what the ministry and the provinces set on their pages wins.

    XUEJI_PROVINCE_RULES = {"44": {
        "no_transfer_in_graduating_grade": true,
        "same_grade_only": true,
        "closed": [{"kind": "transfer", "from": "08-15", "to": "08-31"}]}}
    XUEJI_CHANGE_CLOSED_PERIODS = {
        "nation": [{"kind": "transfer", "from": "07-15", "to": "08-14"}]}
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from xueji.changes.models import OPERATIONS

NATION = "nation"
PROVINCE_CODE = re.compile(r"^[0-9]{2}$")
MONTH_DAY = re.compile(r"^[0-9]{2}-[0-9]{2}$")


class RulesError(ValueError):
    """A rule that cannot be read: `setting`, the province (or "nation"), the key (a dotted
    path such as closed[0].from, "" for the province itself), a machine `code` and the reason."""

    def __init__(self, *, setting: str, where: str, key: str, code: str, reason: str):
        self.setting = setting
        self.where = where
        self.key = key
        self.code = code
        self.reason = reason
        place = f"province {where!r}" if where != NATION else "nation"
        named = f", key {key!r}" if key else ""
        super().__init__(f"{setting}: {place}{named}: {reason}")


@dataclass(frozen=True)
class ClosedPeriod:
    """`kind` (a kind of change, whose new requests are held, or "yearend" or "verification",
    which do not run) is closed from `start` to `end` (month, day), both included, every year;
    it may run over the new year."""

    kind: str
    start: tuple[int, int]
    end: tuple[int, int]


@dataclass(frozen=True)
class ProvinceRule:
    """One province's rules; a province not configured has the defaults."""

    # No transfer out of or into the last grade of a school (毕业年级).
    no_transfer_in_graduating_grade: bool = False
    # A transfer keeps the child's grade.
    same_grade_only: bool = False
    # Closed periods of the province, beside the nation's.
    closed: tuple[ClosedPeriod, ...] = ()


DEFAULT_RULE = ProvinceRule()


@dataclass(frozen=True)
class ProvinceRules:
    """The rules of every configured province, by 2-digit code."""

    provinces: Mapping[str, ProvinceRule] = field(default_factory=dict)

    def of(self, province_code: str) -> ProvinceRule:
        """The rules of a province (a 2- or 6-digit code), the defaults if not configured."""
        return self.provinces.get(province_code[:2], DEFAULT_RULE)


# The keys a province's rules may have, and the type of each (one schema: the dataclass).
_RULE_KEYS = {f.name for f in dataclasses.fields(ProvinceRule)}
_PERIOD_KEYS = ("kind", "from", "to")


def _type_name(value: Any) -> str:
    return {bool: "true/false", str: "text", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


class _Reader:
    def __init__(self, setting: str):
        self.setting = setting

    def error(self, where: str, key: str, code: str, reason: str) -> RulesError:
        return RulesError(setting=self.setting, where=where, key=key, code=code, reason=reason)

    def month_day(self, where: str, key: str, value: Any) -> tuple[int, int]:
        if not isinstance(value, str) or not MONTH_DAY.match(value):
            raise self.error(where, key, "wrong_type", f"expected a date as MM-DD, got {value!r}")
        month, day = int(value[:2]), int(value[3:])
        try:
            datetime.date(2024, month, day)  # a leap year: 02-29 is a valid yearly date
        except ValueError:
            raise self.error(
                where, key, "bad_value", f"{value!r} is not a day of the year"
            ) from None
        return month, day

    def periods(self, where: str, key: str, value: Any) -> tuple[ClosedPeriod, ...]:
        if not isinstance(value, list):
            raise self.error(where, key, "wrong_type", f"expected a list, got {_type_name(value)}")
        found = []
        for index, item in enumerate(value):
            at = f"{key}[{index}]"
            if not isinstance(item, dict):
                raise self.error(
                    where, at, "wrong_type", f"expected an object, got {_type_name(item)}"
                )
            for name in item:
                if name not in _PERIOD_KEYS:
                    raise self.error(
                        where,
                        f"{at}.{name}",
                        "unknown_key",
                        f"unknown key (expected {', '.join(_PERIOD_KEYS)})",
                    )
            for name in _PERIOD_KEYS:
                if name not in item:
                    raise self.error(where, f"{at}.{name}", "missing", "missing")
            kind = item["kind"]
            if kind not in OPERATIONS:
                raise self.error(
                    where,
                    f"{at}.kind",
                    "bad_value",
                    f"unknown kind of change {kind!r} (expected one of {', '.join(OPERATIONS)})",
                )
            found.append(
                ClosedPeriod(
                    kind=str(kind),
                    start=self.month_day(where, f"{at}.from", item["from"]),
                    end=self.month_day(where, f"{at}.to", item["to"]),
                )
            )
        return tuple(found)

    def rule(self, where: str, value: Any) -> ProvinceRule:
        if not isinstance(value, dict):
            raise self.error(
                where, "", "wrong_type", f"expected an object, got {_type_name(value)}"
            )
        values: dict[str, Any] = {}
        for key, item in value.items():
            if key not in _RULE_KEYS:
                raise self.error(
                    where,
                    str(key),
                    "unknown_key",
                    f"unknown key (expected {', '.join(sorted(_RULE_KEYS))})",
                )
            if key == "closed":
                values[key] = self.periods(where, key, item)
            elif not isinstance(item, bool):
                raise self.error(where, key, "wrong_type", f"expected true or false, got {item!r}")
            else:
                values[key] = item
        return ProvinceRule(**values)


def province_rules_validate(value: Any, *, setting: str = "XUEJI_PROVINCE_RULES") -> ProvinceRules:
    """Province rules from their JSON value (an object by 2-digit province code); RulesError
    naming the province, the key and the reason at the first thing wrong."""
    reader = _Reader(setting)
    if value is None:
        return ProvinceRules()
    if not isinstance(value, dict):
        raise RulesError(
            setting=setting,
            where=NATION,
            key="",
            code="wrong_type",
            reason=f"expected an object by 2-digit province code, got {_type_name(value)}",
        )
    provinces: dict[str, ProvinceRule] = {}
    for code, rule in value.items():
        if not isinstance(code, str) or not PROVINCE_CODE.match(code):
            raise reader.error(
                str(code), "", "bad_value", "a province is named by its 2-digit code, e.g. 44"
            )
        provinces[code] = reader.rule(code, rule)
    return ProvinceRules(provinces=provinces)


def closed_periods_validate(
    value: Any, *, setting: str = "XUEJI_CHANGE_CLOSED_PERIODS"
) -> tuple[ClosedPeriod, ...]:
    """The nation's closed periods from their JSON value ({"nation": [periods]}, the same
    period schema as a province's "closed"); RulesError at the first thing wrong."""
    reader = _Reader(setting)
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise reader.error(NATION, "", "wrong_type", f"expected an object, got {_type_name(value)}")
    for key in value:
        if key != NATION:
            raise RulesError(
                setting=setting,
                where=NATION,
                key=str(key),
                code="unknown_key",
                reason=f"unknown key (expected {NATION!r}; a province's periods are its "
                'XUEJI_PROVINCE_RULES "closed")',
            )
    return reader.periods(NATION, NATION, value.get(NATION, []))


# The rules a province edits on its page, in the order of ProvinceRule, with their labels
# (its closed periods have their own page).
EDITABLE_RULES: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(ProvinceRule) if f.name != "closed"
)
RULE_LABELS: dict[str, Any] = {
    "no_transfer_in_graduating_grade": _(
        "No transfer out of or into the graduating grade (毕业年级不办理转学)"
    ),
    "same_grade_only": _("Transfers keep the child's grade (只转入同年级)"),
}


def rule_values(rule: ProvinceRule) -> dict[str, Any]:
    """A province's rules as the JSON a version keeps (without its closed periods)."""
    return {name: getattr(rule, name) for name in EDITABLE_RULES}
