"""Exact lookups and name search through the selectors vs the same query as one SQL statement.

The user is a provincial bureau viewer, so every query carries the scope filter (the school's
province), as the selectors add it. The hand-written statement asks the database for the same
rows the selector returns (student with its school) and fetches them; the selector's figure
includes building the query and the model instances, which is what it costs the application.
Each query runs both ways back to back, in alternating order, so that noise hits both sides.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from xueji.access.models import Membership, Role, ScopeLevel
from xueji.geo.models import Division
from xueji.students.identity import (
    STUDENT_ID_NUMBER,
    STUDENT_NUMBER,
    document_index,
    number_index,
    unseal,
)
from xueji.students.selectors import student_by_number, student_search

PROVINCE = "440000"
WARMUP = 20

_SELECT = (
    "SELECT s.*, sc.* FROM students_student s "
    "JOIN schools_school sc ON sc.id = s.school_id WHERE sc.province_id = %s AND "
)
SQL = {
    # Numbers are stored sealed: the statement looks up the blind index, computed beforehand.
    "lookup by student number": _SELECT + "s.number_index = %s LIMIT 1",
    "lookup by ID number": _SELECT + "s.id_doc_type = '1' AND s.id_number_index = %s LIMIT 1",
    "name search (Chinese prefix)": _SELECT
    + "s.name LIKE %s ORDER BY s.name_pinyin, s.id LIMIT 50",
    "name search (pinyin prefix)": _SELECT
    + "(s.name_pinyin LIKE %s OR s.name_initials LIKE %s) ORDER BY s.name_pinyin, s.id LIMIT 50",
}


def _viewer() -> Any:
    user = get_user_model().objects.create(username="bench-province-viewer")
    Membership.objects.create(
        user=user,
        role=Role.BUREAU_VIEWER,
        scope_level=ScopeLevel.PROVINCE,
        division=Division.objects.get(code=PROVINCE),
    )
    return user


def _sample(count: int, seed: int) -> list[tuple[str, str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        cursor.execute(
            "SELECT number_sealed, id_number_sealed, name, name_pinyin FROM students_student "
            "TABLESAMPLE BERNOULLI (least(100, 100.0 * %s / greatest(1, "
            "(SELECT reltuples FROM pg_class WHERE relname = 'students_student')))) "
            "ORDER BY random() LIMIT %s",
            [count * 3, count],
        )
        return [
            (
                unseal(number, context=STUDENT_NUMBER),
                unseal(id_number, context=STUDENT_ID_NUMBER),
                name,
                pinyin,
            )
            for number, id_number, name, pinyin in cursor.fetchall()
        ]


def _sql_runner(statement: str, many: bool) -> Callable[[list[Any]], Any]:
    def run(params: list[Any]) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if many else cursor.fetchone()

    return run


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000,
    }


def run(count: int, seed: int) -> dict[str, dict[str, Any]]:
    user = _viewer()
    sample = _sample(count + WARMUP, seed)
    rng = random.Random(seed)
    cases: dict[str, tuple[Callable[[Any], Any], Callable[[list[Any]], Any], list[Any]]] = {
        "lookup by student number": (
            lambda q: student_by_number(user, q[0]),
            _sql_runner(SQL["lookup by student number"], many=False),
            [(number, [PROVINCE, number_index(number)]) for number, _i, _n, _p in sample],
        ),
        "lookup by ID number": (
            lambda q: student_by_number(user, q[0]),
            _sql_runner(SQL["lookup by ID number"], many=False),
            [
                (id_number, [PROVINCE, document_index("1", id_number)])
                for _s, id_number, _n, _p in sample
            ],
        ),
        "name search (Chinese prefix)": (
            lambda q: student_search(user, query=q[0]),
            _sql_runner(SQL["name search (Chinese prefix)"], many=True),
            [(name, [PROVINCE, name + "%"]) for _s, _i, name, _p in sample],
        ),
        "name search (pinyin prefix)": (
            lambda q: student_search(user, query=q[0]),
            _sql_runner(SQL["name search (pinyin prefix)"], many=True),
            [(pinyin, [PROVINCE, pinyin + "%", pinyin + "%"]) for _s, _i, _n, pinyin in sample],
        ),
    }
    results: dict[str, dict[str, Any]] = {}
    for label, (selector, bare, queries) in cases.items():
        selector_times: list[float] = []
        sql_times: list[float] = []
        for index, query in enumerate(queries):
            order = [("selector", selector, query), ("sql", bare, query[1])]
            if rng.random() < 0.5:
                order.reverse()
            for side, call, argument in order:
                started = time.perf_counter()
                found = call(argument)
                elapsed = time.perf_counter() - started
                if not found:
                    raise RuntimeError(f"{label}: {side} found nothing for {query[0]!r}")
                if index >= WARMUP:
                    (selector_times if side == "selector" else sql_times).append(elapsed)
        selector_stats = _percentiles(selector_times)
        sql_stats = _percentiles(sql_times)
        results[label] = {
            "queries": len(selector_times),
            "selector": selector_stats,
            "sql": sql_stats,
            "ratio_p50": selector_stats["p50_ms"] / sql_stats["p50_ms"],
            "ratio_p95": selector_stats["p95_ms"] / sql_stats["p95_ms"],
        }
    return results
