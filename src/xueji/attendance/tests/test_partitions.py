"""On PostgreSQL the roll's tables are partitioned by month: a month's rows land in its own
partition, and the month is detached and dropped as a whole, the others untouched."""

import datetime

import pytest
from django.db import connection

from xueji.attendance.models import Absence, Reason, RollCall
from xueji.attendance.partitions import month_detach, month_drop, month_ensure, partition_name
from xueji.attendance.services import AbsenceIn, roll_take
from xueji.attendance.tests.conftest import MON
from xueji.testing.database import as_database_owner

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _partition_of(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_a_month_is_a_partition_detached_and_dropped_as_a_whole(att):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
        )
        partitioned = {row[0] for row in cursor.fetchall()}
    assert {"attendance_rollcall", "attendance_absence"} <= partitioned
    a = att["pupils"][0]
    roll_take(
        actor=att["teacher"],
        school_class_id=att["class"].pk,
        day=MON,
        absences=[AbsenceIn(a.pk, Reason.PERSONAL)],
    )
    roll = RollCall.objects.get()
    absence = Absence.objects.get()
    assert _partition_of("attendance_rollcall", roll.pk) == partition_name(
        "attendance_rollcall", 2026, 9
    )
    assert _partition_of("attendance_absence", absence.pk) == "attendance_absence_y2026m09"
    assert month_ensure(connection, 2026, 9) == []  # made by the migration
    # An October row stays when September goes.
    RollCall.objects.create(
        school_class=att["other_class"], school=att["school"], day=datetime.date(2026, 10, 9)
    )
    # Partitions are DDL: the tables' owner's (as `xueji attendance_partitions` connects).
    with as_database_owner():
        assert month_drop(connection, 2026, 9) == []  # attached: never dropped
        assert month_detach(connection, 2026, 9) == [
            "attendance_rollcall_y2026m09",
            "attendance_absence_y2026m09",
        ]
        assert not Absence.objects.exists()
        assert list(RollCall.objects.values_list("day", flat=True)) == [datetime.date(2026, 10, 9)]
        assert month_drop(connection, 2026, 9) == [
            "attendance_rollcall_y2026m09",
            "attendance_absence_y2026m09",
        ]
        # Made again for the tests that follow.
        assert month_ensure(connection, 2026, 9) == [
            "attendance_rollcall_y2026m09",
            "attendance_absence_y2026m09",
        ]
