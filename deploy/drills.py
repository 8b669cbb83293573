"""Operations drills of one provincial node of the cluster (deploy/cluster.py must be up).

    python deploy/drills.py pitr [NODE]       point-in-time restore: base backup + WAL archive,
                                              restored to a moment, then `xueji audit verify`
                                              and the head counts as they were at that moment
    python deploy/drills.py failover [NODE]   a streaming standby (synchronous), the primary
                                              stopped hard, the standby promoted: no committed
                                              registration lost, `xueji audit verify` passes;
                                              the promoted standby becomes the node, the
                                              subscriptions to and from it are created again,
                                              and the messages in flight at the failure and
                                              after it arrive, each applied once

NODE is p44 (default) or p11. The drill's extra clusters run on 127.0.0.1:5444 (standby) and
5445 (restore), under var/cluster/, and are removed at the end (the failover drill leaves the
node running again on its port: the old primary, or, once promoted and checked, the standby).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cluster as c

STANDBY_PORT = 5444
RESTORE_PORT = 5445


def count_sql(port: int, sql: str) -> int:
    out = c.run(
        [
            str(c.PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            "xueji",
            "-qAtX",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip() or 0)


HEADCOUNT = "SELECT coalesce(sum(delta), 0) FROM stats_headcountdelta WHERE day <= current_date"
STUDENTS = "SELECT count(*) FROM students_student"


def audit_verify(name: str, port: int) -> None:
    env = c.node_env(name)
    for key in ("DATABASE_URL", "XUEJI_OWNER_DATABASE_URL"):
        env[key] = env[key].replace(f":{c.NODES[name][0]}/", f":{port}/")
    c.run([str(c.PYTHON), "-m", "xueji.cli", "audit", "verify"], env=env, cwd=c.ROOT)


def register_some(name: str, how_many: int) -> None:
    """Registrations through the node's own code (synth's small batch: a school's children)."""
    env = c.node_env(name)
    script = (
        "import django; django.setup()\n"
        "from xueji.demo.services import students_synthesize\n"
        f"students_synthesize(actor=None, province_code='{c.NODES[name][3]}0000', "
        f"students={how_many}, seed=int(__import__('time').time()))\n"
    )
    c.run([str(c.PYTHON), "-c", script], env=env, cwd=c.ROOT, stdout=subprocess.DEVNULL)


def new_cluster_dir(label: str) -> Path:
    path = c.BASE / label
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    c.run(["chown", "postgres:postgres", str(path)])
    return path


