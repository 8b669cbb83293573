"""The duplicate matcher (一人多籍): which two records may be one child, and why.

Pure Python, no database: the registry's scan (xueji.identity.scan), the file check
(`xueji duplicates check-file`) and bench/duplicates.py feed it `Person` rows.

Comparison understands Chinese records:
- names folded as xueji.students.names does (OpenCC t2s, the middle dots of minority names,
  full-width forms), then compared on pinyin without tones, so that homophones (张春铭 / 张春明)
  and traditional characters (張春銘) agree; surname (compound surnames known) and given name
  apart; a given name of another sound is strong evidence of another child (a twin);
- parents as a set, in either role (a father recorded as the mother), by ID number and by name;
- birth dates equal, or with month and day swapped, or a day off;
- ID numbers equal, or differing in one or two of the first 17 digits (a typo);
- birthplace, ethnicity and sex.

Each field's contribution is a log-likelihood-style weight (Fellegi–Sunter, set by hand from the
kinds of error registrars make); the score is their sum, and every pair carries them all.

Blocking keeps the comparisons near-linear: candidate pairs share one of a few keys (the name's
pinyin with the birth year, the birth date with the surname, a parent's ID number, the parents'
names, the ID number's area and birth date); a key held by more than `BLOCK_CAP` records is too
common to say anything and is skipped.
"""

from __future__ import annotations

import datetime
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from pypinyin import lazy_pinyin

from xueji.students.names import name_key

COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "慕容",
        "令狐",
        "尉迟",
        "公孙",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
    ]
)
_MIDDLE_DOTS = re.compile("[\u00b7\u2022\u2027\u2219\u22c5\u30fb\uff65\u0387\uff0e.]")

THRESHOLD = 7.0
BLOCK_CAP = 60

# The weights (log-odds, roughly): what agreement and disagreement of each field say.
W_NAME_SAME = 4.0
W_NAME_SOUND = 3.0  # same pinyin, other characters: a homophone
W_NAME_ONE_CHAR = -2.0  # one character of the given name of another sound: a slip of the pen
W_NAME_GIVEN_OTHER = -12.0  # same surname, given name of another sound: another child (a twin)
W_NAME_OTHER = -12.0
W_SEX_SAME = 0.5
W_SEX_OTHER = -4.0
W_DATE_SAME = 3.0
W_DATE_NEAR = 1.5  # month and day swapped, or a day off
W_DATE_OTHER = -5.0
W_ID_SAME = 8.0
W_ID_NEAR = 4.0  # one or two digits differ
W_ID_OTHER = -3.0
W_PARENT_ID_SHARED = 3.0  # each parent ID number shared, in either role
W_PARENT_ID_NONE = -4.0  # parent ID numbers on both sides, none shared
W_PARENT_NAME_SHARED = 1.5
W_PARENT_NAME_NONE = -6.0  # parents named on both sides, none shared: other parents
W_BIRTHPLACE_SAME = 0.5
W_BIRTHPLACE_OTHER = -0.5
W_ETHNICITY_OTHER = -1.0
W_ADDRESS_SAME = 2.0
W_ADDRESS_NEAR = 1.0  # a typo or two
W_ADDRESS_OTHER = -1.0
# Names in Latin letters (a foreign child): one part kept, the other changed (a surname taken
# on marriage or mistyped beyond repair) says little either way.
W_LATIN_ONE_PART = -1.0


@lru_cache(maxsize=200_000)
def _pinyin(text: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(text, errors="default"))


def split_name(key: str, raw: str = "") -> tuple[str, str]:
    """(surname, given name) of a folded name; a minority name's parts split at its dot."""
    if raw and _MIDDLE_DOTS.search(raw):
        parts = [name_key(part) for part in _MIDDLE_DOTS.split(raw) if part.strip()]
        if len(parts) > 1:
            return parts[-1], "".join(parts[:-1])
    if key[:2] in COMPOUND_SURNAMES:
        return key[:2], key[2:]
    return key[:1], key[1:]


