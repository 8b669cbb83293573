"""Synthetic students for demos and benchmarks: generated as rows, written set-based.

The generator makes students of one province with their families and open placements, in
schools and classes it creates first through the ORM (a few thousand rows at most). The students,
family members and placements (millions of rows) never become model instances: they are produced
as columns of values, batch by batch (whole classes, about BATCH_SIZE students), and written with
COPY on PostgreSQL or executemany on SQLite, so that memory stays constant. Generation overlaps
with the database's work: a producer thread generates while the main thread writes, or, for large
loads on PostgreSQL, forked processes generate side by side (see stream()).

Every generated row is valid by the project's rules: resident ID numbers with the province's real
county codes (current counties, in use in the child's birth year), a birth date that makes the
child the usual age for the grade, the sex digit agreeing with the sex, a unique number per
child; families of two members where a missing parent is recorded with the reason.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import queue
import random
import re
import threading
import time
import traceback
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate, repeat
from multiprocessing.connection import Connection
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from stdnum import numdb

from xueji.core import codes
from xueji.core.errors import ServiceError
from xueji.geo.gb2260 import PLACEHOLDER_NAMES
from xueji.geo.models import Division, DivisionLevel
from xueji.schools.models import DEFAULT_GRADES, AcademicYear, School, SchoolClass, SchoolKind
from xueji.students.bulk import (
    FAMILY_TABLE,
    PLACEMENT_TABLE,
    RECORD_TABLES,
    STUDENT_TABLE,
    UUID7_COUNTER_LIMIT,
    records_copy,
    records_insert_rows,
    uuid7_texts,
)
from xueji.students.identity import (
    FAMILY_ID_NUMBER,
    STUDENT_ID_NUMBER,
    document_fields,
    student_number_fields,
)
from xueji.students.models import PlacementReason
from xueji.students.pinyin import name_initials, name_pinyin
from xueji.students.services import number_sequence_take

from . import names

BATCH_SIZE = 50_000
ACADEMIC_YEAR = 2026
STUDENTS_PER_CLASS = 45
STUDENTS_PER_SCHOOL = 500
PLACEMENT_REASON = PlacementReason.REGISTRATION.value

# Shares of schools of each kind in a synthetic province (roughly the national mix).
KIND_WEIGHTS: dict[str, float] = {
    SchoolKind.PRIMARY: 48,
    SchoolKind.KINDERGARTEN: 14,
    SchoolKind.JUNIOR: 17,
    SchoolKind.NINE_YEAR: 8,
    SchoolKind.SENIOR: 7,
    SchoolKind.COMPLETE_SECONDARY: 4,
    SchoolKind.TWELVE_YEAR: 1,
    SchoolKind.SPECIAL: 1,
}
# Students per grade of a school, relative to a primary school's; special schools are small.
KIND_GRADE_SIZE: dict[str, float] = {SchoolKind.SPECIAL: 0.15, SchoolKind.KINDERGARTEN: 0.8}
# 学校标识码: 2-digit category, 2-digit province, 6-digit sequence.
SCHOOL_CATEGORY: dict[str, str] = {
    SchoolKind.KINDERGARTEN: "11",
    SchoolKind.PRIMARY: "21",
    SchoolKind.JUNIOR: "31",
    SchoolKind.NINE_YEAR: "31",
    SchoolKind.SENIOR: "34",
    SchoolKind.COMPLETE_SECONDARY: "34",
    SchoolKind.TWELVE_YEAR: "34",
    SchoolKind.SPECIAL: "51",
}
SCHOOL_NAME_PATTERN: dict[str, str] = {
    SchoolKind.KINDERGARTEN: "{county}第{n}幼儿园",
    SchoolKind.PRIMARY: "{county}第{n}小学",
    SchoolKind.JUNIOR: "{county}第{n}初级中学",
    SchoolKind.NINE_YEAR: "{county}第{n}九年一贯制学校",
    SchoolKind.SENIOR: "{county}第{n}高级中学",
    SchoolKind.COMPLETE_SECONDARY: "{county}第{n}中学",
    SchoolKind.TWELVE_YEAR: "{county}第{n}十二年一贯制学校",
    SchoolKind.SPECIAL: "{county}第{n}特殊教育学校",
}

# The record's tables and columns are the students app's (xueji.students.bulk), which also
# writes the rows: the demo only generates them.
TABLES = RECORD_TABLES
STUDENT_COLUMNS, FAMILY_COLUMNS, PLACEMENT_COLUMNS = (columns for _table, columns in TABLES)

# GB 3304 codes with shares of the population (2020 census, rounded); the rest are 汉族.
ETHNICITY_SHARES: dict[str, float] = {
    "08": 1.39,
    "05": 0.84,
    "03": 0.81,
    "11": 0.74,
    "06": 0.68,
    "07": 0.70,
    "15": 0.68,
    "04": 0.50,
    "02": 0.45,
    "12": 0.25,
    "09": 0.25,
    "13": 0.23,
    "14": 0.15,
    "10": 0.12,
    "22": 0.05,
    "19": 0.11,
}

# Family shapes (DOMAIN §3): grandparents as guardians, single parents, two parents.
GRANDPARENT_GUARDIAN_SHARE = 0.10
SINGLE_PARENT_SHARE = 0.08
MISSING_REASONS: tuple[tuple[str, float], ...] = (
    (codes.MissingReason.DIVORCED_NO_CONTACT, 55),
    (codes.MissingReason.DECEASED, 15),
    (codes.MissingReason.UNKNOWN, 20),
    (codes.MissingReason.ABROAD_NO_CONTACT, 10),
)

_FATHER = codes.Relation.FATHER.value
_MOTHER = codes.Relation.MOTHER.value
_PATERNAL_GRANDFATHER = codes.Relation.PATERNAL_GRANDFATHER.value
_PATERNAL_GRANDMOTHER = codes.Relation.PATERNAL_GRANDMOTHER.value
_DECEASED = codes.MissingReason.DECEASED.value
_LEFT_BEHIND_NO = codes.LeftBehind.NO.value
_LEFT_BEHIND_ONE = codes.LeftBehind.ONE_PARENT_AWAY.value
_LEFT_BEHIND_BOTH = codes.LeftBehind.BOTH_PARENTS_AWAY.value
_HEALTH_DISABLED = codes.Health.DISABLED.value
_RESIDENT_ID = codes.IdDocType.RESIDENT_ID.value

_SURNAMES = names.SURNAMES
_SURNAMES_CW = list(accumulate(names.SURNAME_WEIGHTS))
_SURNAMES_TOTAL = _SURNAMES_CW[-1]
_MALE_GIVEN = names.ADULT_MALE_GIVEN_NAMES
_FEMALE_GIVEN = names.ADULT_FEMALE_GIVEN_NAMES
_EMPLOYERS = names.EMPLOYERS
_EMPLOYER_COUNT = len(names.EMPLOYERS)
_SEQUENCES = tuple(f"{s:03d}" for s in range(1000))
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PERIOD = re.compile(r"^\[(\d*)-(\d*)\](.*)$")


class SynthError(ServiceError):
    """The generator cannot produce what was asked (no county codes, no free ID numbers)."""


@dataclass(frozen=True)
class Dialect:
    """How one database spells true, false and null in the rows it is given."""

    true: Any
    false: Any
    null: Any


POSTGRES = Dialect("t", "f", "\\N")
SQLITE = Dialect(1, 0, None)


@dataclass(frozen=True)
class ClassSlot:
    school_id: int
    class_id: int
    grade: int
    county_code: str
    county_name: str
    kind: str
    size: int


# ---------------------------------------------------------------------------------------------
# Names

# The registry's spelling of each children's name seen, shared by every generator in the process
# (and inherited by forked ones): pypinyin takes about 0.1 ms a name.
_PINYIN: dict[str, tuple[str, str]] = {}
_PINYIN_LIMIT = 200_000


def spell(name: str) -> tuple[str, str]:
    """(pinyin, initials) of a name, as xueji.students.pinyin spells them, cached."""
    if len(_PINYIN) > _PINYIN_LIMIT:
        _PINYIN.clear()
    found = _PINYIN[name] = (name_pinyin(name), name_initials(name))
    return found


def spell_all_child_names() -> None:
    """Fill the cache with every name a child can get (about 20,000), before forking workers
    that would otherwise each spell them all."""
    for surname in names.CHILD_SURNAMES:
        for given in (*names.BOYS_GIVEN_NAMES, *names.GIRLS_GIVEN_NAMES):
            if surname + given not in _PINYIN:
                spell(surname + given)


# ---------------------------------------------------------------------------------------------
# Resident ID numbers


def _weighted(digits: str, offset: int) -> int:
    return sum(int(d) * w for d, w in zip(digits, _ID_WEIGHTS[offset:], strict=False))


@cache
def area_periods(province_code: str) -> dict[str, tuple[tuple[int, int], ...]]:
    """Every county-level code a province has had (GB/T 2260 history), with its years of use."""
    prefix = province_code[:2]
    periods: dict[str, tuple[tuple[int, int], ...]] = {}
    for _length, low, _high, _props, children in numdb.get("cn/loc").prefixes:
        if low != prefix:
            continue
        for _l, sub, _h, sub_props, _c in children:
            if sub.endswith("00"):
                continue
            spans = []
            for part in sub_props.get("county", "").split(","):
                match = _PERIOD.match(part)
                if match is None:
                    if part and part not in PLACEHOLDER_NAMES:
                        spans.append((0, 9999))
                elif match.group(3) not in PLACEHOLDER_NAMES:
                    spans.append((int(match.group(1) or 0), int(match.group(2) or 9999)))
            if spans:
                periods[f"{low}{sub}"] = tuple(spans)
    return periods


def in_use(spans: Sequence[tuple[int, int]], year: int) -> bool:
    return any(start <= year <= end for start, end in spans)


# ---------------------------------------------------------------------------------------------
# Schools and classes


def chinese_number(n: int) -> str:
    """一 … 九十九, as in 第十二小学; larger numbers stay in digits."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


