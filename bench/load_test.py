"""The Locust load test (bench/locustfile.py) against one node of the cluster served by gunicorn.

    python -m bench.load_test [--node p44] [--users 50] [--seconds 120] [--schools 25]

Seeds the node with schools (a registrar's API token and a grade-1 class each, a few children),
then runs Locust headless with the load generator pinned to one core (taskset -c 1), 50 users,
and prints p50/p95/p99 and the error rate of each request kind, the trivial /healthz measured in
the same run as the baseline, as a Markdown section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SEED = """
import datetime, json, random, sys
import django
django.setup()
from django.test import override_settings
from xueji.access.models import Role
from xueji.access.services import api_token_create
from xueji.geo.models import Division
from xueji.core.errors import ServiceError
from xueji.core.idnumbers import make_resident_id
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data
seeds = []
county = Division.objects.get(code="440304")
with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
    for _ in range(int(sys.argv[1])):
        school = SchoolFactory(county=county, code="3" + str(random.randrange(10**9)).zfill(9))
        school_class = SchoolClassFactory(school=school, grade=1)
        user = member(Role.REGISTRAR, school=school, username="load" + school.code)
        _, raw = api_token_create(actor=None, user=user, name="load test")
        students, movable = [], []
        for _ in range(int(sys.argv[2])):
            born = datetime.date(2019, 10, 1) + datetime.timedelta(days=random.randrange(300))
            number = make_resident_id("440304", born, 2 * random.randrange(499) + 1)
            data = student_data(birth_date=born, id_number=number)
            try:
                registered = student_register(
                    actor=user, school_class_id=school_class.pk, data=data
                )
            except ServiceError:
                continue  # the random number was taken
            student = registered.student
            students.append(str(student.pk))
            number = student.reveal_student_number()
            movable.append({"id": str(student.pk), "number": number, "name": data.name})
        seeds.append(
            {"token": raw, "class_id": school_class.pk, "students": students, "movable": movable}
        )
    # The county's approver decides the transfers' bureau steps (the mix's approvals).
    approver = member(
        Role.BUREAU_APPROVER,
        division=county,
        level="county",
        username="load-county-" + str(random.randrange(10**9)),
    )
    _, county_token = api_token_create(actor=None, user=approver, name="load test")
# Each school files transfers of its neighbour's children: every child is filed at most once.
for i, seed in enumerate(seeds):
    seed["transfer_from"] = seeds[(i + 1) % len(seeds)]["movable"]
print(json.dumps({"registrars": seeds, "county_token": county_token}))
"""


def _cluster() -> object:
    spec = importlib.util.spec_from_file_location("xueji_cluster", ROOT / "deploy" / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__)
    parser.add_argument("--node", default="p44")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--schools", type=int, default=25)
    parser.add_argument(
        "--children", type=int, default=8, help="children seeded per school (transfer candidates)"
    )
    args = parser.parse_args(argv)
    cluster = _cluster()
    env = cluster.node_env(args.node)  # type: ignore[attr-defined]
    out_dir = ROOT / "var" / "locust"
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"seeding {args.schools} schools on {args.node}", flush=True)
    seeded = subprocess.run(
        [sys.executable, "-c", SEED, str(args.schools), str(args.children)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    seed_file = out_dir / "seed.json"
    seed_file.write_text(seeded.stdout.strip().splitlines()[-1])
    port = cluster.NODES[args.node][2]  # type: ignore[attr-defined]
    start = str(int.from_bytes(os.urandom(3), "big"))
    command = [
        "taskset",
        "-c",
        "1",
        str(ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(args.users),
        "-r",
        "10",
        "-t",
        f"{args.seconds}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        str(out_dir / "run"),
        "--only-summary",
    ]
    print(" ".join(command), flush=True)
    subprocess.run(
        command,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "LOCUST_SEED": str(seed_file),
            "LOCUST_ID_START": start,
        },
        cwd=ROOT,
        check=False,
    )
    rows = list(csv.DictReader(open(out_dir / "run_stats.csv")))  # noqa: SIM115
    lines = [
        f"Locust, {args.users} users, {args.seconds} s, generator pinned to one core "
        "(taskset -c 1),"
        f" against node {args.node} (gunicorn, PostgreSQL 15; registrations reserve at the hub):"
        f" `python -m bench.load_test --users {args.users} --seconds {args.seconds}`",
        "",
        "| request | count | errors | p50 | p95 | p99 | req/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    result = []
    for row in rows:
        count = int(row["Request Count"])
        failures = int(row["Failure Count"])
        entry = {
            "name": row["Name"],
            "count": count,
            "failures": failures,
            "p50": row["50%"],
            "p95": row["95%"],
            "p99": row["99%"],
            "rps": float(row["Requests/s"]),
        }
        result.append(entry)
        rate = f"{failures} ({100 * failures / count:.1f}%)" if count else "0"
        lines.append(
            f"| {entry['name']} | {count:,} | {rate} | {entry['p50']} ms | {entry['p95']} ms | "
            f"{entry['p99']} ms | {entry['rps']:.1f} |"
        )
    (out_dir / "result.json").write_text(json.dumps(result, indent=1))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
