"""The cost of sealing identity numbers: the same service code with the cipher and without it.

Registration (`students.services.student_register`) and exact lookups
(`students.selectors.student_by_number`, by student number and by resident ID number, for a
provincial viewer) run twice over the same children in the same run:

- sealed: as in production, AES-256-GCM for the stored value and a keyed HMAC for the index;
- plaintext (the baseline): `xueji.core.crypto.bench_plaintext()`, an identity sealer that stores
  the number as it is and indexes it by itself. It exists for this bench alone: it refuses unless
  XUEJI_BENCH_PLAINTEXT=1 (set by this process only), the settings are not production's and the
  database is a bench database.

Every child is registered both ways (the plaintext index of a number differs from its HMAC, so
the same child fits twice), one transaction each, the two in random order, back to back, so that
noise hits both sides; each lookup likewise. Throughput ratios are sealed / plaintext; the cost
of encryption is how much longer the sealed side takes, in per cent. Rows written as plaintext
stay in the bench database, so this part runs last (`python -m bench`), or alone:
`python -m bench.encryption --database-url postgres://…/xueji_bench…` on a loaded database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

PROVINCE = "440000"
WARMUP = 20
SIDES = ("sealed", "plaintext")
GOAL_PERCENT = 30.0


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


def _viewer() -> Any:
    from django.contrib.auth import get_user_model

    from xueji.access.models import Membership, Role, ScopeLevel
    from xueji.geo.models import Division

    user = get_user_model().objects.create(username=f"bench-crypto-viewer-{uuid.uuid4().hex[:8]}")
    Membership.objects.create(
        user=user,
        role=Role.BUREAU_VIEWER,
        scope_level=ScopeLevel.PROVINCE,
        division=Division.objects.get(code=PROVINCE),
    )
    return user


def _primitives(rounds: int = 5_000) -> dict[str, float]:
    """Microseconds per call of the primitives, as a check on what the ratios say."""
    from xueji.core import crypto

    number = "44030420150101002X"
    timings = {}
    calls: dict[str, Callable[[], Any]] = {
        "encrypt_us": lambda: crypto.encrypt(number, context="student.id_number"),
        "blind_index_us": lambda: crypto.blind_index(number, context="document"),
    }
    token = crypto.encrypt(number, context="student.id_number")
    calls["decrypt_us"] = lambda: crypto.decrypt(token, context="student.id_number")
    for name, call in calls.items():
        started = time.perf_counter()
        for _ in range(rounds):
            call()
        timings[name] = (time.perf_counter() - started) / rounds * 1e6
    return timings


def run(count: int, queries: int, seed: int) -> dict[str, Any]:
    """Register `count` children both ways, then `queries` lookups of each kind both ways."""
    from bench.register import _registrar, generated_children
    from xueji.core import crypto
    from xueji.schools.models import SchoolClass, SchoolKind
    from xueji.students.selectors import student_by_number
    from xueji.students.services import student_register

    # This process only: the switch the plaintext sealer requires.
    os.environ[crypto.PLAINTEXT_FLAG] = "1"
    try:
        school_class = (
            SchoolClass.objects.select_related("school__county")
            .filter(grade=1, school__kind=SchoolKind.PRIMARY)
            .order_by("-pk")
            .first()
        )
        if school_class is None:
            raise RuntimeError("no grade-1 class of a primary school to register into")
        registrar = _registrar(school_class.school)
        viewer = _viewer()
        children = generated_children(school_class, count + WARMUP, seed)
        rng = random.Random(seed)

        def sealing(side: str) -> Any:
            from contextlib import nullcontext

            return crypto.bench_plaintext() if side == "plaintext" else nullcontext()

        registered: dict[str, list[float]] = {side: [] for side in SIDES}
        for index, child in enumerate(children):
            order = list(SIDES)
            rng.shuffle(order)
            for side in order:
                with sealing(side):
                    started = time.perf_counter()
                    student_register(actor=registrar, school_class_id=school_class.pk, data=child)
                    elapsed = time.perf_counter() - started
                if index >= WARMUP:
                    registered[side].append(elapsed)

        numbers = [("G" + child.id_number, child.id_number) for child in children]
        lookups: dict[str, dict[str, list[float]]] = {
            kind: {side: [] for side in SIDES} for kind in ("student number", "ID number")
        }
        for index in range(queries + WARMUP):
            student_number, id_number = numbers[rng.randrange(len(numbers))]
            for kind, value in (("student number", student_number), ("ID number", id_number)):
                order = list(SIDES)
                rng.shuffle(order)
                for side in order:
                    with sealing(side):
                        started = time.perf_counter()
                        found = student_by_number(viewer, value)
                        elapsed = time.perf_counter() - started
                        if found is None:
                            raise RuntimeError(f"{side} lookup by {kind} found nothing")
                        if side == "plaintext" and found.number_sealed.startswith("v1."):
                            raise RuntimeError("the plaintext lookup found the sealed record")
                    if index >= WARMUP:
                        lookups[kind][side].append(elapsed)
        primitives = _primitives()
    finally:
        os.environ.pop(crypto.PLAINTEXT_FLAG, None)

    throughput = {side: len(times) / sum(times) for side, times in registered.items()}
    results: dict[str, Any] = {
        "registrations": count,
        "queries": queries,
        "registration": {
            "sealed_per_second": throughput["sealed"],
            "plaintext_per_second": throughput["plaintext"],
            "ratio": throughput["sealed"] / throughput["plaintext"],
            "cost_percent": (throughput["plaintext"] / throughput["sealed"] - 1) * 100,
            "sealed": _percentiles(registered["sealed"]),
            "plaintext": _percentiles(registered["plaintext"]),
        },
        "lookups": {},
        "primitives": primitives,
    }
    for kind, sides in lookups.items():
        stats = {side: _percentiles(samples) for side, samples in sides.items()}
        per_second = {side: len(samples) / sum(samples) for side, samples in sides.items()}
        results["lookups"][kind] = {
            **stats,
            "sealed_per_second": per_second["sealed"],
            "plaintext_per_second": per_second["plaintext"],
            "ratio": per_second["sealed"] / per_second["plaintext"],
            "cost_percent": (per_second["plaintext"] / per_second["sealed"] - 1) * 100,
        }
    return results


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, xueji, baseline, ratio) rows for bench/report.py's table."""
    registration = results["registration"]
    found = [
        (
            f"registration with numbers sealed ({results['registrations']:,} children), throughput",
            f"{registration['sealed_per_second']:,.1f} students/s",
            f"plaintext sealer {registration['plaintext_per_second']:,.1f}/s",
            f"{registration['ratio']:.3f} (cost {registration['cost_percent']:+.1f}%)",
        )
    ]
    for kind, case in results["lookups"].items():
        found.append(
            (
                f"lookup by {kind}, sealed, p50 / p95 ({results['queries']} queries)",
                f"{case['sealed']['p50_ms']:.2f} / {case['sealed']['p95_ms']:.2f} ms",
                f"plaintext {case['plaintext']['p50_ms']:.2f} / "
                f"{case['plaintext']['p95_ms']:.2f} ms",
                f"{case['ratio']:.3f} (cost {case['cost_percent']:+.1f}%)",
            )
        )
    return found