def school_kinds_for(count: int, rng: random.Random) -> list[str]:
    """`count` school kinds in the shares of KIND_WEIGHTS (largest remainder), primary first."""
    total = sum(KIND_WEIGHTS.values())
    exact = {kind: count * weight / total for kind, weight in KIND_WEIGHTS.items()}
    chosen = {kind: int(value) for kind, value in exact.items()}
    for kind in sorted(exact, key=lambda k: exact[k] - chosen[k], reverse=True)[
        : count - sum(chosen.values())
    ]:
        chosen[kind] += 1
    kinds = [kind for kind, number in chosen.items() for _ in range(number)]
    rng.shuffle(kinds)
    # A province of one school still gets a primary school.
    if SchoolKind.PRIMARY in kinds:
        kinds.remove(SchoolKind.PRIMARY)
        kinds.insert(0, SchoolKind.PRIMARY)
    return kinds


def province_counties(province_code: str) -> list[Division]:
    return list(
        Division.objects.filter(level=DivisionLevel.COUNTY, code__startswith=province_code[:2])
        .select_related("parent__parent")
        .order_by("code")
    )


def next_school_sequences(province_code: str) -> dict[str, int]:
    """The last sequence used per school-code prefix (category + province) in the database."""
    last: dict[str, int] = {}
    for code in School.objects.filter(code__regex=rf"^[0-9]{{2}}{province_code[:2]}").values_list(
        "code", flat=True
    ):
        prefix, sequence = code[:4], int(code[4:])
        last[prefix] = max(last.get(prefix, 0), sequence)
    return last


