"""The chunks of a large file checked by forked worker processes (PostgreSQL), a bounded number
in flight; in this process otherwise."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection

from xueji.geo.models import Division
from xueji.imports.pipeline.checks import check_chunk
from xueji.imports.pipeline.chunk import ChunkContext, ChunkResult

# Files of at least this many rows are checked by forked workers: a spreadsheet CHUNK_ROWS rows
# at a time, a CSV in blocks of xueji.imports.reading.CSV_BLOCK_BYTES.
PARALLEL_MIN_ROWS = 5_000

# What the forked workers check with, set in the parent just before forking (inherited, never
# pickled).
_CONTEXT: ChunkContext | None = None


def _check_in_worker(chunk: Any, chunk_number: int) -> ChunkResult:
    """A worker's share. It never touches the database connection it inherited (the forked
    workers leave through os._exit)."""
    assert _CONTEXT is not None
    return check_chunk(_CONTEXT, chunk, chunk_number)


def check_workers(total: int) -> int:
    """Worker processes for a file of `total` rows: the cores, for a large file on PostgreSQL
    (SQLite's file is locked by the transaction, and small files are not worth a fork)."""
    if (
        total < PARALLEL_MIN_ROWS
        or connection.vendor != "postgresql"
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return 1
    return min(os.cpu_count() or 1, 4)


def checked_chunks(
    chunks: Iterable[Any], context: ChunkContext, *, workers: int = 1
) -> Iterator[ChunkResult]:
    """Every chunk checked, in the file's order; with workers > 1 by forked processes, a bounded
    number of chunks in flight (memory stays constant whatever the file's size)."""
    if workers <= 1:
        for number, chunk in enumerate(chunks):
            yield check_chunk(context, chunk, number)
        return
    global _CONTEXT
    _CONTEXT = context
    # Known divisions as a set: the workers must not query the database.
    known = frozenset(Division.objects.values_list("code", flat=True))
    context.division_exists = known.__contains__
    pool_context = multiprocessing.get_context("fork")
    try:
        with pool_context.Pool(workers) as pool:
            _CONTEXT = None  # the workers have their copy
            in_flight: deque[Any] = deque()
            for number, chunk in enumerate(chunks):
                in_flight.append(pool.apply_async(_check_in_worker, (chunk, number)))
                if len(in_flight) > workers * 3:
                    yield in_flight.popleft().get()
            while in_flight:
                yield in_flight.popleft().get()
    finally:
        _CONTEXT = None
