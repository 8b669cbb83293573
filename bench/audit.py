"""Registrations per second through students.services.student_register with the audit trail on
and off, by 1, 8 and 32 concurrent registrars in 32 counties (issue 17).

Each worker is the registrar of a primary school in a county of its own (real county codes of
广东, spread over its cities), so each writes to its own audit chain (xueji.audit.chains: the
acting unit's county) and takes only that chain's advisory lock. The same registrations are made
with the audit switched off (xueji.students.services.audit_record, the registration path's only
audit call, replaced by a no-op) in the same run, on children made by the same generator. For
each worker count the registrations are split into rounds run in ABBA order (off on, on off,
off on, ... : eight rounds by default, a few seconds each), so that a machine whose load drifts
weighs on both sides alike. Before the timed rounds each registrar registers one child with the
audit on, untimed: a chain's first entry registers the chain, once in its life.

Goal (issue 17): at 8 and 32 workers the audited throughput is at least 0.8× the unaudited.

While the registrations run, a thread samples `pg_locks` (joined to `pg_stat_activity`, this
database only) and counts the samples in which a backend waits for an advisory lock of the
trail's class (xueji.audit.chains.LOCK_CLASS: a chain's writers taking turns), waits for a row,
tuple, relation or transaction lock in a statement on an audit table, or waits for anything
else; and, in each sample, what the backends running a statement wait for
(pg_stat_activity.wait_event: WAL writes, LWLocks, ..., or "running"). During the audited rounds
a checkpoint is sealed every few seconds (`--seal-every`), as `xueji audit seal --every` does in
production, its witness file in a temporary directory.

Checked after each round: the audited rounds wrote one entry per registration, each in the
registrar's county chain, and the unaudited ones wrote none.

`python -m bench.audit` runs this part alone on a fresh database (BENCH_DATABASE_URL); it is
also part of `python -m bench` (option `--audit-registrations`).

Imports of Django and of xueji are inside the functions: `python -m bench.audit` (and
bench.report, which `python -m bench` imports first) import this module before
bench.database.django_on has set Django up.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

PROVINCE = "440000"
COUNTIES = 32
WORKER_COUNTS = (1, 8, 32)
# Per worker count and side. On 2 busy cores: 20 to 70 s for each worker count (both sides), the
# whole part (children generated, 6 × this registered) about 2.5 minutes.
REGISTRATIONS = 960
ROUNDS = 8
GOAL = 0.8
GOAL_WORKERS = (8, 32)
SAMPLE_SECONDS = 0.05
# Registrations per registrar before the timed rounds (untimed, audited): each chain's first.
WARM_UP = 1
SEAL_SECONDS = 5.0
# The one audit call of the registration path (students.services.student_register).
AUDIT_CALLS = ("xueji.students.services.audit_record",)


# ---- the world: 32 counties, a school and a registrar in each, their children -----------------


def counties(count: int) -> list[Any]:
    """`count` counties of 广东, taken from its cities in turn (so that they spread over the
    province), each with its city and province."""
    from xueji.geo.models import Division, DivisionLevel

    by_city: dict[str, list[Any]] = {}
    for county in (
        Division.objects.filter(level=DivisionLevel.COUNTY, code__startswith=PROVINCE[:2])
        .select_related("parent__parent")
        .order_by("code")
    ):
        by_city.setdefault(county.parent_id, []).append(county)
    chosen: list[Any] = []
    queues = list(by_city.values())
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    if len(chosen) < count:
        raise RuntimeError(f"广东 has {len(chosen)} counties, not {count}")
    return chosen


def shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` near-equal whole shares."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def plan(
    registrations: int, worker_counts: tuple[int, ...], rounds: int
) -> dict[tuple[int, int, bool, int], int]:
    """How many children worker i registers in each round of each side:
    {(workers, round, audited, i): count}. Each side of a worker count registers
    `registrations` in all."""
    counts: dict[tuple[int, int, bool, int], int] = {}
    for workers in worker_counts:
        per_round = shares(registrations, rounds)
        for round_index, in_round in enumerate(per_round):
            for audited in (False, True):
                for worker, count in enumerate(shares(in_round, workers)):
                    counts[(workers, round_index, audited, worker)] = count
    return counts


def world(workers: int, needs: list[int], seed: int) -> list[dict[str, Any]]:
    """A primary school in each of `workers` counties (fresh 学校标识码, as synth makes them),
    its grade-1 class, its registrar and the children it will register."""
    from bench.register import _registrar, generated_children_in
    from xueji.demo import synth
    from xueji.schools.models import AcademicYear, SchoolClass, SchoolKind

    year = AcademicYear.objects.get_or_create(start_year=2026)[0]
    places = counties(workers)
    schools = synth.create_schools([(county, SchoolKind.PRIMARY) for county in places], PROVINCE)
    classes = SchoolClass.objects.bulk_create(
        SchoolClass(school=school, academic_year=year, grade=1, number=1, name="1班")
        for school, _county in schools
    )
    # Read back with the school and its county, which the generator and the service read.
    classes = list(
        SchoolClass.objects.select_related("school__county", "academic_year")
        .filter(pk__in=[klass.pk for klass in classes])
        .order_by("school__county_id")
    )
    by_county = {klass.school.county_id: klass for klass in classes}
    ordered = [by_county[county.code] for county in places]
    children = generated_children_in(
        [(klass, need) for klass, need in zip(ordered, needs, strict=True)], seed
    )
    return [
        {
            "county": klass.school.county_id,
            "county_name": klass.school.county.name,
            "class": klass,
            "registrar": _registrar(klass.school),
            "children": iter(children[klass.pk]),
        }
        for klass in ordered
    ]


# ---- the lock sampler ----------------------------------------------------------------------------

WAITING = """
    SELECT l.locktype, l.classid::bigint, l.relation::regclass::text, a.query
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE NOT l.granted AND a.datname = current_database() AND a.pid <> pg_backend_pid()
"""
# What the other backends of this database running a statement wait for (LWLocks, I/O, the
# client...): not locks in pg_locks, but where their time goes.
WAIT_EVENTS = """
    SELECT coalesce(wait_event_type || ':' || wait_event, 'running'), count(*)
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
    GROUP BY 1