def create_schools(
    plan: Sequence[tuple[Division, str]], province_code: str
) -> list[tuple[School, Division]]:
    """Create the planned schools with fresh, unique 学校标识码 and names numbered per county."""
    sequences = next_school_sequences(province_code)
    per_county_kind: dict[tuple[str, str], int] = {}
    existing_names = set(
        School.objects.filter(county__in={county.code for county, _kind in plan}).values_list(
            "name", flat=True
        )
    )
    schools = []
    for county, kind in plan:
        prefix = SCHOOL_CATEGORY[kind] + province_code[:2]
        sequences[prefix] = sequences.get(prefix, 0) + 1
        if sequences[prefix] > 999_999:
            raise SynthError(
                "school_codes_exhausted",
                _("No school code is left under %(prefix)s.") % {"prefix": prefix},
            )
        while True:
            number = per_county_kind.get((county.code, kind), 0) + 1
            per_county_kind[(county.code, kind)] = number
            name = SCHOOL_NAME_PATTERN[kind].format(county=county.name, n=chinese_number(number))
            if name not in existing_names:
                break
        first, last = DEFAULT_GRADES[kind]
        city = county.parent
        assert city is not None and city.parent is not None
        schools.append(
            School(
                code=f"{prefix}{sequences[prefix]:06d}",
                name=name,
                kind=kind,
                county=county,
                city=city,
                province=city.parent,
                first_grade=first,
                last_grade=last,
            )
        )
    created = School.objects.bulk_create(schools, batch_size=1000)
    return [(school, county) for school, (county, _kind) in zip(created, plan, strict=True)]


