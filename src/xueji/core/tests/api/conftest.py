"""The API fuzzer's rule that every operation got a 2xx, and its summary at the end of the run
(test_fuzz.py keeps the tally)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

_CALL_PASSED = pytest.StashKey[bool]()


def _fuzzer() -> Any:
    """The fuzzer's module, when this run imported it."""
    return sys.modules.get(f"{__package__}.test_fuzz")


def _by_status(counts: Any) -> str:
    totals: dict[int, int] = {}
    for (_, status), n in counts.items():
        totals[status] = totals.get(status, 0) + n
    return " ".join(f"{status}×{n}" for status, n in sorted(totals.items()))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[Any]:
    report = yield
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed
    return report


@pytest.fixture(autouse=True)
def _every_operation_got_a_2xx(request: Any) -> Iterator[None]:
    """Fails an operation's fuzz test, after its examples, when none of its requests got a 2xx
    (a test that already failed is not reported twice)."""
    yield
    label = getattr(request.node, "operation_label", None)
    fuzzer = _fuzzer()
    if label is None or fuzzer is None or not request.node.stash.get(_CALL_PASSED, False):
        return
    if not fuzzer.TALLY.succeeded(label):
        counts = sorted(fuzzer.TALLY.statuses.get(label, {}).items())
        answered = ", ".join(f"{account} {status}×{n}" for (account, status), n in counts)
        pytest.fail(f"{label}: no request got a 2xx ({answered or 'no request sent'})")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    fuzzer = _fuzzer()
    if fuzzer is None or not fuzzer.TALLY.statuses:
        return
    terminalreporter.section("API fuzzer")
    write = terminalreporter.write_line
    for label, counts in sorted(fuzzer.TALLY.statuses.items()):
        succeeded = sum(n for (_, status), n in counts.items() if 200 <= status < 300)
        total = sum(counts.values())
        verdict = "2xx" if succeeded else "NO 2xx"
        write(f"{verdict}  {label}: {succeeded}/{total} requests 2xx; {_by_status(counts)}")
    for label, reason in sorted(fuzzer.EXCLUDED.items()):
        write(f"excluded  {label}: {reason}")
    if not fuzzer.EXCLUDED:
        write("excluded: none")
