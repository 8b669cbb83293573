"""The standard's tables read from `tables/*.csv` and the scores computed from them (see the
package's docstring for the rules)."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from pathlib import Path

TABLES = Path(__file__).parent / "tables"
MALE, FEMALE = "1", "2"
BONUS_MAX = Decimal("20")
ONE_DECIMAL = Decimal("0.1")

# The items measured, their Chinese names, units and how "better" reads.
ITEMS: dict[str, tuple[str, str]] = {
    "height": ("身高", "cm"),
    "weight": ("体重", "kg"),
    "bmi": ("体重指数（BMI）", "kg/m²"),
    "vital_capacity": ("肺活量", "ml"),
    "run_50m": ("50米跑", "s"),
    "sit_and_reach": ("坐位体前屈", "cm"),
    "rope_skipping": ("1分钟跳绳", "次"),
    "sit_ups": ("1分钟仰卧起坐", "次"),
    "shuttle_50x8": ("50米×8往返跑", "s"),
    "standing_long_jump": ("立定跳远", "cm"),
    "pull_ups_or_sit_ups": ("引体向上（男）/1分钟仰卧起坐（女）", "次"),
    "endurance_run": ("1000米跑（男）/800米跑（女）", "s"),
}
LOWER_IS_BETTER = {"run_50m", "shuttle_50x8", "endurance_run"}


def _rows(name: str) -> list[dict[str, str]]:
    with (TABLES / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@lru_cache(maxsize=1)
def weights() -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for row in _rows("weights.csv"):
        found[int(row["grade"])][row["item"]] = int(row["weight"])
    return dict(found)


@cache
def item_table(item: str) -> dict[tuple[int, str], list[tuple[int, Decimal]]]:
    """(grade, sex) → [(score, threshold)] from the highest score down; {} without a table."""
    path = TABLES / f"{item}.csv"
    if item == "bmi" or not path.exists():
        return {}
    found: dict[tuple[int, str], list[tuple[int, Decimal]]] = defaultdict(list)
    for row in _rows(path.name):
        found[(int(row["grade"]), row["sex"])].append(
            (int(row["score"]), Decimal(row["threshold"]))
        )
    return {key: sorted(value, reverse=True) for key, value in found.items()}


@lru_cache(maxsize=1)
def bmi_bands() -> dict[tuple[int, str], list[tuple[Decimal, Decimal, int, str]]]:
    found: dict[tuple[int, str], list[tuple[Decimal, Decimal, int, str]]] = defaultdict(list)
    for row in _rows("bmi.csv"):
        found[(int(row["grade"]), row["sex"])].append(
            (Decimal(row["low"]), Decimal(row["high"]), int(row["score"]), row["band"])
        )
    return dict(found)


@lru_cache(maxsize=1)
def bonus_rules() -> dict[tuple[int, str, str], tuple[Decimal, int, int]]:
    return {
        (int(row["grade"]), row["sex"], row["item"]): (
            Decimal(row["step"]),
            int(row["points"]),
            int(row["max"]),
        )
        for row in _rows("bonus.csv")
    }


def bmi_of(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    metres = height_cm / 100
    return (weight_kg / (metres * metres)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def item_score(item: str, grade: int, sex: str, value: Decimal) -> int | None:
    """The item's score by its table; None when the standard's table is not held."""
    if item == "bmi":
        for low, high, score, _band in bmi_bands().get((grade, sex), []):
            if low <= value <= high:
                return score
        return None
    table = item_table(item).get((grade, sex))
    if not table:
        return None
    lower = item in LOWER_IS_BETTER
    for score, threshold in table:
        if (value <= threshold) if lower else (value >= threshold):
            return score
    return 0


def item_bonus(item: str, grade: int, sex: str, value: Decimal) -> Decimal:
    rule = bonus_rules().get((grade, sex, item))
    if rule is None:
        return Decimal(0)
    table = item_table(item).get((grade, sex))
    if not table:
        return Decimal(0)
    step, points, most = rule
    top = table[0][1]
    beyond = (top - value) if item in LOWER_IS_BETTER else (value - top)
    if beyond <= 0:
        return Decimal(0)
    return Decimal(min(most, int(beyond // step) * points))


def level_of(total: Decimal) -> str:
    if total >= 90:
        return "优秀"
    if total >= 80:
        return "良好"
    if total >= 60:
        return "及格"
    return "不及格"


@dataclass
class Scored:
    item_scores: dict[str, int | None] = field(default_factory=dict)
    standard_score: Decimal | None = None
    bonus: Decimal = Decimal(0)
    total: Decimal | None = None
    level: str = ""
    not_scored: list[str] = field(default_factory=list)  # items without a table


def score(grade: int, sex: str, measurements: dict[str, Decimal]) -> Scored:
    """The item scores, standard score, bonus, total and level of one child's measurements."""
    wanted = weights().get(grade, {})
    values = dict(measurements)
    if "bmi" not in values and "height" in values and "weight" in values:
        values["bmi"] = bmi_of(values["height"], values["weight"])
    result = Scored()
    weighted = Decimal(0)
    complete = True
    for item, weight in wanted.items():
        value = values.get(item)
        found = None if value is None else item_score(item, grade, sex, value)
        result.item_scores[item] = found
        if found is None:
            complete = False
            if value is not None:
                result.not_scored.append(item)
            continue
        weighted += Decimal(found) * weight / 100
        result.bonus += item_bonus(item, grade, sex, value) if value is not None else 0
    result.bonus = min(result.bonus, BONUS_MAX)
    if complete and wanted:
        result.standard_score = weighted.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
        result.total = result.standard_score + result.bonus
        result.level = level_of(result.total)
    return result


def graduation_score(totals_by_year: list[Decimal]) -> Decimal | None:
    """The final year's total × 50% plus the mean of the other years' × 50% (the totals in the
    order of the years; the last is the final year). None without any total."""
    if not totals_by_year:
        return None
    final, others = totals_by_year[-1], totals_by_year[:-1]
    if not others:
        return final.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    mean = sum(others, Decimal(0)) / len(others)
    return (final / 2 + mean / 2).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