def split(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` into integer parts proportional to `weights` (largest remainder)."""
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [0 for _ in weights]
    exact = [total * w / weight_sum for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def plan_classes(
    schools: Sequence[tuple[School, Division]],
    students: int,
    academic_year: AcademicYear,
    rng: random.Random,
) -> tuple[list[SchoolClass], list[int]]:
    """Classes of about STUDENTS_PER_CLASS per grade, and how many students each class gets."""
    school_weights = [
        len(school.grades) * KIND_GRADE_SIZE.get(school.kind, 1.0) * rng.uniform(0.7, 1.3)
        for school, _county in schools
    ]
    classes: list[SchoolClass] = []
    sizes: list[int] = []
    for (school, _county), school_total in zip(
        schools, split(students, school_weights), strict=True
    ):
        grades = list(school.grades)
        for grade, grade_total in zip(
            grades, split(school_total, [1.0] * len(grades)), strict=True
        ):
            if grade_total == 0:
                continue
            class_count = max(1, round(grade_total / STUDENTS_PER_CLASS))
            for number, size in enumerate(split(grade_total, [1.0] * class_count), start=1):
                classes.append(
                    SchoolClass(
                        school=school,
                        academic_year=academic_year,
                        grade=grade,
                        number=number,
                        name=f"{number}班",
                    )
                )
                sizes.append(size)
    return classes, sizes


# ---------------------------------------------------------------------------------------------
# Rows
#
# A large load runs the code below tens of millions of times, so it is written for CPython's
# speed: columns built by list comprehensions over rng.random() draws, weighted draws by bisect,
# constant columns as itertools.repeat, rows assembled by zip and formatted by str.join in C.


def _dates_for_age(age: int, start_year: int) -> list[tuple[str, str, int]]:
    """Birth dates of children who are `age` on 1 September of start_year: (iso, compact, year)."""
    first = datetime.date(start_year - age - 1, 9, 2)
    last = datetime.date(start_year - age, 9, 1)
    days = (last - first).days + 1
    dates = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        dates.append((day.isoformat(), f"{day:%Y%m%d}", day.year))
    return dates


# ID numbers are stored sealed, so a run cannot read which sequences earlier ones used. Each run
# of a province instead takes its own lanes of sequences (see RowGenerator.child_ids), counted in
# the NumberSequence table; a province holds at most this many synthetic runs.
MAX_SYNTH_RUNS = 8


def run_lane(run: int, worker: int) -> tuple[int, int]:
    """The lane (index, count) of one generating worker of one run: every run and every worker
    of it draws ID sequences no other does, whatever the number of workers each run had."""
    if not 0 <= worker < MAX_WORKERS:
        raise ValueError(f"worker {worker} out of 0..{MAX_WORKERS - 1}")
    return run * MAX_WORKERS + worker, MAX_WORKERS * MAX_SYNTH_RUNS


def next_run(province_code: str) -> int:
    """This run's number for the province (0, 1, ...); raises once the province is full."""
    with transaction.atomic():
        taken = number_sequence_take(f"synth{province_code[:2]}", limit=MAX_SYNTH_RUNS)
    if taken is None:
        raise SynthError(
            "synth_runs_exhausted",
            _("This province already holds the most synthetic runs; use a new database."),
        )
    return taken - 1


@dataclass
class Batch:
    """The rows of some whole classes: per table, row iterables that are consumed once."""

    students: int = 0
    family_members: int = 0
    rows: dict[str, list[Iterable[tuple[Any, ...]]]] = field(
        default_factory=lambda: {table: [] for table, _columns in TABLES}
    )
    text: dict[str, str] = field(default_factory=dict)


class RowGenerator:
    """Turns class slots into student, family-member and placement rows."""

    def __init__(
        self,
        *,
        province_code: str,
        seed: int | None,
        dialect: Dialect,
        held_sequences: dict[str, int],
        current_counties: Sequence[str],
        now: str,
        start_date: datetime.date,
        lane: tuple[int, int] = (0, 1),
    ) -> None:
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        # Identifiers must never repeat across runs, whatever the seed.
        self.uuid_bits = random.Random().getrandbits
        self.uuid_ms = 0
        self.uuid_counter = 0
        self.dialect = dialect
        self.now = now
        self.start_date = start_date.isoformat()
        self.start_year = start_date.year if start_date.month >= 9 else start_date.year - 1
        self.held = held_sequences
        self.taken: dict[str, int] = {}
        self.lane = lane
        periods = area_periods(province_code)
        current = [code for code in current_counties if code in periods]
        if not current:
            raise SynthError(
                "no_counties",
                _("Province %(code)s has no county codes to give.") % {"code": province_code},
            )
        this_year = datetime.date.today().year
        self.years_in_use: dict[str, frozenset[int]] = {
            code: frozenset(y for y in range(1900, this_year + 1) if in_use(spans, y))
            for code, spans in periods.items()
        }
        self.current_by_year: dict[int, list[str]] = {}
        self.any_by_year: dict[int, list[str]] = {}
        for year in range(1900, this_year + 1):
            self.current_by_year[year] = [c for c in current if year in self.years_in_use[c]]
            self.any_by_year[year] = [c for c in periods if year in self.years_in_use[c]]
        # Parts of the MOD 11-2 weighted sum, so that a check character costs three lookups.
        self.area_sum = {code: _weighted(code, 0) for code in periods}
        self.date_sum: dict[str, int] = {}
        self.sequence_sum = [_weighted(f"{s:03d}", 14) for s in range(1000)]
        self.dates_by_age: dict[int, list[tuple[str, str, int]]] = {}
        self.days_by_year: dict[int, list[str]] = {}
        self.adult_years: dict[int, tuple[list[str], list[int], list[str], list[int]]] = {}
        self.child_surnames_cw = list(accumulate(names.CHILD_SURNAME_WEIGHTS))
        self.boys_cw = list(accumulate(names.rank_weights(len(names.BOYS_GIVEN_NAMES))))
        self.girls_cw = list(accumulate(names.rank_weights(len(names.GIRLS_GIVEN_NAMES))))
        han = 100.0 - sum(ETHNICITY_SHARES.values())
        self.ethnicities = ["01", *ETHNICITY_SHARES]
        self.ethnicities_cw = list(accumulate([han, *ETHNICITY_SHARES.values()]))
        self.missing_reasons = [str(reason) for reason, _share in MISSING_REASONS]
        self.missing_cw = list(accumulate(share for _reason, share in MISSING_REASONS))

    # -- helpers -------------------------------------------------------------------------------

    def uuids(self, count: int) -> list[str]:
        """Time-ordered, strictly increasing UUIDs (version 7 with a counter).

        Rows of a table arrive in key order, so building the primary keys and the indexes led
        by student_id after the load sorts presorted input, and foreign keys validate over
        ordered keys; random version 4 keys made those builds the slowest part of a load.
        """
        self.uuid_ms = max(self.uuid_ms, time.time_ns() // 1_000_000)
        start = self.uuid_counter
        self.uuid_counter += count
        if self.uuid_counter >= UUID7_COUNTER_LIMIT:
            raise SynthError("uuid_counter_exhausted", _("Too many rows for one run."))
        bits = self.uuid_bits
        return uuid7_texts(self.uuid_ms, start, [bits(32) for _ in range(count)])

    def draw(self, population: Sequence[str], cum_weights: list[float], count: int) -> list[str]:
        return self.rng.choices(population, cum_weights=cum_weights, k=count)

    def flags(self, share: float, count: int) -> list[Any]:
        rnd, true, false = self.rnd, self.dialect.true, self.dialect.false
        return [true if rnd() < share else false for _ in range(count)]

    def check_character(self, area: str, compact_date: str, sequence: int) -> str:
        date_sum = self.date_sum.get(compact_date)
        if date_sum is None:
            date_sum = self.date_sum[compact_date] = _weighted(compact_date, 6)
        return _ID_CHECK[(self.area_sum[area] + date_sum + self.sequence_sum[sequence]) % 11]

    def names_of(self, name: str) -> tuple[str, str]:
        found = _PINYIN.get(name)
        if found is None:
            found = spell(name)
        return found

    def dates(self, age: int) -> list[tuple[str, str, int]]:
        found = self.dates_by_age.get(age)
        if found is None:
            found = self.dates_by_age[age] = _dates_for_age(age, self.start_year)
        return found

    def days_of(self, year: int) -> list[str]:
        found = self.days_by_year.get(year)
        if found is None:
            first = datetime.date(year, 1, 1)
            days = (datetime.date(year + 1, 1, 1) - first).days
            found = self.days_by_year[year] = [
                f"{first + datetime.timedelta(days=d):%Y%m%d}" for d in range(days)
            ]
        return found

    def child_ids(
        self, counties: list[str], ages: list[int], male: list[bool]
    ) -> tuple[list[str], list[str], list[str]]:
        """Unique resident IDs: (id numbers, area codes, iso birth dates), one per child.

        Mostly born in the school's county, otherwise elsewhere in the province; always a county
        in use in the birth year. Sequences of an area and date start above the highest one
        already held, odd for boys and even for girls; generator `lane` of `lanes` takes every
        lanes-th of them, so that generators working side by side never give the same number.
        """
        rnd, held, taken = self.rnd, self.held, self.taken
        lane, lanes = self.lane
        years_in_use, current_by_year, check = (
            self.years_in_use,
            self.current_by_year,
            self.check_character,
        )
        numbers, areas, births = [], [], []
        for county, age, is_male in zip(counties, ages, male, strict=True):
            dates = self.dates(age)
            count = len(dates)
            start = int(rnd() * count)
            parity = 1 if is_male else 0
            for attempt in range(count * 2):
                iso, compact, year = dates[(start + attempt) % count]
                if attempt < count and rnd() < 0.85 and year in years_in_use[county]:
                    area = county
                else:
                    candidates = current_by_year[year]
                    if not candidates:
                        continue
                    area = candidates[int(rnd() * len(candidates))]
                prefix = area + compact
                key = prefix if is_male else prefix + "f"
                nth = taken.get(key, 0)
                first = held.get(prefix, 0) + 1
                if first & 1 != parity:
                    first += 1
                sequence = first + 2 * (nth * lanes + lane)
                if sequence <= 999:
                    taken[key] = nth + 1
                    break
            else:
                raise SynthError(
                    "id_numbers_exhausted",
                    _("No free resident ID number is left for these birth dates."),
                )
            numbers.append(prefix + _SEQUENCES[sequence] + check(area, compact, sequence))
            areas.append(area)
            births.append(iso)
        return numbers, areas, births

    def adult_year(self, birth_year: int) -> tuple[list[str], list[int], list[str], list[int]]:
        """Area codes in use in a year and the year's days, each with its part of the ID sum."""
        found = self.adult_years.get(birth_year)
        if found is None:
            areas = self.any_by_year.get(birth_year) or self.any_by_year[1990]
            days = self.days_of(birth_year)
            found = self.adult_years[birth_year] = (
                areas,
                [self.area_sum[area] for area in areas],
                days,
                [_weighted(day, 6) for day in days],
            )
        return found

    def adult(self, birth_year: int, male: bool, surname: str) -> tuple[str, str, str, str]:
        """A family member: (name, ID number, phone, employer). IDs of adults are not unique-
        checked: the registry does not hold adults, and a parent may have several children."""
        rnd = self.rnd
        areas, area_sums, days, day_sums = self.adult_years.get(birth_year) or self.adult_year(
            birth_year
        )
        a = int(rnd() * len(areas))
        d = int(rnd() * len(days))
        sequence = int(rnd() * 499) * 2 + (1 if male else 2)
        check = _ID_CHECK[(area_sums[a] + day_sums[d] + self.sequence_sum[sequence]) % 11]
        if not surname:
            surname = _SURNAMES[bisect_right(_SURNAMES_CW, rnd() * _SURNAMES_TOTAL)]
        given = _MALE_GIVEN if male else _FEMALE_GIVEN
        return (
            surname + given[int(rnd() * len(given))],
            areas[a] + days[d] + _SEQUENCES[sequence] + check,
            str(int(13e9 + rnd() * 7e9)),
            _EMPLOYERS[int(rnd() * _EMPLOYER_COUNT)],
        )

    # -- rows ----------------------------------------------------------------------------------

    def families(
        self, student_ids: list[str], surnames: list[str], birth_dates: list[str]
    ) -> tuple[list[tuple[Any, ...]], list[str], list[str], list[Any]]:
        """Two members per child; returns (rows, guardian phones, left-behind codes, orphans)."""
        rnd, adult = self.rnd, self.adult
        true, false = self.dialect.true, self.dialect.false
        reasons, reasons_cw = self.missing_reasons, self.missing_cw
        reasons_total = reasons_cw[-1]
        member_ids = iter(self.uuids(2 * len(student_ids)))
        rows: list[tuple[Any, ...]] = []
        phones: list[str] = []
        left_behind: list[str] = []
        orphans: list[Any] = []
        for student_id, surname, birth_date in zip(student_ids, surnames, birth_dates, strict=True):
            child_year = int(birth_date[:4])
            shape = rnd()
            if shape < GRANDPARENT_GUARDIAN_SHARE:
                grandfather = rnd() < 0.4
                name, id_number, phone, employer = adult(
                    child_year - 48 - int(rnd() * 19), grandfather, surname if grandfather else ""
                )
                relation = _PATERNAL_GRANDFATHER if grandfather else _PATERNAL_GRANDMOTHER
                rows.append(
                    (next(member_ids), student_id, "0", relation, name, _RESIDENT_ID, id_number,
                     phone, employer, true, "")
                )  # fmt: skip
                phones.append(phone)
                if rnd() < 0.02:
                    rows.append(
                        (next(member_ids), student_id, "1", _FATHER, "", "", "", "", "", false,
                         _DECEASED)
                    )  # fmt: skip
                    left_behind.append(_LEFT_BEHIND_NO)
                    orphans.append(true)
                    continue
                name, id_number, phone, employer = adult(
                    child_year - 22 - int(rnd() * 19), True, surname
                )
                rows.append(
                    (next(member_ids), student_id, "1", _FATHER, name, _RESIDENT_ID, id_number,
                     phone, employer, false, "")
                )  # fmt: skip
                left_behind.append(_LEFT_BEHIND_BOTH if rnd() < 0.7 else _LEFT_BEHIND_ONE)
                orphans.append(false)
            elif shape < GRANDPARENT_GUARDIAN_SHARE + SINGLE_PARENT_SHARE:
                with_mother = rnd() < 0.6
                name, id_number, phone, employer = adult(
                    child_year - 22 - int(rnd() * 19),
                    not with_mother,
                    "" if with_mother else surname,
                )
                present, absent = (_MOTHER, _FATHER) if with_mother else (_FATHER, _MOTHER)
                reason = reasons[bisect_right(reasons_cw, rnd() * reasons_total)]
                rows.append(
                    (next(member_ids), student_id, "0", present, name, _RESIDENT_ID, id_number,
                     phone, employer, true, "")
                )  # fmt: skip
                rows.append(
                    (next(member_ids), student_id, "1", absent, "", "", "", "", "", false, reason)
                )
                phones.append(phone)
                left_behind.append(_LEFT_BEHIND_NO)
                orphans.append(false)
            else:
                guardian = rnd()
                father = adult(child_year - 23 - int(rnd() * 20), True, surname)
                mother = adult(child_year - 22 - int(rnd() * 19), False, "")
                rows.append(
                    (next(member_ids), student_id, "0", _FATHER, father[0], _RESIDENT_ID,
                     father[1], father[2], father[3], true if guardian < 0.65 else false, "")
                )  # fmt: skip
                rows.append(
                    (next(member_ids), student_id, "1", _MOTHER, mother[0], _RESIDENT_ID,
                     mother[1], mother[2], mother[3], true if guardian >= 0.35 else false, "")
                )  # fmt: skip
                phones.append(father[2] if guardian < 0.65 else mother[2])
                left_behind.append(_LEFT_BEHIND_NO)
                orphans.append(false)
        return rows, phones, left_behind, orphans

    def batch(self, slots: Sequence[ClassSlot]) -> Batch:
        """The rows of whole classes' students, their families and their placements."""
        rnd, rng = self.rnd, self.rng
        true, false, null = self.dialect.true, self.dialect.false, self.dialect.null
        n = sum(slot.size for slot in slots)
        school_ids: list[str] = []
        class_ids: list[str] = []
        grades: list[str] = []
        counties: list[str] = []
        county_names: list[str] = []
        usual_ages: list[int] = []
        special: list[bool] = []
        boarding: list[float] = []
        senior: list[bool] = []
        for slot in slots:
            size = slot.size
            school_ids += [str(slot.school_id)] * size
            class_ids += [str(slot.class_id)] * size
            grades += [str(slot.grade)] * size
            counties += [slot.county_code] * size
            county_names += [slot.county_name] * size
            usual_ages += [slot.grade + 5] * size
            special += [slot.kind == SchoolKind.SPECIAL] * size
            boarding += [_boarding_share(slot.grade)] * size
            senior += [slot.grade >= 10] * size

        male = [rnd() < 0.52 for _ in range(n)]
        surnames = self.draw(names.CHILD_SURNAMES, self.child_surnames_cw, n)
        boys = self.draw(names.BOYS_GIVEN_NAMES, self.boys_cw, n)
        girls = self.draw(names.GIRLS_GIVEN_NAMES, self.girls_cw, n)
        full_names = [
            surname + (boy if is_male else girl)
            for surname, boy, girl, is_male in zip(surnames, boys, girls, male, strict=True)
        ]
        spelled = [self.names_of(name) for name in full_names]
        ages = [age + 1 if rnd() < 0.03 else age for age in usual_ages]
        id_numbers, areas, birth_dates = self.child_ids(counties, ages, male)
        student_ids = self.uuids(n)
        family_rows, phones, left_behind, orphans = self.families(
            student_ids, surnames, birth_dates
        )
        disability = [
            "1234567"[int(rnd() * 7)] if is_special else "1245"[int(rnd() * 4)]
            if rnd() < 0.004 else "0"
            for is_special in special
        ]  # fmt: skip
        health = [
            _HEALTH_DISABLED if code != "0" else "10" if r < 0.97 else "20" if r < 0.99 else "30"
            for code, r in zip(disability, [rnd() for _ in range(n)], strict=True)
        ]
        inclusive = [
            true if code != "0" and not is_special else false
            for code, is_special in zip(disability, special, strict=True)
        ]
        entry = [
            ("3" if r < 0.9 else "1")
            if is_senior
            else "1"
            if r < 0.88
            else "2"
            if r < 0.95
            else "4"
            if r < 0.99
            else "9"
            for is_senior, r in zip(senior, [rnd() for _ in range(n)], strict=True)
        ]
        roads = names.ROADS
        road_count = len(roads)
        columns: list[Iterable[Any]] = [
            student_ids,
            *_sealed_numbers(["G" + number for number in id_numbers]),
            repeat("G", n),
            full_names,
            [pair[0] for pair in spelled],
            [pair[1] for pair in spelled],
            ["1" if is_male else "2" for is_male in male],
            birth_dates,
            areas,
            [area if rnd() < 0.6 else null for area in areas],
            self.draw(self.ethnicities, self.ethnicities_cw, n),
            repeat("CHN", n),
            repeat(_RESIDENT_ID, n),
            *_sealed_documents(id_numbers, STUDENT_ID_NUMBER),
            repeat("00", n),
            health,
            [
                area if rnd() < 0.75 else county
                for area, county in zip(areas, counties, strict=True)
            ],
            rng.choices(("3", "1", "2"), cum_weights=(50, 80, 100), k=n),
            repeat("", n),
            [
                f"{county}{roads[int(rnd() * road_count)]}{int(rnd() * 999) + 1}号"
                for county in county_names
            ],
            phones,
            ["2" if rnd() < share else "1" for share in boarding],
            entry,
            self.flags(0.35, n),
            [true if age < 6 or rnd() < 0.95 else false for age in usual_ages],
            left_behind,
            self.flags(0.12, n),
            orphans,
            self.flags(0.001, n),
            inclusive,
            disability,
            self.flags(0.08, n),
            self.flags(0.06, n),
            repeat("enrolled", n),
            school_ids,
            repeat(self.now, n),
            repeat(self.now, n),
        ]
        placement_columns: list[Iterable[Any]] = [
            self.uuids(n),
            student_ids,
            school_ids,
            class_ids,
            grades,
            repeat(self.start_date, n),
            repeat(null, n),
            repeat(PLACEMENT_REASON, n),
        ]
        batch = Batch(students=n, family_members=len(family_rows))
        batch.rows[STUDENT_TABLE].append(zip(*columns, strict=False))
        batch.rows[FAMILY_TABLE].append(_with_sealed_family_documents(family_rows))
        batch.rows[PLACEMENT_TABLE].append(zip(*placement_columns, strict=False))
        return batch


def _sealed_numbers(numbers: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Student numbers as stored: masked, sealed, blind-indexed (xueji.students.identity)."""
    fields = [student_number_fields(number) for number in numbers]
    return (
        [f["number_masked"] for f in fields],
        [f["number_sealed"] for f in fields],
        [f["number_index"] for f in fields],
    )


def _sealed_documents(numbers: list[str], context: str) -> tuple[list[str], list[str], list[str]]:
    fields = [document_fields(_RESIDENT_ID, number, context=context) for number in numbers]
    return (
        [f["id_number_masked"] for f in fields],
        [f["id_number_sealed"] for f in fields],
        [f["id_number_index"] for f in fields],
    )


def _with_sealed_family_documents(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Family rows carry the plain ID number at position 6 while generated; store it sealed."""
    sealed = []
    for row in rows:
        document = document_fields(row[5], row[6], context=FAMILY_ID_NUMBER)
        sealed.append(
            (
                *row[:6],
                document["id_number_masked"],
                document["id_number_sealed"],
                document["id_number_index"],
                *row[7:],
            )
        )
    return sealed


def _boarding_share(grade: int) -> float:
    return 0.6 if grade >= 10 else 0.15 if grade >= 7 else 0.03 if grade >= 1 else 0.0


def group_slots(slots: Sequence[ClassSlot], batch_size: int) -> list[list[ClassSlot]]:
    """Whole classes in groups of about batch_size students: the unit generated and written."""
    groups: list[list[ClassSlot]] = []
    group: list[ClassSlot] = []
    size = 0
    for slot in slots:
        group.append(slot)
        size += slot.size
        if size >= batch_size:
            groups.append(group)
            group, size = [], 0
    if group:
        groups.append(group)
    return groups


def copy_text(row_sets: list[Iterable[tuple[Any, ...]]]) -> str:
    """Rows in COPY's text format. The generator only produces values free of tabs, newlines and
    backslashes (other than the null marker), so no value needs escaping."""
    parts = []
    for rows in row_sets:
        parts.append("\n".join(map("\t".join, rows)))
    return "\n".join(part for part in parts if part) + "\n"


# ---------------------------------------------------------------------------------------------
# Writing


class Writer:
    dialect: Dialect

    def write(self, batch: Batch) -> None:
        raise NotImplementedError

    def prepare(self, batch: Batch) -> None:
        """Work that may run in the producer thread (formatting)."""


class PostgresWriter(Writer):
    dialect = POSTGRES

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def prepare(self, batch: Batch) -> None:
        for table, _columns in TABLES:
            batch.text[table] = copy_text(batch.rows[table])
            batch.rows[table] = []

    def write(self, batch: Batch) -> None:
        self.write_text(batch.text)

    def write_text(self, texts: Mapping[str, str | bytes]) -> None:
        records_copy(self.cursor, texts)


class SqliteWriter(Writer):
    dialect = SQLITE

    def __init__(self, raw_connection: Any) -> None:
        self.raw = raw_connection

    def write(self, batch: Batch) -> None:
        records_insert_rows(self.raw, batch.rows)


Progress = Callable[[int], None]
PARALLEL_MIN_STUDENTS = 200_000
MAX_WORKERS = 8


def default_workers(students: int) -> int:
    """Generating processes for a load on PostgreSQL: one per CPU for a large load, else none."""
    if students < PARALLEL_MIN_STUDENTS:
        return 0
    return min(os.cpu_count() or 1, MAX_WORKERS)


def stream(
    make_generator: Callable[[int, int], RowGenerator],
    groups: Sequence[Sequence[ClassSlot]],
    writer: Writer,
    *,
    workers: int = 0,
    on_batch: Progress | None = None,
) -> tuple[int, int]:
    """Generate and write the groups of classes; returns (students, family members) written.

    With workers > 1 (PostgreSQL), that many forked processes generate and format the rows
    side by side, each in its own lane of ID sequences, while this process only writes them.
    Otherwise one thread generates while this one writes.
    """
    if workers > 1 and isinstance(writer, PostgresWriter) and _can_fork():
        return _stream_processes(make_generator, groups, writer, workers, on_batch)
    return _stream_thread(make_generator(0, 1), groups, writer, on_batch)


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _stream_thread(
    generator: RowGenerator,
    groups: Sequence[Sequence[ClassSlot]],
    writer: Writer,
    on_batch: Progress | None,
) -> tuple[int, int]:
    handoff: queue.Queue[Batch | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for group in groups:
                batch = generator.batch(group)
                writer.prepare(batch)
                while not stop.is_set():
                    try:
                        handoff.put(batch, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(None)
        except BaseException as error:  # handed to the writing thread, which raises it
            handoff.put(error)

    producer = threading.Thread(target=produce, name="synth-producer", daemon=True)
    producer.start()
    students = family = 0
    try:
        while True:
            item = handoff.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            writer.write(item)
            students += item.students
            family += item.family_members
            if on_batch is not None:
                on_batch(students)
    finally:
        stop.set()
        producer.join(timeout=10)
    return students, family


def _generate_in_lane(
    make_generator: Callable[[int, int], RowGenerator],
    groups: Sequence[Sequence[ClassSlot]],
    lane: int,
    lanes: int,
    out: Connection,
) -> None:
    """A forked worker: every lanes-th group, sent as COPY text. It never touches the database
    connection it inherited, and leaves through os._exit, as forked multiprocessing workers do."""
    try:
        generator = make_generator(lane, lanes)
        for index in range(lane, len(groups), lanes):
            batch = generator.batch(groups[index])
            texts = [copy_text(batch.rows[table]).encode() for table, _columns in TABLES]
            out.send(("rows", batch.students, batch.family_members))
            for text in texts:
                out.send_bytes(text)
    except BaseException:
        out.send(("error", traceback.format_exc()))
    finally:
        out.close()


def _stream_processes(
    make_generator: Callable[[int, int], RowGenerator],
    groups: Sequence[Sequence[ClassSlot]],
    writer: PostgresWriter,
    workers: int,
    on_batch: Progress | None,
) -> tuple[int, int]:
    spell_all_child_names()
    context = multiprocessing.get_context("fork")
    pipes = [context.Pipe(duplex=False) for _ in range(workers)]
    processes = [
        context.Process(
            target=_generate_in_lane,
            args=(make_generator, groups, lane, workers, pipes[lane][1]),
            name=f"synth-lane-{lane}",
            daemon=True,
        )
        for lane in range(workers)
    ]
    for process in processes:
        process.start()
    for _receiver, sender in pipes:
        sender.close()
    students = family = 0
    try:
        for index in range(len(groups)):
            receiver = pipes[index % workers][0]
            header = receiver.recv()
            if header[0] == "error":
                raise SynthError(
                    "generator_failed",
                    _("Generating rows failed: %(error)s") % {"error": header[1]},
                )
            texts = {table: receiver.recv_bytes() for table, _columns in TABLES}
            writer.write_text(texts)
            students += header[1]
            family += header[2]
            if on_batch is not None:
                on_batch(students)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for receiver, _sender in pipes:
            receiver.close()
    return students, family


def now_text(dialect: Dialect) -> str:
    now = datetime.datetime.now(datetime.UTC)
    if dialect is POSTGRES:
        return now.isoformat(sep=" ")
    return now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
