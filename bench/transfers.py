"""Completed transfers per second through xueji.changes.services, 8 concurrent workers, against
the database's own ceiling for the same writes.

Each transfer is the article's case: a child of 香洲区 (Zhuhai) moved to 福田区 (Shenzhen), other
county in the same province, so four transactions: the receiving school files (with the
guardian's request as a sealed PDF), then the receiving county, the sending school and the
sending county approve; the last one moves the placement. Each worker handles its own children,
one transfer after the other, like approvers working through their queues.

Baseline: the same transactions as bare SQL (psycopg through Django's connection, no ORM, no
checks), 8 workers, on other children of the same schools: the same rows inserted and updated
in the real tables (request, 4 steps, evidence, log rows, student, placements, record event),
and per transaction one audit entry appended as the real trail appends it (xueji.audit.chains):
the advisory lock of the acting unit's chain (the county of the school or the bureau: Futian for
the filing and the first approval, Zhuhai for the last two), the chain's last entry read, one row
inserted after it into a copy of the audit table (same columns and indexes, so the same unique
(chain, seq) index). Both sides take turns on the same two chains: all 8 workers move children
between the same two counties.

`python -m bench.transfers --transfers 400` runs this part alone on a fresh database.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
import threading
import time
import uuid
from typing import Any

WORKERS = 8
ON = datetime.date(2026, 10, 12)
AUDIT_COPY = "bench_transfer_audit"


def _world(count: int) -> dict[str, Any]:
    """Schools in Zhuhai (senders) and Futian (receivers), their staff, and 2 × count children
    registered through the service (half for the service, half for the baseline)."""
    from xueji.access.models import Role
    from xueji.core.errors import Conflict
    from xueji.geo.models import Division
    from xueji.schools.models import AcademicYear, School, SchoolClass
    from xueji.students.services import student_register
    from xueji.testing.factories import member, student_data

    year = AcademicYear.objects.get_or_create(start_year=2026)[0]
    zhuhai = Division.objects.get(code="440402")
    futian = Division.objects.get(code="440304")
    schools = []
    for index, county in enumerate((zhuhai, futian)):
        school = School.objects.create(
            code=f"{3199000000 + index + int(time.time()) % 100000 * 10:010d}",
            name=f"基准学校{index}",
            kind="primary",
            county=county,
            city=county.parent,
            province=county.parent.parent,
            first_grade=1,
            last_grade=6,
        )
        klass = SchoolClass.objects.create(
            school=school, academic_year=year, grade=1, number=1, name="1班"
        )
        schools.append((school, klass))
    (sender, sender_class), (receiver, receiver_class) = schools
    staff = {
        "sender": member(Role.REGISTRAR, school=sender),
        "receiver": member(Role.REGISTRAR, school=receiver),
        "440304": member(Role.BUREAU_APPROVER, division=futian),
        "440402": member(Role.BUREAU_APPROVER, division=zhuhai),
    }
    children = []
    attempt = 0
    while len(children) < 2 * count:
        n = attempt
        attempt += 1
        # The factory's ID numbers repeat after 500 per birth date: spread the birth dates. Other
        # parts of the bench may already hold some of these numbers: take the next one then.
        data = student_data(
            name=f"张{'一二三四五六七八九十'[n % 10]}铭",
            birth_date=datetime.date(2020, 3, 5) + datetime.timedelta(days=n // 400),
        )
        try:
            registration = student_register(
                actor=staff["sender"],
                school_class_id=sender_class.pk,
                data=data,
                start_date=datetime.date(2026, 9, 1),
            )
        except Conflict:
            continue
        children.append(registration.student)
    return {
        "sender": sender,
        "receiver": receiver,
        "receiver_class": receiver_class,
        "staff": staff,
        "children": children,
    }


def _in_workers(slices: list[list[Any]], work: Any) -> tuple[float, list[str]]:
    from django.db import connection

    barrier = threading.Barrier(len(slices) + 1)
    errors: list[str] = []

    def run(items: list[Any]) -> None:
        try:
            barrier.wait()
            for item in items:
                work(item)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(part,)) for part in slices]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, errors


def _split(items: list[Any], workers: int) -> list[list[Any]]:
    return [items[index::workers] for index in range(workers)]


def _service_transfer(world: dict[str, Any], child: Any, number: str) -> None:
    from xueji.changes.services import change_decide, transfer_file
    from xueji.corrections.evidence import Upload
    from xueji.corrections.tests.files import PDF

    staff = world["staff"]
    change = transfer_file(
        actor=staff["receiver"],
        student_number=number,
        name=child.name,
        to_class_id=world["receiver_class"].pk,
        reason="随父母工作调动",
        guardian_request=Upload("申请书.pdf", PDF),
        on=ON,
    )
    for actor in (staff["440304"], staff["sender"], staff["440402"]):
        change = change_decide(actor=actor, change_id=change.pk, approve=True, on=ON)
    if change.state != "completed":
        raise RuntimeError(f"transfer not completed: {change.state}")


# ---- the baseline: the same writes as bare SQL ---------------------------------------------


def _prepare_audit() -> tuple[list[str], dict[str, Any]]:
    """The copy of the audit table, and the columns and values of a real entry to model the
    baseline's on (its id left to the copy's own identity)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {AUDIT_COPY}")
        cursor.execute(f"CREATE TABLE {AUDIT_COPY} (LIKE audit_auditentry INCLUDING ALL)")
        cursor.execute("SELECT * FROM audit_auditentry ORDER BY id DESC LIMIT 1")
        columns = [column.name for column in cursor.description]
        row = cursor.fetchone()
    values = dict(zip(columns, row, strict=True))
    del values["id"]
    return list(values), values