def markdown(results: dict[str, Any]) -> list[str]:
    """The section of bench/RESULTS.md that says what the encryption rows compare."""
    primitives = results["primitives"]
    return [
        "- **numbers sealed** (issue 3: cost of encryption under "
        f"{GOAL_PERCENT:.0f}%): the same children registered through "
        "`students.services.student_register` and looked up through "
        "`students.selectors.student_by_number` (provincial viewer) with the numbers sealed "
        "(AES-256-GCM + HMAC blind index) and with the bench-only identity sealer "
        "(`xueji.core.crypto.bench_plaintext`, refused outside a bench database), each pair "
        "back to back in random order; the ratio is sealed / plaintext throughput. One call "
        f"costs {primitives['encrypt_us']:.1f} µs to seal, {primitives['decrypt_us']:.1f} µs to "
        f"unseal, {primitives['blind_index_us']:.1f} µs to index."
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the encryption bench alone."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.encryption", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--students", type=int, default=100_000, help="synth, fresh database")
    parser.add_argument("--registrations", type=int, default=500)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default="", help="an already loaded bench database")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    from bench import database

    url = args.database_url or database.bench_url()
    # Checked for a given database too: the plaintext baseline writes its rows into it.
    database.database_name(url)
    fresh = not args.database_url
    with database.django_on(url, fresh=fresh, keep=args.keep_database, migrate=fresh):
        if fresh:
            from bench import load

            print(f"Synth: {args.students:,} students", flush=True)
            load.run_synth(args.students, args.seed)
            load.checkpoint()
        print("Encryption: sealed vs plaintext sealer", flush=True)
        results = run(args.registrations, args.queries, args.seed + 4)
    import json

    print(json.dumps(results, indent=2))
    for row in rows(results):
        print("  ".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
