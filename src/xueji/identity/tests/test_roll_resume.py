"""The roll's load is resumable and all or nothing: staged in committed batches (checkpoints),
merged into the roll in one transaction. A load interrupted between two batches (its worker
killed) shows nothing in the registry, and loading the same file again goes on from the last
batch and ends as a load never interrupted would; a whole file reloaded with children changed
and gone updates and removes exactly those."""

from __future__ import annotations

import datetime

import pytest

from xueji.identity import roll as roll_module
from xueji.identity.models import (
    IdentityStatus,
    RollEntry,
    RollLoad,
    RollLoadState,
    RollStagedRow,
    UnrecordedChild,
)
from xueji.identity.services import roll_load
from xueji.testing.factories import resident_id

from .helpers import province_approver, register, roll_csv

pytestmark = pytest.mark.django_db

BORN = datetime.date(2020, 3, 5)


class WorkerKilled(Exception):
    pass


NAMES = ["张春铭", "李思", "王五", "赵六", "钱七", "孙八", "周九", "吴十", "郑一"]
SCHOOL_AGE = datetime.date(datetime.date.today().year - 9, 5, 1)


def _file(count: int) -> tuple[bytes, list[str]]:
    school_age = SCHOOL_AGE
    numbers = [resident_id(birth_date=school_age, male=i % 2 == 0) for i in range(count)]
    rows = [
        (number, NAMES[i], "M" if i % 2 == 0 else "F", school_age, "440304")
        for i, number in enumerate(numbers)
    ]
    return roll_csv(*rows), numbers


def _state() -> dict[str, object]:
    """What the registry shows of the roll, without the ids each load draws anew."""
    return {
        "entries": sorted(
            RollEntry.objects.values_list(
                "id_number_index", "name", "name_key", "sex", "birth_date", "household_division"
            )
        ),
        "statuses": sorted(
            IdentityStatus.objects.values_list(
                "student_id", "status", "roll_entry__id_number_index"
            )
        ),
        "unrecorded": sorted(
            UnrecordedChild.objects.values_list("roll_entry__id_number_index", "state")
        ),
    }


def test_a_load_killed_between_batches_shows_nothing_and_resumes_from_its_checkpoint(
    monkeypatch,
):
    approver = province_approver()
    content, numbers = _file(7)
    student = register(
        name="张春铭", id_number=numbers[0], birth_date=SCHOOL_AGE, age_confirmation="补录"
    )
    monkeypatch.setattr(roll_module, "BATCH_ROWS", 2)
    batches: list[int] = []

    def killed_after_two(load, staged):
        batches.append(staged)
        if len(batches) == 2:
            raise WorkerKilled

    monkeypatch.setattr(roll_module, "_interrupted", killed_after_two)
    with pytest.raises(WorkerKilled):
        roll_load(actor=approver, file_name="roll.csv", content=content)
    # Two batches staged and checkpointed; nothing in the registry.
    load = RollLoad.objects.get()
    assert load.state == RollLoadState.LOADING
    assert load.rows == 4
    assert RollStagedRow.objects.filter(load_id=load.pk).count() == 4
    assert RollEntry.objects.count() == 0
    assert not IdentityStatus.objects.filter(student=student).exists()
    assert UnrecordedChild.objects.count() == 0

    # The same file again: the load goes on from row 5 (two more batches), and finishes.
    monkeypatch.setattr(roll_module, "_interrupted", lambda load, staged: batches.append(staged))
    resumed = roll_load(actor=approver, file_name="roll.csv", content=content)
    assert resumed.pk == load.pk
    assert resumed.state == RollLoadState.LOADED
    assert batches[2:] == [6, 7]
    assert resumed.timings["resumed_from"] == 4
    assert RollStagedRow.objects.count() == 0
    interrupted = _state()
    assert len(interrupted["entries"]) == 7
    assert IdentityStatus.objects.get(student=student).status == "confirmed"

    # An uninterrupted load of the same file, from an empty roll, ends the same.
    UnrecordedChild.objects.all().delete()
    IdentityStatus.objects.all().delete()
    RollEntry.objects.all().delete()
    RollLoad.objects.all().delete()
    whole = roll_load(actor=approver, file_name="roll.csv", content=content)
    assert whole.timings["resumed_from"] == 0
    assert _state() == interrupted


def test_staged_rows_lost_to_a_crash_are_staged_again(monkeypatch):
    approver = province_approver()
    content, _numbers = _file(5)
    monkeypatch.setattr(roll_module, "BATCH_ROWS", 2)

    def killed(load, staged):
        raise WorkerKilled

    monkeypatch.setattr(roll_module, "_interrupted", killed)
    with pytest.raises(WorkerKilled):
        roll_load(actor=approver, file_name="roll.csv", content=content)
    # The server crashed: the unlogged staging table is empty, the checkpoint says 2.
    RollStagedRow.objects.all().delete()
    monkeypatch.setattr(roll_module, "_interrupted", lambda load, staged: None)
    load = roll_load(actor=approver, file_name="roll.csv", content=content)
    assert load.state == RollLoadState.LOADED
    assert RollEntry.objects.count() == 5


def test_a_whole_file_reloaded_updates_the_children_changed_and_removes_those_gone():
    approver = province_approver()
    kept, changed, gone = (resident_id(birth_date=BORN) for _ in range(3))
    roll_load(
        actor=approver,
        file_name="roll.csv",
        content=roll_csv(
            (kept, "张春铭", "M", BORN, "440304"),
            (changed, "李四", "M", BORN, "440304"),
            (gone, "王五", "M", BORN, "440304"),
        ),
    )
    first = RollEntry.objects.get(id_number_masked__startswith=kept[:6], name="张春铭")
    load = roll_load(
        actor=approver,
        file_name="roll-2.csv",
        content=roll_csv(
            (kept, "张春铭", "M", BORN, "440304"),
            (changed, "李思", "M", BORN, "440305"),
        ),
    )
    assert load.state == RollLoadState.LOADED
    assert sorted(RollEntry.objects.values_list("name", "household_division")) == [
        ("张春铭", "440304"),
        ("李思", "440305"),
    ]
    # The child unchanged is the same row, not rewritten by the second load.
    assert RollEntry.objects.get(pk=first.pk).load_id == first.load_id