"""


class Sampler:
    """A thread that reads the waiting locks of this database every `interval` seconds."""

    def __init__(self, interval: float) -> None:
        from xueji.audit.chains import LOCK_CLASS

        self.interval = interval
        self.lock_class = LOCK_CLASS
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pg_locks sampler")
        self.counts = {
            "samples": 0,
            "chain_lock_wait_samples": 0,
            "chain_lock_waiters": 0,
            "chain_lock_waiters_max": 0,
            "audit_row_wait_samples": 0,
            "audit_row_waiters": 0,
            "other_wait_samples": 0,
        }
        self.other: dict[str, int] = {}
        self.wait_events: dict[str, int] = {}
        self.error = ""

    def _sample(self, cursor: Any) -> None:
        cursor.execute(WAITING)
        chain = audit = other = 0
        for locktype, classid, relation, query in cursor.fetchall():
            on_audit = (relation or "").startswith("audit_") or "audit_" in (query or "").lower()
            if locktype == "advisory" and classid == self.lock_class:
                chain += 1
            elif locktype in ("relation", "tuple", "transactionid") and on_audit:
                audit += 1
            else:
                other += 1
                what = f"{locktype} {relation or ''} {(query or '')[:60]}".strip()
                self.other[what] = self.other.get(what, 0) + 1
        counts = self.counts
        counts["samples"] += 1
        counts["chain_lock_wait_samples"] += chain > 0
        counts["chain_lock_waiters"] += chain
        counts["chain_lock_waiters_max"] = max(counts["chain_lock_waiters_max"], chain)
        counts["audit_row_wait_samples"] += audit > 0
        counts["audit_row_waiters"] += audit
        counts["other_wait_samples"] += other > 0
        cursor.execute(WAIT_EVENTS)
        for event, backends in cursor.fetchall():
            self.wait_events[event] = self.wait_events.get(event, 0) + backends

    def _run(self) -> None:
        from django.db import connection

        try:
            with connection.cursor() as cursor:
                while not self.stopping.is_set():
                    self._sample(cursor)
                    self.stopping.wait(self.interval)
        except Exception as error:
            self.error = repr(error)
        finally:
            connection.close()

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()

    def result(self) -> dict[str, Any]:
        common = sorted(self.other.items(), key=lambda item: -item[1])[:5]
        events = sorted(self.wait_events.items(), key=lambda item: -item[1])
        return {
            **self.counts,
            "other_waits": dict(common),
            "wait_events": dict(events),
            "sampler_error": self.error,
        }


class Sealer:
    """A thread that seals a checkpoint after every `interval` seconds (0: never) spent in
    audited rounds, as `xueji audit seal --every` does, and does nothing in the unaudited ones
    (whose time would otherwise pay for sealing what the audited rounds wrote)."""

    TICK = 0.1

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.active = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="checkpoint sealer")
        self.sealed = 0
        self.error = ""

    def _run(self) -> None:
        from django.db import connection

        from xueji.audit.checkpoints import audit_checkpoint_seal

        active_for = 0.0
        try:
            while not self.stopping.wait(self.TICK):
                if not self.active.is_set():
                    continue
                active_for += self.TICK
                if active_for >= self.interval:
                    active_for = 0.0
                    if audit_checkpoint_seal().checkpoint is not None:
                        self.sealed += 1
        except Exception as error:
            self.error = repr(error)
        finally:
            connection.close()

    def __enter__(self) -> Sealer:
        if self.interval > 0:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        if self.interval > 0:
            self.thread.join()


# ---- one round -------------------------------------------------------------------------------


def _no_audit(**_kwargs: Any) -> None:
    return None


@contextmanager
def audit_off() -> Iterator[None]:
    """The registration path with its audit call a no-op."""
    with mock.patch(AUDIT_CALLS[0], _no_audit):
        yield


def register_in_workers(units: list[dict[str, Any]], counts: list[int]) -> dict[str, Any]:
    """Each unit's registrar registers its next `count` children, one thread (and database
    connection) per unit, all starting together. Timed from the start to the last
    registration (connections opened before, closed after)."""
    from django.db import connection

    from xueji.students.services import student_register

    barrier = threading.Barrier(len(units) + 1)
    finished: list[float] = []
    errors: list[str] = []
    done = [0] * len(units)

    def work(index: int, unit: dict[str, Any], children: list[Any]) -> None:
        klass, registrar = unit["class"], unit["registrar"]
        try:
            try:
                connection.ensure_connection()
            except Exception:
                barrier.abort()
                raise
            barrier.wait()
            for child in children:
                try:
                    student_register(actor=registrar, school_class_id=klass.pk, data=child)
                    done[index] += 1
                except Exception as error:
                    errors.append(repr(error))
            finished.append(time.perf_counter())
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=work, args=(index, unit, [next(unit["children"]) for _ in range(count)])
        )
        for index, (unit, count) in enumerate(zip(units, counts, strict=True))
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return {
        "seconds": max(finished, default=started) - started,
        "registered": sum(done),
        "by_unit": done,
        "errors": errors,
    }


def entries_by_chain(chains: list[str]) -> dict[str, int]:
    from django.db.models import Count

    from xueji.audit.models import AuditEntry

    return dict(
        AuditEntry.objects.filter(chain__in=chains, action="student.register")
        .values("chain")
        .annotate(n=Count("id"))
        .values_list("chain", "n")
    )


def run_round(
    units: list[dict[str, Any]], counts: list[int], audited: bool, sealer: Sealer
) -> dict[str, Any]:
    chains = [unit["county"] for unit in units]
    before = entries_by_chain(chains)
    sealed = sealer.sealed
    with Sampler(SAMPLE_SECONDS) as sampler:
        if audited:
            sealer.active.set()
            try:
                outcome = register_in_workers(units, counts)
            finally:
                sealer.active.clear()
        else:
            with audit_off():
                outcome = register_in_workers(units, counts)
    after = entries_by_chain(chains)
    written = [after.get(chain, 0) - before.get(chain, 0) for chain in chains]
    expected = outcome["by_unit"] if audited else [0] * len(units)
    return {
        **outcome,
        "audited": audited,
        "entries_written": sum(written),
        "entries_as_expected": written == expected,
        "locks": sampler.result(),
        "checkpoints_sealed": sealer.sealed - sealed,
    }


# ---- the part --------------------------------------------------------------------------------


def run(
    registrations: int = REGISTRATIONS,
    worker_counts: tuple[int, ...] = WORKER_COUNTS,
    *,
    rounds: int = ROUNDS,
    seed: int = 2026,
    seal_every: float = SEAL_SECONDS,
) -> dict[str, Any]:
    """Set up the schools and children, then time each worker count's rounds."""
    from django.db import connection
    from django.test import override_settings

    from xueji.audit.chains import LOCK_CLASS

    if connection.vendor != "postgresql":
        raise RuntimeError("the audit bench runs on PostgreSQL (its chain locks are advisory)")
    widest = max(worker_counts)
    counts = plan(registrations, worker_counts, rounds)
    # One more each for the warm-up: a chain's first entry registers the chain, once.
    needs = [
        WARM_UP + sum(n for (_w, _r, _a, worker), n in counts.items() if worker == index)
        for index in range(widest)
    ]
    print(f"  audit: {sum(needs):,} children for {widest} schools in {widest} counties", flush=True)
    units = world(widest, needs, seed)
    warm = register_in_workers(units, [WARM_UP] * widest)
    if warm["errors"]:
        raise RuntimeError(f"the warm-up registrations failed: {warm['errors'][:3]}")
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    results: dict[str, Any] = {
        "registrations": registrations,
        "rounds": rounds,
        "seal_every_seconds": seal_every,
        "sample_seconds": SAMPLE_SECONDS,
        "lock_class": LOCK_CLASS,
        "counties": [f"{unit['county']} {unit['county_name']}" for unit in units],
        "by_workers": {},
    }
    with (
        tempfile.TemporaryDirectory(prefix="xueji-bench-audit-") as witness,
        override_settings(XUEJI_AUDIT_WITNESS_FILE=str(Path(witness) / "witness.json")),
        Sealer(seal_every) as sealer,
    ):
        for workers in worker_counts:
            sides: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
            for round_index in range(rounds):
                # ABBA: off then on in even rounds, on then off in odd ones.
                order = (False, True) if round_index % 2 == 0 else (True, False)
                for audited in order:
                    share = [counts[(workers, round_index, audited, w)] for w in range(workers)]
                    outcome = run_round(units[:workers], share, audited, sealer)
                    sides[audited].append(outcome)
                    print(
                        f"  audit: {workers} workers, round {round_index + 1}, audit "
                        f"{'on ' if audited else 'off'}: {outcome['registered']} in "
                        f"{outcome['seconds']:.1f} s, chain-lock wait samples "
                        f"{outcome['locks']['chain_lock_wait_samples']}/"
                        f"{outcome['locks']['samples']}",
                        flush=True,
                    )
            results["by_workers"][str(workers)] = summary(workers, sides)
    results["sealer_error"] = sealer.error
    results["goal"] = GOAL
    results["goal_workers"] = list(GOAL_WORKERS)
    checked = [
        results["by_workers"][str(w)] for w in GOAL_WORKERS if str(w) in results["by_workers"]
    ]
    results["goal_met"] = bool(checked) and all(side["ratio"] >= GOAL for side in checked)
    return results


