"""`xueji audit seal`: once, or every N seconds and once more when stopped; `xueji audit keys`;
the task a worker runs."""

import base64
import hashlib
import io
import json
import os
import signal
import threading
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, transaction

from xueji.audit.models import AuditCheckpoint
from xueji.audit.services import audit_record
from xueji.audit.tasks import audit_seal_task

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_seal_once_then_nothing_to_seal(write_entries, _witness_file):
    write_entries(2)
    assert "sealed checkpoint #1: 1 chains (1 moved)" in run("seal")
    assert json.loads(_witness_file.read_text())["number"] == 1
    assert "no head moved: nothing to seal (1 chains)" in run("seal")


def test_seal_every_n_seconds_seals_once_more_when_stopped(write_entries, monkeypatch):
    """The loop seals at start, on each tick, and after SIGTERM, the last time catching what was
    written while it waited."""
    write_entries(1)
    waits: list[float] = []

    def wait(self: threading.Event, timeout: float | None = None) -> bool:
        waits.append(timeout or 0)
        if len(waits) == 1:
            with transaction.atomic():
                audit_record(actor=None, action="test.while_waiting")
            return False  # a tick
        with transaction.atomic():
            audit_record(actor=None, action="test.before_shutdown")
        os.kill(os.getpid(), signal.SIGTERM)
        return True  # the handler set the event

    monkeypatch.setattr(threading.Event, "wait", wait)
    handler = signal.getsignal(signal.SIGTERM)
    output = run("seal", "--every", "5")
    assert waits == [5, 5]
    assert [line.split(":")[0] for line in output.splitlines()] == [
        "sealed checkpoint #1",
        "sealed checkpoint #2",
        "sealed checkpoint #3",
    ]
    assert AuditCheckpoint.objects.get(number=3).leaves.get().seq == 3
    assert signal.getsignal(signal.SIGTERM) == handler


def test_the_loop_outlives_the_database_going_away(write_entries, monkeypatch):
    """A tick that finds the database gone (a restart) is skipped with a line on stderr; the
    next tick seals everything written meanwhile, and the loop goes on."""
    import xueji.audit.management.commands.audit as command

    write_entries(1)
    real_seal = command.audit_checkpoint_seal
    calls: list[int] = []

    def seal() -> object:
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("terminating connection due to administrator command")
        return real_seal()

    ticks: list[float] = []

    def wait(self: threading.Event, timeout: float | None = None) -> bool:
        ticks.append(timeout or 0)
        if len(ticks) == 1:
            with transaction.atomic():
                audit_record(actor=None, action="test.during_restart")
        return len(ticks) >= 3  # two ticks, then stopped

    # The command drops its connections to open them again; the test's own connection holds the
    # test's transaction (on PostgreSQL closing it would roll the test back), so it is counted.
    closed: list[int] = []
    monkeypatch.setattr(command, "connections", SimpleNamespace(close_all=lambda: closed.append(1)))
    monkeypatch.setattr(command, "audit_checkpoint_seal", seal)
    monkeypatch.setattr(threading.Event, "wait", wait)
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", "seal", "--every", "5", stdout=out, stderr=err)
    assert "database unavailable, sealing at the next tick" in err.getvalue()
    assert closed == [1]
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == [
        "sealed checkpoint #1",
        "sealed checkpoint #2",
        "no head moved",
    ]
    assert AuditCheckpoint.objects.get(number=2).leaves.get().seq == 2


def test_seal_every_takes_the_interval_from_the_settings(write_entries, monkeypatch, settings):
    settings.XUEJI_AUDIT_CHECKPOINT_SECONDS = 7
    waits: list[float] = []

    def wait(self: threading.Event, timeout: float | None = None) -> bool:
        waits.append(timeout or 0)
        return True

    monkeypatch.setattr(threading.Event, "wait", wait)
    run("seal", "--every")
    assert waits == [7]
    with pytest.raises(CommandError, match="at least 1 second"):
        run("seal", "--every", "-3")


def test_the_task_seals(write_entries):
    write_entries(1)
    assert audit_seal_task.call() == 1
    assert audit_seal_task.call() == 0


def test_keys_lists_the_public_keys_and_makes_new_seeds(settings):
    seeds = [base64.b64encode(hashlib.sha256(text).digest()).decode() for text in (b"2", b"1")]
    settings.XUEJI_AUDIT_SIGNING_KEYS = f"s2:{seeds[0]},s1:{seeds[1]}"
    lines = run("keys").splitlines()
    assert [line.split(":")[0] for line in lines] == ["s2", "s1"]
    assert lines[0].endswith("signs") and lines[1].endswith("verifies")
    assert len(run("keys", "--new").strip()) == 44