@dataclass
class Person:
    """One record as the matcher sees it (any field but `key` may be empty)."""

    key: str
    name: str = ""
    sex: str = ""
    birth_date: datetime.date | None = None
    id_type: str = ""
    id_number: str = ""
    birthplace: str = ""
    ethnicity: str = ""
    father_name: str = ""
    father_id: str = ""
    mother_name: str = ""
    mother_id: str = ""
    county: str = ""
    # The household or home address, where the source has one (free text).
    address: str = ""
    # Derived once (prepare()).
    name_folded: str = field(default="", repr=False)
    sound: tuple[str, ...] = field(default=(), repr=False)
    surname_sound: tuple[str, ...] = field(default=(), repr=False)
    given_sound: tuple[str, ...] = field(default=(), repr=False)
    parent_ids: frozenset[str] = field(default=frozenset(), repr=False)
    parent_names: frozenset[str] = field(default=frozenset(), repr=False)
    latin: bool = field(default=False, repr=False)
    address_folded: str = field(default="", repr=False)

    def prepare(self) -> Person:
        self.name_folded = name_key(self.name)
        surname, given = split_name(self.name_folded, self.name)
        self.surname_sound = _pinyin(surname)
        self.given_sound = _pinyin(given)
        self.sound = self.surname_sound + self.given_sound
        self.parent_ids = frozenset(x for x in (self.father_id, self.mother_id) if x)
        self.parent_names = frozenset(
            name_key(x) for x in (self.father_name, self.mother_name) if x
        )
        self.latin = bool(self.name_folded) and _latin(self.name_folded)
        self.address_folded = " ".join(name_key(self.address).split()) if self.address else ""
        return self


@dataclass(frozen=True)
class Match:
    a: str
    b: str
    score: float
    contributions: dict[str, float]

    @property
    def reasons(self) -> str:
        """'name +4.0; birth_date +3.0; …' in order of weight."""
        ordered = sorted(self.contributions.items(), key=lambda item: -abs(item[1]))
        return "; ".join(f"{name} {value:+.1f}" for name, value in ordered)


def _date_near(a: datetime.date, b: datetime.date) -> bool:
    """A day off, month and day swapped, or one digit of YYYYMMDD mistyped."""
    if abs((a - b).days) == 1:
        return True
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return True
    x, y = a.strftime("%Y%m%d"), b.strftime("%Y%m%d")
    return sum(1 for p, q in zip(x, y, strict=True) if p != q) == 1


def _latin(text: str) -> bool:
    return all(ord(ch) < 0x2E80 for ch in text)


def _edits(a: str, b: str, limit: int = 2) -> int:
    """Edit distance with two letters swapped as one edit (Damerau, optimal string alignment),
    given up beyond `limit` (limit + 1 is returned)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                value = min(value, before[j - 2] + 1)
            current.append(value)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def _latin_alike(a: Person, b: Person) -> bool:
    return a.latin and b.latin and _spelt_alike(a, b)


def _part_alike(x: str, y: str) -> bool:
    return bool(x) and bool(y) and _edits(x, y, 2) <= (1 if min(len(x), len(y)) <= 4 else 2)


def _spelt_alike(a: Person, b: Person) -> bool:
    """Names in Latin letters (a foreign child, FEBRL): each part a typo or two (a swap of two
    letters one), or the parts swapped."""
    sa, ga = "".join(a.surname_sound), "".join(a.given_sound)
    sb, gb = "".join(b.surname_sound), "".join(b.given_sound)
    if (sa, ga) == (gb, sb):
        return True
    if _part_alike(sa, gb) and _part_alike(ga, sb):
        return True
    return (sa == sb or _part_alike(sa, sb)) and (ga == gb or _part_alike(ga, gb))


def _latin_one_part(a: Person, b: Person) -> bool:
    """Latin names sharing one part (either order), or one name a single part of the other."""
    pa = {"".join(a.surname_sound), "".join(a.given_sound)} - {""}
    pb = {"".join(b.surname_sound), "".join(b.given_sound)} - {""}
    return any(x == y or _part_alike(x, y) for x in pa for y in pb)


def _one_apart(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Given names of the same length, two or more characters, one sound apart."""
    return len(a) == len(b) >= 2 and sum(1 for x, y in zip(a, b, strict=True) if x != y) == 1