class Bare:
    """The writes of one transfer's four transactions, as the service makes them."""

    def __init__(self, world: dict[str, Any], audit_columns: list[str], audit: dict[str, Any]):
        from xueji.audit.actors import acting_as
        from xueji.audit.chains import chain_of
        from xueji.corrections.evidence import seal
        from xueji.corrections.tests.files import PDF

        self.world = world
        self.columns = audit_columns
        self.audit = audit
        self.sealed = seal(PDF)
        self.audit_insert = (
            f"INSERT INTO {AUDIT_COPY} ({', '.join(audit_columns)}) "
            f"VALUES ({', '.join(['%s'] * len(audit_columns))})"
        )
        self.year_id = world["receiver_class"].academic_year_id
        # The chain each actor's entries go to, as the trail chooses it.
        self.chains = {user.pk: chain_of(acting_as(user)) for user in world["staff"].values()}

    def _audit(self, cursor: Any, student_id: Any, actor: Any) -> None:
        """Append to the actor's chain as xueji.audit does: the chain's lock until the commit,
        its last entry, the next one inserted after it."""
        from django.utils import timezone

        from xueji.audit.chain import GENESIS_HASH
        from xueji.audit.chains import LOCK_CLASS, lock_key

        key = self.chains[actor.pk]
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, lock_key(key)])
        cursor.execute(
            f"SELECT seq, hash FROM {AUDIT_COPY} WHERE chain = %s ORDER BY seq DESC LIMIT 1",
            [key],
        )
        seq, prev_hash = cursor.fetchone() or (0, GENESIS_HASH)
        values = dict(self.audit)
        values.update(
            chain=key,
            seq=seq + 1,
            at=timezone.now(),
            action="bench.transfer",
            object_id=student_id,
            request_id=uuid.uuid4(),
            prev_hash=prev_hash,
            hash=hashlib.sha256(f"{prev_hash}|{key}|{seq + 1}|{student_id}".encode()).hexdigest(),
        )
        cursor.execute(
            self.audit_insert,
            [json.dumps(v) if isinstance(v, (dict, list)) else v for v in values.values()],
        )

    def _log(self, cursor: Any, change_id: Any, event: str, frm: str, to: str, actor: Any) -> None:
        cursor.execute(
            "INSERT INTO changes_changelog (request_id, event, from_state, to_state, "
            "step_ordinal, actor_id, actor_role, note, at) "
            "VALUES (%s, %s, %s, %s, NULL, %s, '', '', now())",
            [change_id, event, frm, to, actor.pk],
        )

    def transfer(self, child: Any) -> None:
        from django.db import connection, transaction

        world = self.world
        staff = world["staff"]
        sender, receiver = world["sender"], world["receiver"]
        change_id = uuid.uuid4()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM students_student WHERE id = %s FOR UPDATE", [child.pk])
            cursor.execute(
                "INSERT INTO changes_changerequest (id, student_id, kind, state, initiator, "
                "from_school_id, from_grade, to_school_id, to_class_id, academic_year_id, "
                "reason, filed_by_id, filed_on, filed_at, updated_at) VALUES (%s, %s, "
                "'transfer', 'pending', 'guardian', %s, 1, %s, %s, %s, %s, %s, %s, now(), now())",
                [
                    change_id,
                    child.pk,
                    sender.pk,
                    receiver.pk,
                    world["receiver_class"].pk,
                    self.year_id,
                    "随父母工作调动",
                    staff["receiver"].pk,
                    ON,
                ],
            )
            cursor.execute(
                "INSERT INTO changes_approvalstep (request_id, ordinal, level, side, school_id, "
                "division_id, state, current_since, due_on, reason, escalated_to_level) VALUES "
                "(%s, 1, 'school', 'receiver', %s, NULL, 'approved', %s, NULL, '', ''), "
                "(%s, 2, 'county', 'receiver', NULL, '440304', 'pending', %s, %s, '', ''), "
                "(%s, 3, 'school', 'sender', %s, NULL, 'waiting', NULL, NULL, '', ''), "
                "(%s, 4, 'county', 'sender', NULL, '440402', 'waiting', NULL, NULL, '', '')",
                [change_id, receiver.pk, ON, change_id, ON, ON, change_id, sender.pk, change_id],
            )
            cursor.execute(
                "INSERT INTO changes_changeevidence (id, request_id, purpose, file_name, "
                "content_type, size, sha256, sealed, uploaded_by_id, uploaded_at) VALUES "
                "(%s, %s, 'guardian_request', 'a.pdf', 'application/pdf', 60, %s, %s, %s, now())",
                [uuid.uuid4(), change_id, "0" * 64, self.sealed, staff["receiver"].pk],
            )
            cursor.execute(
                "UPDATE students_student SET state = 'transferring', updated_at = now() "
                "WHERE id = %s",
                [child.pk],
            )
            self._log(cursor, change_id, "file", "", "pending", staff["receiver"])
            self._audit(cursor, child.pk, staff["receiver"])
        for ordinal, actor in ((2, staff["440304"]), (3, staff["sender"])):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM changes_changerequest WHERE id = %s FOR UPDATE", [change_id]
                )
                cursor.execute(
                    "UPDATE changes_approvalstep SET state = 'approved', decided_by_id = %s, "
                    "decided_at = now() WHERE request_id = %s AND ordinal = %s",
                    [actor.pk, change_id, ordinal],
                )
                cursor.execute(
                    "UPDATE changes_approvalstep SET state = 'pending', current_since = %s, "
                    "due_on = %s WHERE request_id = %s AND ordinal = %s",
                    [ON, ON, change_id, ordinal + 1],
                )
                cursor.execute(
                    "UPDATE changes_changerequest SET updated_at = now() WHERE id = %s",
                    [change_id],
                )
                self._log(cursor, change_id, "approve", "pending", "pending", actor)
                self._audit(cursor, child.pk, actor)
        actor = staff["440402"]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM changes_changerequest WHERE id = %s FOR UPDATE", [change_id]
            )
            cursor.execute(
                "UPDATE changes_approvalstep SET state = 'approved', decided_by_id = %s, "
                "decided_at = now() WHERE request_id = %s AND ordinal = 4",
                [actor.pk, change_id],
            )
            cursor.execute("SELECT id FROM students_student WHERE id = %s FOR UPDATE", [child.pk])
            cursor.execute(
                "UPDATE students_placement SET end_date = %s WHERE student_id = %s "
                "AND end_date IS NULL",
                [ON, child.pk],
            )
            cursor.execute(
                "INSERT INTO students_placement (id, student_id, school_id, school_class_id, "
                "grade, start_date, end_date, reason) VALUES (%s, %s, %s, %s, 1, %s, NULL, "
                "'transfer')",
                [uuid.uuid4(), child.pk, receiver.pk, world["receiver_class"].pk, ON],
            )
            cursor.execute(
                "UPDATE students_student SET state = 'enrolled', school_id = %s, "
                "updated_at = now() WHERE id = %s",
                [receiver.pk, child.pk],
            )
            cursor.execute(
                "INSERT INTO students_recordevent (id, student_id, kind, occurred_on, "
                "recorded_at, actor_id, detail) VALUES (%s, %s, 'transferred', %s, now(), %s, "
                "%s)",
                [uuid.uuid4(), child.pk, ON, actor.pk, json.dumps({"change": str(change_id)})],
            )
            cursor.execute(
                "UPDATE changes_changerequest SET state = 'completed', effective_date = %s, "
                "completed_at = now(), updated_at = now() WHERE id = %s",
                [ON, change_id],
            )
            self._log(cursor, change_id, "final_approve", "pending", "completed", actor)
            self._audit(cursor, child.pk, actor)


