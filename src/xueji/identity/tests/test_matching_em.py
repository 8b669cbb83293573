"""The matcher's weights estimated by EM from the candidate pairs (no labels), on a population
large enough for it: children with a second record (a homophone, a traditional name, a date a
day off, a J number without an ID), twins and namesakes. Every duplicate is found; no twin and
no namesake is paired; each pair carries the estimated prior and field weights."""

from __future__ import annotations

import datetime
import random

from xueji.identity.matching import MIN_EM_PAIRS, Person, candidate_pairs, find_duplicates

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然子涵欣怡梓轩"
HOMOPHONE = {"明": "铭", "伟": "玮", "杰": "洁", "华": "桦", "涛": "滔", "飞": "菲"}
TRADITIONAL = {"张": "張", "刘": "劉", "陈": "陳", "杨": "楊", "黄": "黃", "赵": "趙"}


def _population(seed: int = 3) -> tuple[list[Person], set[tuple[str, str]], set[tuple[str, str]]]:
    rng = random.Random(seed)
    people: list[Person] = []
    truth: set[tuple[str, str]] = set()
    apart: set[tuple[str, str]] = set()
    for n in range(1500):
        surname = rng.choice(SURNAMES)
        given = "".join(rng.choice(GIVEN) for _ in range(2))
        born = datetime.date(2012, 1, 1) + datetime.timedelta(days=rng.randrange(2000))
        county = f"4403{rng.randrange(1, 9):02d}"
        father = surname + rng.choice(GIVEN) + rng.choice(GIVEN)
        mother = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        id_number = f"{county}{born:%Y%m%d}{n % 1000:03d}{n % 10}"
        child = Person(
            key=f"c{n}",
            name=surname + given,
            sex="1" if n % 2 else "2",
            birth_date=born,
            id_type="1",
            id_number=id_number,
            birthplace=county,
            father_name=father,
            mother_name=mother,
            county=county,
        )
        people.append(child)
        kind = n % 5
        if kind in (0, 1, 2):  # a second record of the same child
            name = child.name
            if kind == 0:
                name = surname + "".join(HOMOPHONE.get(ch, ch) for ch in given)
                name = name if name != child.name else TRADITIONAL.get(surname, surname) + given
            other_born = born + datetime.timedelta(days=1) if kind == 1 else born
            twin = Person(
                key=f"d{n}",
                name=name,
                sex=child.sex,
                birth_date=other_born,
                id_type="1" if kind != 2 else "",
                id_number=id_number if kind != 2 else "",
                birthplace=county,
                father_name=mother if kind == 2 else father,  # parents swapped
                mother_name=father if kind == 2 else mother,
                county=f"4403{rng.randrange(1, 9):02d}",
            )
            people.append(twin)
            truth.add(tuple(sorted((child.key, twin.key))))  # type: ignore[arg-type]
        elif kind == 3:  # a twin: same parents and birth date, another given name
            other = rng.choice([g for g in GIVEN if g not in given[:1]])
            twin = Person(
                key=f"t{n}",
                name=surname + other + given[1],
                sex=child.sex,
                birth_date=born,
                id_type="1",
                id_number=f"{county}{born:%Y%m%d}{(n + 1) % 1000:03d}{(n + 1) % 10}",
                birthplace=county,
                father_name=father,
                mother_name=mother,
                county=county,
            )
            people.append(twin)
            apart.add(tuple(sorted((child.key, twin.key))))  # type: ignore[arg-type]
        else:  # a namesake: same name, birth date and county, other parents
            namesake = Person(
                key=f"n{n}",
                name=child.name,
                sex=child.sex,
                birth_date=born,
                birthplace=county,
                father_name=rng.choice(SURNAMES) + "某某",
                mother_name=rng.choice(SURNAMES) + "某",
                county=county,
            )
            people.append(namesake)
            apart.add(tuple(sorted((child.key, namesake.key))))  # type: ignore[arg-type]
    return people, truth, apart


def test_em_weights_find_every_duplicate_and_pair_no_twin_or_namesake():
    people, truth, apart = _population()
    candidates = sum(1 for _pair in candidate_pairs([p.prepare() for p in people]))
    assert candidates >= MIN_EM_PAIRS  # the weights are estimated, not the hand ones
    matches = find_duplicates(people)
    found = {(m.a, m.b) for m in matches}
    assert truth <= found
    assert not found & apart
    # Each pair says how it was weighed: the prior of a match and every field's weight.
    assert all("prior" in m.contributions and "name" in m.contributions for m in matches)
    assert all(m.score == round(sum(m.contributions.values()), 2) for m in matches[:50])