def _digits_apart(a: str, b: str) -> int:
    if len(a) != len(b):
        return 99
    return sum(1 for x, y in zip(a[:17], b[:17], strict=False) if x != y)


def compare(a: Person, b: Person) -> dict[str, float]:
    """Every field's contribution to the belief that `a` and `b` are one child."""
    c: dict[str, float] = {}
    if a.name_folded and b.name_folded:
        if a.name_folded == b.name_folded:
            c["name"] = W_NAME_SAME
        elif a.sound == b.sound or _latin_alike(a, b):
            c["name"] = W_NAME_SOUND
        elif a.latin and b.latin:
            c["name"] = W_LATIN_ONE_PART if _latin_one_part(a, b) else W_NAME_OTHER
        elif a.surname_sound == b.surname_sound and _one_apart(a.given_sound, b.given_sound):
            c["name"] = W_NAME_ONE_CHAR
        elif a.surname_sound == b.surname_sound:
            c["name"] = W_NAME_GIVEN_OTHER
        else:
            c["name"] = W_NAME_OTHER
    if a.sex and b.sex:
        c["sex"] = W_SEX_SAME if a.sex == b.sex else W_SEX_OTHER
    if a.birth_date and b.birth_date:
        if a.birth_date == b.birth_date:
            c["birth_date"] = W_DATE_SAME
        elif _date_near(a.birth_date, b.birth_date):
            c["birth_date"] = W_DATE_NEAR
        else:
            c["birth_date"] = W_DATE_OTHER
    if a.id_number and b.id_number and a.id_type == b.id_type:
        apart = _digits_apart(a.id_number, b.id_number)
        if a.id_number == b.id_number:
            c["id_number"] = W_ID_SAME
        elif apart <= 2:
            c["id_number"] = W_ID_NEAR
        else:
            c["id_number"] = W_ID_OTHER
        # One ID number is one person (twins never share one): a name that differs is a name
        # changed (曾用名) or mistyped, not another child.
        if a.id_number == b.id_number and c.get("name", 0.0) < W_NAME_ONE_CHAR:
            c["name"] = W_NAME_ONE_CHAR
    # Twins often share a character (一帆 / 一航) and their ID numbers differ by a digit or two:
    # a given name a sound apart is a slip of the pen only where the documents do not differ.
    if c.get("name") == W_NAME_ONE_CHAR and c.get("id_number") in (W_ID_NEAR, W_ID_OTHER):
        c["name"] = W_NAME_GIVEN_OTHER
    if a.parent_ids and b.parent_ids:
        shared = len(a.parent_ids & b.parent_ids)
        c["parent_ids"] = shared * W_PARENT_ID_SHARED if shared else W_PARENT_ID_NONE
    if a.parent_names and b.parent_names:
        shared = len(a.parent_names & b.parent_names)
        c["parent_names"] = shared * W_PARENT_NAME_SHARED if shared else W_PARENT_NAME_NONE
    if a.birthplace and b.birthplace:
        c["birthplace"] = W_BIRTHPLACE_SAME if a.birthplace == b.birthplace else W_BIRTHPLACE_OTHER
    if a.ethnicity and b.ethnicity and a.ethnicity != b.ethnicity:
        c["ethnicity"] = W_ETHNICITY_OTHER
    if a.address_folded and b.address_folded:
        if a.address_folded == b.address_folded:
            c["address"] = W_ADDRESS_SAME
        elif _edits(a.address_folded, b.address_folded, 2) <= 2:
            c["address"] = W_ADDRESS_NEAR
        else:
            c["address"] = W_ADDRESS_OTHER
    return c


def score_pair(a: Person, b: Person) -> Match:
    contributions = compare(a, b)
    return Match(a.key, b.key, round(sum(contributions.values()), 2), contributions)