def run(count: int, workers: int = WORKERS) -> dict[str, Any]:
    """Set up, then time `count` transfers by the service and `count` by bare SQL."""
    from django.db import connection

    from xueji.students.models import Placement

    print(f"  transfers: registering {2 * count} children", flush=True)
    world = _world(count)
    children = world["children"]
    for_service, for_baseline = children[:count], children[count:]
    numbers = {child.pk: child.reveal_student_number() for child in for_service}
    columns, audit = _prepare_audit()
    bare = Bare(world, columns, audit)
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    print(f"  transfers: baseline, {workers} workers", flush=True)
    bare_seconds, bare_errors = _in_workers(_split(for_baseline, workers), bare.transfer)
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    print(f"  transfers: service, {workers} workers", flush=True)
    service_seconds, service_errors = _in_workers(
        _split(for_service, workers),
        lambda child: _service_transfer(world, child, numbers[child.pk]),
    )
    moved = Placement.objects.filter(
        student__in=[c.pk for c in for_service],
        end_date__isnull=True,
        school=world["receiver"],
    ).count()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {AUDIT_COPY}")
    service_rate = moved / service_seconds
    bare_rate = (count - len(bare_errors)) / bare_seconds
    return {
        "transfers": count,
        "workers": workers,
        "chain": "other county, same province: file + 3 approvals (4 transactions)",
        "service_seconds": service_seconds,
        "service_completed": moved,
        "service_errors": service_errors[:5],
        "bare_seconds": bare_seconds,
        "bare_errors": bare_errors[:5],
        "service_per_second": service_rate,
        "bare_per_second": bare_rate,
        "ratio": bare_rate / service_rate if service_rate else float("inf"),
    }


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The bench table's row."""
    return [
        (
            f"completed transfers, {results['workers']} workers ({results['transfers']:,}, "
            "file + 3 approvals each)",
            f"{results['service_per_second']:,.1f} transfers/s",
            f"bare SQL {results['bare_per_second']:,.1f}/s",
            f"{results['ratio']:.2f}×",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.transfers", description=__doc__)
    parser.add_argument("--transfers", type=int, default=400)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from bench import database

    with database.django_on(database.bench_url(), fresh=True, keep=args.keep_database):
        result = run(args.transfers, args.workers)
    print(json.dumps(result, indent=2))
    for row in rows(result):
        print(" | ".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