def summary(workers: int, sides: dict[bool, list[dict[str, Any]]]) -> dict[str, Any]:
    def side(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
        seconds = sum(outcome["seconds"] for outcome in outcomes)
        registered = sum(outcome["registered"] for outcome in outcomes)
        locks: dict[str, Any] = {}
        for outcome in outcomes:
            for name, value in outcome["locks"].items():
                if name == "chain_lock_waiters_max":
                    locks[name] = max(locks.get(name, 0), value)
                elif isinstance(value, int):
                    locks[name] = locks.get(name, 0) + value
                elif isinstance(value, dict):
                    merged = locks.setdefault(name, {})
                    for what, n in value.items():
                        merged[what] = merged.get(what, 0) + n
                elif value:
                    locks.setdefault("errors", []).append(value)
        errors = [error for outcome in outcomes for error in outcome["errors"]]
        return {
            "seconds": seconds,
            "registered": registered,
            "per_second": registered / seconds if seconds else 0.0,
            "rounds_seconds": [outcome["seconds"] for outcome in outcomes],
            "entries_written": sum(outcome["entries_written"] for outcome in outcomes),
            "entries_as_expected": all(outcome["entries_as_expected"] for outcome in outcomes),
            "checkpoints_sealed": sum(outcome["checkpoints_sealed"] for outcome in outcomes),
            "errors": len(errors),
            "first_errors": errors[:5],
            "locks": locks,
        }

    audited, unaudited = side(sides[True]), side(sides[False])
    ratio = audited["per_second"] / unaudited["per_second"] if unaudited["per_second"] else 0.0
    return {"workers": workers, "audited": audited, "unaudited": unaudited, "ratio": ratio}


# ---- what the bench's table and RESULTS.md show ------------------------------------------------


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The bench table's rows: one per worker count (ratio: time audited over unaudited, as the
    table's other ratios; the throughput fraction the goal is about beside it)."""
    table = []
    for workers, line in results["by_workers"].items():
        audited, unaudited = line["audited"], line["unaudited"]
        goal = f", goal ≥ {results['goal']}" if int(workers) in results["goal_workers"] else ""
        table.append(
            (
                f"registration with the audit trail, {workers} "
                f"{'worker in 1 county' if workers == '1' else f'workers in {workers} counties'} "
                f"({results['registrations']:,})",
                f"{audited['per_second']:,.1f} students/s",
                f"audit off {unaudited['per_second']:,.1f}/s",
                f"{1 / line['ratio'] if line['ratio'] else float('inf'):.2f}× "
                f"(throughput {line['ratio']:.2f}{goal})",
            )
        )
    return table


def markdown(results: dict[str, Any]) -> list[str]:
    """RESULTS.md's lines about this part."""
    lines = [
        "- **registration with the audit trail** (bench/audit.py, issue 17): "
        "`students.services.student_register` by 1, 8 and 32 concurrent registrars, each at a "
        "primary school of a county of its own (so each appends to its own audit chain), "
        f"{results['registrations']:,} registrations per worker count and side, in "
        f"{results['rounds']} rounds run in ABBA order; against the same with the registration "
        "path's audit call (`students.services.audit_record`) a no-op. Checkpoints sealed every "
        f"{results['seal_every_seconds']:g} s during the audited rounds. Goal: at "
        f"{' and '.join(map(str, results['goal_workers']))} workers the audited throughput at "
        f"least {results['goal']}× the unaudited: "
        f"**{'met' if results['goal_met'] else 'not met'}**. Waits sampled from `pg_locks` every "
        f"{results['sample_seconds'] * 1000:.0f} ms (audited rounds; the unaudited in brackets):",
    ]
    for workers, line in results["by_workers"].items():
        on, off = line["audited"]["locks"], line["unaudited"]["locks"]
        lines.append(
            f"  - {workers} {'worker' if workers == '1' else 'workers'}: {on['samples']} "
            "samples, a chain lock (advisory, class "
            f"{results['lock_class']:#x}) waited for in {on['chain_lock_wait_samples']} "
            f"(at most {on['chain_lock_waiters_max']} waiters), a row or transaction lock on an "
            f"audit table in {on['audit_row_wait_samples']}, any other lock in "
            f"{on['other_wait_samples']} [{off['samples']} samples: "
            f"{off['chain_lock_wait_samples']}, {off['audit_row_wait_samples']}, "
            f"{off['other_wait_samples']}]; {line['audited']['entries_written']:,} entries "
            f"written, one per audited registration "
            f"({'checked' if line['audited']['entries_as_expected'] else 'NOT as expected'}), "
            f"none when off ({'checked' if line['unaudited']['entries_as_expected'] else 'NOT'})"
            f"; {line['audited']['checkpoints_sealed']} checkpoints sealed; errors "
            f"{line['audited']['errors']} / {line['unaudited']['errors']}."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument(
        "--registrations",
        type=int,
        default=REGISTRATIONS,
        help="per worker count and side (audited, unaudited)",
    )
    parser.add_argument(
        "--workers",
        default=",".join(map(str, WORKER_COUNTS)),
        help="worker counts, comma-separated (at most 32: one county each)",
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="ABBA rounds per worker count")
    parser.add_argument(
        "--seal-every", type=float, default=SEAL_SECONDS, help="seconds (0: no checkpoints)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    worker_counts = tuple(int(part) for part in args.workers.split(",") if part.strip())
    if not worker_counts or min(worker_counts) < 1 or max(worker_counts) > COUNTIES:
        parser.error(f"--workers: between 1 and {COUNTIES}")

    from bench import database

    with database.django_on(database.bench_url(), fresh=True, keep=args.keep_database):
        result = run(
            args.registrations,
            worker_counts,
            rounds=args.rounds,
            seed=args.seed,
            seal_every=args.seal_every,
        )
    print(json.dumps(result, indent=2, ensure_ascii=False))
    for row in rows(result):
        print(" | ".join(row))
    print(
        f"goal (≥ {GOAL}× at {', '.join(map(str, GOAL_WORKERS))} workers): "
        f"{'met' if result['goal_met'] else 'not met'}"
    )
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"audit-{args.registrations}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