def blocking_keys(p: Person) -> Iterator[str]:
    """The keys a record shares with its possible duplicates."""
    year = p.birth_date.year if p.birth_date else ""
    if p.sound:
        yield f"n:{''.join(p.sound)}:{year}"
    if p.birth_date and p.surname_sound:
        yield f"d:{p.birth_date.isoformat()}:{''.join(p.surname_sound)}"
    for parent in p.parent_ids:
        yield f"p:{parent}"
    if len(p.parent_names) == 2:
        yield "pn:" + "|".join(sorted(p.parent_names))
    if p.id_number:
        yield f"i:{p.id_number[:14]}"
        # Its digits as a multiset: two digits swapped keep it.
        yield "is:" + "".join(sorted(p.id_number))
    if p.given_sound and p.birth_date:
        yield f"g:{''.join(p.given_sound)}:{p.birth_date.isoformat()}"
    if p.sound:
        yield f"nm:{''.join(p.sound)}"  # a mistyped year (a common name: a block too big)
    if p.birth_date and p.birthplace:
        yield f"dp:{p.birth_date.isoformat()}:{p.birthplace}"
    if p.latin and p.address_folded:
        yield f"a:{p.address_folded}"
        if p.birth_date:
            yield f"da:{p.birth_date.isoformat()}:{p.address_folded[:6]}"
    if p.latin and p.surname_sound and p.given_sound:
        parts = sorted(("".join(p.surname_sound), "".join(p.given_sound)))
        yield f"ns:{parts[0]}:{parts[1]}"  # the parts in either order