def start(data: Path, log: Path) -> None:
    c.as_postgres(
        [str(c.PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "120", "start"],
        stdout=subprocess.DEVNULL,
    )


def stop(data: Path, mode: str = "fast") -> None:
    c.as_postgres(
        [str(c.PG_BIN / "pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop"],
        stdout=subprocess.DEVNULL,
        check=False,
    )


def pitr(name: str) -> None:
    port = c.NODES[name][0]
    base = new_cluster_dir(f"{name}-restore")
    data = base / "data"
    archive = c.BASE / name / "wal-archive"
    print(f"[pitr] base backup of {name} (port {port})")
    c.as_postgres(
        [
            str(c.PG_BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-D",
            str(data),
            "-X",
            "none",
            "-c",
            "fast",
        ]
    )
    register_some(name, 40)
    c.psql(name, "SELECT pg_switch_wal()")
    time.sleep(1.5)
    moment = c.psql(name, "SELECT now()")
    students_then = count_sql(port, STUDENTS)
    heads_then = count_sql(port, HEADCOUNT)
    time.sleep(1.5)
    print(f"[pitr] the moment: {moment} ({students_then} records, head count {heads_then})")
    register_some(name, 40)  # after the moment: must not be in the restored node
    students_now = count_sql(port, STUDENTS)
    c.psql(name, "SELECT pg_switch_wal()")
    time.sleep(3)  # the archiver copies the segment
    with (data / "postgresql.conf").open("a") as f:
        f.write(
            "\n# point-in-time restore drill\n"
            f"port = {RESTORE_PORT}\n"
            f"unix_socket_directories = '{base}'\n"
            "archive_mode = off\n"
            "max_logical_replication_workers = 0\n"  # the copy must not apply the hub's rows
            f"restore_command = 'cp {archive}/%f %p'\n"
            f"recovery_target_time = '{moment}'\n"
            "recovery_target_action = 'promote'\n"
        )
    (data / "recovery.signal").touch()
    c.run(["chown", "-R", "postgres:postgres", str(base)])
    print(f"[pitr] restoring to {moment} on port {RESTORE_PORT}")
    start(data, base / "postgresql.log")
    try:
        for _ in range(120):
            if (
                c.run(
                    [
                        str(c.PG_BIN / "psql"),
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(RESTORE_PORT),
                        "-U",
                        "postgres",
                        "-d",
                        "xueji",
                        "-qAtX",
                        "-c",
                        "SELECT pg_is_in_recovery()",
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout.strip()
                == "f"
            ):
                break
            time.sleep(1)
        restored = count_sql(RESTORE_PORT, STUDENTS)
        heads = count_sql(RESTORE_PORT, HEADCOUNT)
        print(
            f"[pitr] restored: {restored} records (then {students_then}, now {students_now}), "
            f"head count {heads} (then {heads_then})"
        )
        assert restored == students_then, "the restored node is not the moment's"
        assert heads == heads_then, "the head counts are not the moment's"
        audit_verify(name, RESTORE_PORT)
        print("[pitr] xueji audit verify: passed; the drill passed")
    finally:
        stop(data, "immediate")
        shutil.rmtree(base, ignore_errors=True)


PING = """
import sys
import django
django.setup()
from django.db import transaction
from xueji.federation.messages import message_send
for n in range(int(sys.argv[1])):
    with transaction.atomic():
        message_send(topic="drill.ping", payload={"n": n}, destination=sys.argv[2],
                     stream=sys.argv[3])
"""


def send_pings(sender: str, how_many: int, destination: str, stream: str) -> None:
    """`how_many` messages from `sender` (a node's name in the cluster) to `destination`."""
    c.run(
        [str(c.PYTHON), "-c", PING, str(how_many), destination, stream],
        env=c.node_env(sender),
        cwd=c.ROOT,
        stdout=subprocess.DEVNULL,
    )


def applied(name: str, stream: str, source: str) -> int:
    return count_sql(
        c.NODES[name][0],
        f"SELECT count(*) FROM federation_inbox WHERE stream = '{stream}' AND source = '{source}'",
    )


def wait_applied(name: str, stream: str, source: str, expected: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if applied(name, stream, source) == expected:
            return
        time.sleep(0.5)
    raise AssertionError(
        f"{name} applied {applied(name, stream, source)} of {expected} messages of {stream}"
    )


def take_over(name: str, standby: Path) -> None:
    """The promoted standby becomes the node: its data directory takes the old primary's place
    and it answers on the node's port (the old primary's data, diverged, is discarded)."""
    stop(standby, "fast")
    primary = c.data_dir(name)
    failed = primary.with_name("data.failed")
    shutil.rmtree(failed, ignore_errors=True)
    primary.rename(failed)
    standby.rename(primary)
    with (primary / "postgresql.conf").open("a") as f:
        f.write(
            "\n# the promoted standby is the node now (deploy/drills.py failover)\n"
            f"port = {c.NODES[name][0]}\n"
            f"unix_socket_directories = '{c.BASE / name}'\n"
            "archive_mode = on\n"
            "max_logical_replication_workers = 4\n"
            "cluster_name = ''\n"
        )
    c.pg_start(name)
    shutil.rmtree(failed, ignore_errors=True)


def resubscribe(name: str) -> None:
    province = c.NODES[name][3]
    c.xueji(
        "hub",
        "federation",
        "resubscribe",
        "--hub",
        c.superuser_dsn("hub"),
        "--province",
        f"{province}={c.superuser_dsn(name)}",
    )


def failover(name: str) -> None:
    port = c.NODES[name][0]
    base = new_cluster_dir(f"{name}-standby")
    data = base / "data"
    slot = f"standby_{c.NODES[name][3]}"
    print(f"[failover] streaming standby of {name} on port {STANDBY_PORT}")
    c.psql(
        name,
        f"SELECT pg_drop_replication_slot('{slot}') FROM pg_replication_slots "
        f"WHERE slot_name = '{slot}'",
    )
    c.as_postgres(
        [
            str(c.PG_BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-D",
            str(data),
            "-X",
            "stream",
            "-R",
            "-C",
            "-S",
            slot,
            "-c",
            "fast",
        ]
    )
    with (data / "postgresql.conf").open("a") as f:
        f.write(
            "\n# standby drill\n"
            f"port = {STANDBY_PORT}\n"
            f"unix_socket_directories = '{base}'\n"
            "archive_mode = off\n"
            # Its subscription (the hub's messages to the node) runs once it is promoted.
            "max_logical_replication_workers = 4\n"
            "cluster_name = 'standby'\n"
        )
    with (data / "postgresql.auto.conf").open("a") as f:
        f.write(
            f"primary_conninfo = 'host=127.0.0.1 port={port} user=postgres "
            "application_name=standby'\n"
        )
    c.run(["chown", "-R", "postgres:postgres", str(base)])
    start(data, base / "postgresql.log")
    primary = c.data_dir(name)
    province = c.NODES[name][3]
    stream = f"drill:{int(time.time())}"
    in_flight = 20
    taken_over = False
    try:
        # Synchronous: a registration commits only once the standby has its WAL (no loss).
        c.psql(name, "ALTER SYSTEM SET synchronous_standby_names = 'standby'")
        c.psql(name, "SELECT pg_reload_conf()")
        time.sleep(1)
        register_some(name, 40)
        committed = count_sql(port, STUDENTS)
        heads = count_sql(port, HEADCOUNT)
        # Messages in flight at the failure: written on the primary (and, synchronously, on the
        # standby) while the hub's subscription to it is off, so that its slot never sends them.
        c.psql("hub", f"ALTER SUBSCRIPTION xueji_from_{province} DISABLE")
        send_pings(name, in_flight, "00", stream)
        print(f"[failover] primary: {committed} records, head count {heads}; stopping it hard")
        c.as_postgres(
            [str(c.PG_BIN / "pg_ctl"), "-D", str(primary), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            check=False,
        )
        started = time.monotonic()
        c.as_postgres(
            [str(c.PG_BIN / "pg_ctl"), "-D", str(data), "-w", "promote"], stdout=subprocess.DEVNULL
        )
        promoted = time.monotonic() - started
        on_standby = count_sql(STANDBY_PORT, STUDENTS)
        heads_standby = count_sql(STANDBY_PORT, HEADCOUNT)
        print(
            f"[failover] promoted in {promoted:.1f} s: {on_standby} records, head count "
            f"{heads_standby}"
        )
        assert on_standby == committed and heads_standby == heads, "a committed write was lost"
        audit_verify(name, STANDBY_PORT)
        print("[failover] xueji audit verify on the promoted standby: passed")
        # The promoted standby becomes the node; the subscriptions to and from it are created
        # again; then the messages in flight and new ones both ways arrive, each applied once.
        take_over(name, data)
        taken_over = True
        started = time.monotonic()
        resubscribe(name)
        c.stop_process(name, "gunicorn")
        c.serve(name)
        c.wait_http(name)
        send_pings(name, 10, "00", stream)
        send_pings("hub", 10, province, stream)
        wait_applied("hub", stream, province, in_flight + 10)
        wait_applied(name, stream, "00", 10)
        print(
            f"[failover] subscriptions created again in {time.monotonic() - started:.1f} s: the "
            f"hub applied the {in_flight} messages in flight and 10 new ones once each, the "
            "node the hub's 10; the drill passed"
        )
    finally:
        if not taken_over:
            stop(data, "fast")
            c.pg_start(name)
            if c.pg_running("hub"):
                c.psql("hub", f"ALTER SUBSCRIPTION xueji_from_{province} ENABLE")
        shutil.rmtree(base, ignore_errors=True)
        c.worker_start(name)
        c.sealer_start(name)
        c.psql(name, "ALTER SYSTEM RESET synchronous_standby_names")
        c.psql(name, "SELECT pg_reload_conf()")
        c.psql(
            name,
            f"SELECT pg_drop_replication_slot('{slot}') FROM pg_replication_slots "
            f"WHERE slot_name = '{slot}'",
        )


if __name__ == "__main__":
    drill = sys.argv[1] if len(sys.argv) > 1 else ""
    node = sys.argv[2] if len(sys.argv) > 2 else "p44"
    if drill == "pitr":
        pitr(node)
    elif drill == "failover":
        failover(node)
    else:
        raise SystemExit(__doc__)
