"""Races for concurrency tests on PostgreSQL: calls started together on real threads."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection

from xueji.core.errors import ServiceError


def race(*calls: Callable[[], object]) -> list[str]:
    """Run the calls at once, each on its own thread and connection; the sorted outcomes are
    "done" or the code of the ServiceError that refused the call."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
            outcome = "done"
        except ServiceError as refused:
            outcome = refused.code
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)