def candidate_pairs(people: Iterable[Person]) -> Iterator[tuple[Person, Person]]:
    """Each pair of records sharing a blocking key, once."""
    blocks: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        for key in blocking_keys(person):
            blocks[key].append(person)
    seen: set[tuple[str, str]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > BLOCK_CAP:
            continue
        for i, first in enumerate(members):
            for second in members[i + 1 :]:
                if first.key == second.key:
                    continue
                pair = (
                    (first.key, second.key) if first.key < second.key else (second.key, first.key)
                )
                if pair in seen:
                    continue
                seen.add(pair)
                yield first, second


# ---- weights estimated from the data (expectation-maximisation) -------------------------------

# Fewer candidate pairs than this and the hand weights decide (too few to estimate from).
MIN_EM_PAIRS = 500
EM_ITERATIONS = 30

Level = tuple[str, float]  # a field and the level of agreement it reached (its hand weight)
# Levels that say "another child" whatever the rest agrees on, and which EM is not asked to
# weigh: a given name of another sound under the same surname (twins share parents, birth date,
# birthplace and nearly the ID number, so that EM, left alone, learns a family, not a child);
# parents named on both records and none shared (namesakes: a common name born the same day
# in the same county).
VETO: frozenset[Level] = frozenset(
    {("name", W_NAME_GIVEN_OTHER), ("parent_names", W_PARENT_NAME_NONE)}
)


@dataclass(frozen=True)
class Weights:
    """Each level's weight (ln m/u) and the prior log-odds of a match among the candidates,
    estimated by EM (Fellegi-Sunter) from the candidate pairs themselves, no labels."""

    levels: dict[Level, float]
    prior: float

    def score(self, contributions: dict[str, float]) -> dict[str, float]:
        return {
            name: round(self.levels.get((name, value), value), 2)
            for name, value in contributions.items()
        }


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def estimate_weights(patterns: Counter[tuple[Level, ...]]) -> Weights | None:
    """EM over the comparison patterns of the candidate pairs (each pattern: the level of every
    field both records have), started from the hand weights' belief; None when the candidates
    are too few or EM finds no matches among them."""
    total = sum(patterns.values())
    if total < MIN_EM_PAIRS:
        return None
    items = list(patterns.items())
    vetoed = [any(level in VETO for level in pattern) for pattern, _n in items]
    posterior = [
        0.0 if veto else _sigmoid(sum(v for _f, v in pattern) - THRESHOLD)
        for veto, (pattern, _n) in zip(vetoed, items, strict=True)
    ]
    weights: dict[Level, float] = {}
    prior = 0.0
    for _round in range(EM_ITERATIONS):
        matched = sum(p * n for p, (_pattern, n) in zip(posterior, items, strict=True))
        if matched < 1.0 or matched > total - 1.0:
            return None
        m_level: dict[Level, float] = defaultdict(float)
        u_level: dict[Level, float] = defaultdict(float)
        m_field: dict[str, float] = defaultdict(float)
        u_field: dict[str, float] = defaultdict(float)
        for p, (pattern, n) in zip(posterior, items, strict=True):
            for level in pattern:
                m_level[level] += p * n
                u_level[level] += (1.0 - p) * n
                m_field[level[0]] += p * n
                u_field[level[0]] += (1.0 - p) * n
        levels_of: dict[str, int] = defaultdict(int)
        for level in m_level:
            levels_of[level[0]] += 1
        weights = {}
        for level in m_level:
            name, k = level[0], levels_of[level[0]]
            m = (m_level[level] + 0.5) / (m_field[name] + 0.5 * k)
            u = (u_level[level] + 0.5) / (u_field[name] + 0.5 * k)
            weights[level] = math.log(m / u)
        prior = math.log(matched / (total - matched))
        posterior = [
            0.0 if veto else _sigmoid(prior + sum(weights[level] for level in pattern))
            for veto, (pattern, _n) in zip(vetoed, items, strict=True)
        ]
    return Weights(weights, prior)


def _pattern(contributions: dict[str, float]) -> tuple[Level, ...]:
    return tuple(sorted(contributions.items()))


def _decide(
    scored: list[tuple[str, str, dict[str, float]]], threshold: float | None
) -> list[Match]:
    """The pairs that match: by the weights EM estimates from these candidates where there
    are enough of them (log-odds of at least 0, or `threshold` if given), else by the hand
    weights and THRESHOLD."""
    weights = estimate_weights(Counter(_pattern(c) for _a, _b, c in scored))
    found = []
    for a, b, contributions in scored:
        if weights is None:
            total = round(sum(contributions.values()), 2)
            if total >= (THRESHOLD if threshold is None else threshold):
                found.append(Match(a, b, total, contributions))
            continue
        if any(level in VETO for level in contributions.items()):
            continue
        learned = weights.score(contributions)
        total = round(weights.prior + sum(learned.values()), 2)
        if total >= (0.0 if threshold is None else threshold):
            found.append(Match(a, b, total, {"prior": round(weights.prior, 2), **learned}))
    found.sort(key=lambda match: (-match.score, match.a, match.b))
    return found


def find_duplicates(people: Iterable[Person], *, threshold: float | None = None) -> list[Match]:
    """The pairs that may be one child, best first (see _decide)."""
    prepared = [person.prepare() for person in people]
    scored = []
    for first, second in candidate_pairs(prepared):
        a, b = sorted((first.key, second.key))
        scored.append((a, b, compare(first, second)))
    return _decide(scored, threshold)


def find_against(
    new: Iterable[Person], known: Iterable[Person], *, threshold: float | None = None
) -> list[Match]:
    """Pairs of a new record with a known one (the incremental scan): blocks are built from the
    known records once, and only the new records are looked up in them."""
    blocks: dict[str, list[Person]] = defaultdict(list)
    for person in known:
        person.prepare()
        for key in blocking_keys(person):
            blocks[key].append(person)
    seen: set[tuple[str, str]] = set()
    scored = []
    for person in new:
        person.prepare()
        for key in blocking_keys(person):
            members = blocks.get(key, [])
            if len(members) > BLOCK_CAP:
                continue
            for other in members:
                if other.key == person.key:
                    continue
                a, b = sorted((person.key, other.key))
                if (a, b) in seen:
                    continue
                seen.add((a, b))
                scored.append((a, b, compare(person, other)))
    return _decide(scored, threshold)
