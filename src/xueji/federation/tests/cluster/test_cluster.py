"""Integration tests on the three-node cluster (deploy/cluster.py: the hub and provinces 44 and
11, each on a PostgreSQL 15 cluster of its own, replicating logically, served by gunicorn).

Marked `cluster` and skipped unless XUEJI_CLUSTER_TESTS=1 (`make cluster-test`): the module
starts the cluster afresh and stops it at the end. XUEJI_CLUSTER_KILLS sets how many times the
hub's delivery process is killed (default 100)."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from xueji.core.idnumbers import make_resident_id

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        os.environ.get("XUEJI_CLUSTER_TESTS") != "1", reason="XUEJI_CLUSTER_TESTS=1 runs them"
    ),
]

ROOT = Path(__file__).resolve().parents[5]
# A birth date of its own per run (the sequence of an ID number has 500 values a day).
BORN = datetime.date(2019, 10, 1) + datetime.timedelta(days=random.randrange(300))
COUNTIES = {"p44": "440304", "p11": "110101"}
UNCONFIRMED = "SELECT count(*) FROM federation_indexentry WHERE state <> 'confirmed'"
PENDING = "SELECT count(*) FROM federation_pendingreservation WHERE state = 'pending'"
DOCUMENTS = "SELECT count(*) FROM federation_indexentry WHERE kind = 'document'"
HEADCOUNTS = (
    "SELECT coalesce(string_agg(province || ':' || n, ',' ORDER BY province), '') FROM "
    "(SELECT province, sum(delta) AS n FROM stats_headcountdelta GROUP BY province "
    "HAVING sum(delta) <> 0) s"
)

SEED = """
import json, sys
import django
django.setup()
from xueji.access.models import Role
from xueji.access.services import api_token_create
from xueji.geo.models import Division
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member
county = Division.objects.get(code=sys.argv[1])
code = "3" + str(__import__("random").randrange(10**9)).zfill(9)
school = SchoolFactory(county=county, code=code)
school_class = SchoolClassFactory(school=school, grade=1)
user = member(Role.REGISTRAR, school=school, username="reg" + school.code)
_, raw = api_token_create(actor=None, user=user, name="cluster tests")
tokens = {}
province = Division.objects.get(code=county.code[:2] + "0000")
for level, division in (("county", county), ("province", province)):
    approver = member(Role.BUREAU_APPROVER, division=division, username=level + school.code)
    tokens[level] = api_token_create(actor=None, user=approver, name="cluster tests")[1]
print(json.dumps({"token": raw, "class_id": school_class.pk, **tokens}))
"""


def _load_cluster() -> Any:
    spec = importlib.util.spec_from_file_location("xueji_cluster", ROOT / "deploy" / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Cluster:
    def __init__(self, module: Any) -> None:
        self.m = module
        self.seeds: dict[str, dict[str, Any]] = {}
        self._ids = iter(range(1, 5000))

    def sql(self, node: str, statement: str) -> str:
        result: str = self.m.psql(node, statement)
        return result

    def count(self, node: str, statement: str) -> int:
        return int(self.sql(node, statement) or 0)

    def seed(self, node: str) -> None:
        out = subprocess.run(
            [str(self.m.PYTHON), "-c", SEED, COUNTIES[node]],
            env=self.m.node_env(node),
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        self.seeds[node] = json.loads(out.stdout.strip().splitlines()[-1])

    def child(self) -> str:
        return make_resident_id("440304", BORN, 2 * next(self._ids) + 1)

    def register(self, node: str, id_number: str, name: str = "张春铭") -> httpx.Response:
        seed = self.seeds[node]
        body = {
            "school_class_id": seed["class_id"],
            "name": name,
            "sex": "1",
            "birth_date": BORN.isoformat(),
            "birthplace_code": "440304",
            "ethnicity": "01",
            "id_doc_type": "1",
            "id_number": id_number,
            "hukou_division_code": "440304",
            "family": [
                {"relation": "51", "name": "张伟", "is_guardian": True, "phone": "13800138000"},
                {"relation": "52", "name": "李娜"},
            ],
        }
        port = self.m.NODES[node][2]
        return httpx.post(
            f"http://127.0.0.1:{port}/api/students",
            json=body,
            headers={"Authorization": f"Bearer {seed['token']}", "Accept-Language": "en"},
            timeout=30,
        )

    def api(
        self, node: str, who: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        """A request to a node's API as its seeded registrar (who="token") or approver."""
        port = self.m.NODES[node][2]
        headers = {"Authorization": f"Bearer {self.seeds[node][who]}", "Accept-Language": "en"}
        url = f"http://127.0.0.1:{port}/api/federation/{path}"
        if body is None:
            return httpx.get(url, headers=headers, timeout=30)
        return httpx.post(url, json=body, headers=headers, timeout=30)

    def decide(self, node: str, who: str, transfer: str, level: str) -> dict[str, Any]:
        answer = self.api(
            node, who, f"transfers/{transfer}/{level}-decision", {"decision": "approve"}
        )
        assert answer.status_code == 200, (node, who, answer.text)
        result: dict[str, Any] = answer.json()
        return result

    def step_state(self, node: str, transfer: str, ordinal: int) -> str:
        return self.sql(
            node,
            f"SELECT s.state FROM federation_crossstep s WHERE s.transfer_id = '{transfer}' "
            f"AND s.ordinal = {ordinal}",
        )

    def wait(self, what: str, check: Callable[[], bool], timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}")

    def caught_up(self) -> bool:
        """Every province's outbox has reached the hub and the hub has applied all of it."""
        sent = sum(self.count(n, "SELECT count(*) FROM federation_outbox") for n in COUNTIES)
        arrived = self.count("hub", "SELECT count(*) FROM federation_outbox")
        applied = self.count("hub", "SELECT count(*) FROM federation_inbox")
        return sent == arrived == applied


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    module = _load_cluster()
    reuse = os.environ.get("XUEJI_CLUSTER_REUSE") == "1"  # a cluster already up (development)
    try:
        if not reuse:
            module.up(fresh=True)
        running = Cluster(module)
        for node in COUNTIES:
            running.seed(node)
        yield running
    finally:
        if not reuse:
            module.down()


def test_the_same_child_registered_on_both_provinces_at_once_gives_one_record(cluster) -> None:
    rounds = 20
    records = "SELECT count(*) FROM students_student"
    before = sum(cluster.count(n, records) for n in COUNTIES)
    documents_before = cluster.count("hub", DOCUMENTS)
    for _ in range(rounds):
        id_number = cluster.child()
        barrier = threading.Barrier(2)
        answers: dict[str, httpx.Response] = {}

        def attempt(node: str, id_number: str = id_number, barrier=barrier, answers=answers):
            barrier.wait()
            answers[node] = cluster.register(node, id_number)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in COUNTIES]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(r.status_code for r in answers.values())
        assert statuses == [201, 409], {
            n: (r.status_code, r.text[:300]) for n, r in answers.items()
        }
        refused = next(r for r in answers.values() if r.status_code == 409).json()
        assert refused["code"] in {"registered_in_province", "registered_elsewhere"}, refused
    assert sum(cluster.count(n, records) for n in COUNTIES) - before == rounds
    # One holder per document at the hub, and every reservation confirmed once replicated.
    assert cluster.count("hub", DOCUMENTS) - documents_before == rounds
    cluster.wait("the confirmations", cluster.caught_up)
    assert cluster.count("hub", UNCONFIRMED) == 0


def test_with_the_hub_stopped_a_registration_completes_after_it_starts_again(cluster) -> None:
    cluster.m.main(["stop-hub"])
    try:
        answer = cluster.register("p44", cluster.child(), name="李小红")
        assert answer.status_code == 201, answer.text
        record = answer.json()
        assert record["number_kind"] == "L"
        assert cluster.count("p44", PENDING) == 1
    finally:
        cluster.m.main(["start-hub"])
    cluster.wait(
        "the pending reservation",
        lambda: cluster.count("p44", PENDING) == 0,
    )
    kind = f"SELECT number_kind FROM students_student WHERE id = '{record['id']}'"
    assert cluster.sql("p44", kind) == "G"
    cluster.wait("the confirmation", cluster.caught_up)
    confirmed = f"{DOCUMENTS.replace('kind = ', 'kind <> ')} AND record = '{record['id']}'"
    assert cluster.count("hub", confirmed + " AND state = 'confirmed'") == 1  # its G number
    assert cluster.count("hub", f"{DOCUMENTS} AND record = '{record['id']}'") == 1


def _filed_from_11(cluster: Cluster, id_number: str, record: str) -> tuple[str, str]:
    """A school of 11 files a transfer in of 44's child, with the guardian's request."""
    import base64

    request = b"%PDF-1.4\n% the guardian's request\n%%EOF\n"
    filed = cluster.api(
        "p11",
        "token",
        "transfers",
        {
            "student_number": "G" + id_number,
            "name": "赵小雨",
            "to_class_id": cluster.seeds["p11"]["class_id"],
            "reason": "随父母工作调动",
            "guardian_request": {
                "name": "申请.pdf",
                "content_base64": base64.b64encode(request).decode(),
            },
        },
    )
    assert filed.status_code == 201, filed.text
    assert filed.json()["from_province"] == "44"
    return filed.json()["id"], record


def _transfer_from_44_to_11(cluster: Cluster, *, hub_stopped: bool = False) -> None:
    """A child registered on 44 is filed in by a school of 11, approved by 11's county and
    province on 11's node, then by 44's school, county and province on 44's: the record moves.
    With `hub_stopped`, the hub is down from just after the filing until 11's parties have
    decided: their messages wait in 11's outbox (its replication slot) and go on afterwards."""
    id_number = cluster.child()
    registered = cluster.register("p44", id_number, name="赵小雨")
    assert registered.status_code == 201, registered.text
    cluster.wait("the registration at the hub", cluster.caught_up)
    transfer, record = _filed_from_11(cluster, id_number, registered.json()["id"])
    if hub_stopped:
        cluster.m.main(["stop-hub"])
    try:
        cluster.decide("p11", "county", transfer, "bureau")
        cluster.decide("p11", "province", transfer, "bureau")
        if hub_stopped:
            time.sleep(2)
            # 11's approvals have not reached 44 while the hub is down.
            assert cluster.step_state("p44", transfer, 2) in ("", "pending")
    finally:
        if hub_stopped:
            cluster.m.main(["start-hub"])
    # 44 learns of the filing and of 11's two approvals, in order.
    cluster.wait(
        "11's approvals at 44", lambda: cluster.step_state("p44", transfer, 3) == "approved"
    )
    state = f"SELECT state FROM students_student WHERE id = '{record}'"
    assert cluster.sql("p44", state) == "transferring"
    # The guardian's request came with the filing: 44's parties open it on 44's node.
    documents = cluster.api("p44", "token", f"transfers/{transfer}").json()["evidence"]
    assert [d["purpose"] for d in documents] == ["guardian_request"]
    cluster.decide("p44", "token", transfer, "school")
    cluster.decide("p44", "county", transfer, "bureau")
    final = cluster.decide("p44", "province", transfer, "bureau")
    assert final["state"] == "completed"
    # The record arrives at 11, placed in the receiving class; the hub resolves it to 11.
    arrived = f"SELECT count(*) FROM students_student WHERE id = '{record}' AND state = 'enrolled'"
    cluster.wait("the record at 11", lambda: cluster.count("p11", arrived) == 1)
    placed = (
        f"SELECT count(*) FROM students_placement WHERE student_id = '{record}' "
        f"AND end_date IS NULL AND school_class_id = {cluster.seeds['p11']['class_id']}"
    )
    assert cluster.count("p11", placed) == 1
    assert (
        cluster.count(
            "p11", f"SELECT count(*) FROM students_familymember WHERE student_id = '{record}'"
        )
        == 2
    )
    done = f"SELECT state FROM federation_crosstransfer WHERE id = '{transfer}'"
    assert cluster.sql("p11", done) == "completed"
    assert set(
        cluster.sql(
            "hub", f"SELECT DISTINCT province FROM federation_indexentry WHERE record = '{record}'"
        ).split()
    ) == {"11"}
    # 44 keeps the placement up to the transfer date, read-only, and a tombstone to 11.
    assert cluster.sql("p44", state) == "left_other"
    assert (
        cluster.count(
            "p44",
            f"SELECT count(*) FROM students_placement "
            f"WHERE student_id = '{record}' AND end_date IS NULL",
        )
        == 0
    )
    assert (
        cluster.sql("p44", f"SELECT province FROM federation_tombstone WHERE record = '{record}'")
        == "11"
    )
    # Every message applied once: at 11 and at 44, the inbox holds each transfer message once.
    per_key = (
        "SELECT count(*) FROM (SELECT key FROM federation_inbox WHERE stream LIKE "
        f"'transfer:{transfer}%' GROUP BY key HAVING count(*) > 1) d"
    )
    assert cluster.count("p11", per_key) == cluster.count("p44", per_key) == 0
    # Once 11 holds the record, 44 drops its copy's family (the placements stay).
    family = f"SELECT count(*) FROM students_familymember WHERE student_id = '{record}'"
    cluster.wait("44 to release the record's rows", lambda: cluster.count("p44", family) == 0)
    placements = f"SELECT count(*) FROM students_placement WHERE student_id = '{record}'"
    assert cluster.count("p44", placements) == 1
    received = f"SELECT count(*) FROM federation_inbox WHERE stream LIKE 'transfer:{transfer}%'"
    assert cluster.count("p11", received) == 4  # located, steps 4 and 5, completed
    assert cluster.count("p44", received) == 4  # filed, steps 2 and 3, received
    cluster.wait("the hub to apply everything", cluster.caught_up)


def test_a_transfer_between_provinces_moves_the_record_across_nodes(cluster) -> None:
    _transfer_from_44_to_11(cluster)


def test_with_the_hub_stopped_during_a_transfer_it_completes_after_it_starts_again(
    cluster,
) -> None:
    _transfer_from_44_to_11(cluster, hub_stopped=True)


def test_a_withdrawal_on_the_receiving_node_gives_the_record_back_on_the_sending_one(
    cluster,
) -> None:
    id_number = cluster.child()
    registered = cluster.register("p44", id_number, name="赵小雨")
    assert registered.status_code == 201, registered.text
    cluster.wait("the registration at the hub", cluster.caught_up)
    transfer, record = _filed_from_11(cluster, id_number, registered.json()["id"])
    cluster.decide("p11", "county", transfer, "bureau")
    state = f"SELECT state FROM students_student WHERE id = '{record}'"
    cluster.wait("the filing at 44", lambda: cluster.sql("p44", state) == "transferring")
    withdrawn = cluster.api("p11", "token", f"transfers/{transfer}/withdraw", {"reason": "不转了"})
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawing"
    copy = f"SELECT state FROM federation_crosstransfer WHERE id = '{transfer}'"
    cluster.wait("44's confirmation at 11", lambda: cluster.sql("p11", copy) == "withdrawn")
    assert cluster.sql("p44", copy) == "withdrawn"
    assert cluster.sql("p44", state) == "enrolled"
    # 11's county approval reached 44 before the withdrawal; 44's school may not decide now.
    late = cluster.api(
        "p44", "token", f"transfers/{transfer}/school-decision", {"decision": "approve"}
    )
    assert late.status_code == 409, late.text
    assert cluster.sql("p44", state) == "enrolled"


def test_a_child_registered_in_both_provinces_is_merged_into_one_record_across_nodes(
    cluster,
) -> None:
    """The hub's national duplicate search pairs a child registered on 44 and on 11 (two ID
    numbers, one name, birth date and sex); both counties say "same", kept by 11: 44's record is
    merged into 11's on 44's node, and the hub moves its numbers to 11's record."""
    name = "钱多多"  # a name of this test only: its pair is the only one of its keys
    here = cluster.register("p44", cluster.child(), name=name)
    there = cluster.register("p11", cluster.child(), name=name)
    assert here.status_code == there.status_code == 201, (here.text, there.text)
    r44, r11 = here.json()["id"], there.json()["id"]

    def part(node: str, record: str) -> dict[str, Any]:
        # The county's list is paged (100 a page, the oldest first among equal scores): the
        # earlier tests' children share a name, birth date and sex, so 44 and 11 already hold
        # about a hundred pairs of theirs and this one is often on a later page.
        offset = 0
        while True:
            answer = cluster.api(node, "county", f"duplicates?limit=500&offset={offset}")
            assert answer.status_code == 200, answer.text
            rows = answer.json()
            found = next((row for row in rows if row["record"] == record), None)
            if found is not None or len(rows) < 500:
                return found or {}
            offset += len(rows)

    cluster.wait(
        "the pair's part at both provinces",
        lambda: bool(part("p44", r44)) and bool(part("p11", r11)),
        timeout=120,
    )
    pair = part("p44", r44)["pair"]
    held = "SELECT count(*) FROM federation_indexentry WHERE record = '{}' AND province = '{}'"
    numbers = cluster.count("hub", held.format(r44, "44")) + cluster.count(
        "hub", held.format(r11, "11")
    )
    for node, keeps in (("p44", "there"), ("p11", "here")):
        decided = cluster.api(
            node,
            "county",
            f"duplicates/{pair}/decision",
            {"decision": "same", "keeps": keeps, "note": "在北京就读"},
        )
        assert decided.status_code == 200, decided.text
    state = f"SELECT state FROM students_student WHERE id = '{r44}'"
    cluster.wait("44's record merged", lambda: cluster.sql("p44", state) == "merged")
    cluster.wait("11's pair kept", lambda: part("p11", r11).get("state") == "kept")
    assert part("p44", r44)["state"] == "merged_away"
    tomb = f"SELECT province, merged_into FROM federation_tombstone WHERE record = '{r44}'"
    assert cluster.sql("p44", tomb).split("|") == ["11", r11]
    open_places = (
        f"SELECT count(*) FROM students_placement WHERE student_id = '{r44}' AND end_date IS NULL"
    )
    assert cluster.count("p44", open_places) == 0
    cluster.wait("the hub to apply everything", cluster.caught_up)
    # The hub's index: 44's numbers now name 11's record (a look-up of either answers 11).
    assert cluster.count("hub", held.format(r44, "44")) == 0
    assert cluster.count("hub", held.format(r11, "11")) == numbers >= 2
    once = (
        "SELECT count(*) FROM (SELECT key FROM federation_inbox WHERE stream LIKE 'duplicates:%' "
        "GROUP BY key HAVING count(*) > 1) d"
    )
    assert cluster.count("p44", once) == cluster.count("p11", once) == cluster.count("hub", once)
    assert cluster.count("hub", once) == 0


def test_national_statistics_equal_the_sum_of_the_nodes(cluster) -> None:
    query = HEADCOUNTS

    def nodes() -> str:
        parts = [cluster.sql(n, query) for n in COUNTIES]
        return ",".join(sorted(p for part in parts for p in part.split(",") if p))

    def equal() -> bool:
        hub = cluster.sql("hub", query)
        return bool(hub) and ",".join(sorted(hub.split(","))) == nodes()

    cluster.wait("the rollups at the hub", equal)


def test_killing_the_delivery_process_and_the_apply_worker_loses_nothing(cluster) -> None:
    kills = int(os.environ.get("XUEJI_CLUSTER_KILLS", "100"))
    m = cluster.m
    confirmations = "SELECT count(*) FROM federation_inbox WHERE topic = 'index.confirm'"
    before = cluster.count("hub", confirmations)
    # A backlog: registrations while the hub's delivery process is stopped.
    m.stop_process("hub", "worker")
    registered = 0
    for index in range(30):
        node = "p44" if index % 2 else "p11"
        if cluster.register(node, cluster.child(), name="王小明").status_code == 201:
            registered += 1
        if index in (5, 12, 19, 24, 28):  # the hub's apply workers, terminated five times
            cluster.sql(
                "hub",
                "SELECT pg_terminate_backend(pid) FROM pg_stat_subscription "
                "WHERE subname LIKE 'xueji_from_%' AND pid IS NOT NULL",
            )
    assert registered == 30
    rng = random.Random(25)
    for _ in range(kills):
        m.worker_start("hub")
        time.sleep(rng.uniform(0.8, 2.5))
        pid = m.alive(m.pidfile("hub", "worker"))
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0) if _is_child(pid) else None
        m.pidfile("hub", "worker").unlink(missing_ok=True)
    m.worker_start("hub")
    cluster.wait("the hub to apply everything", cluster.caught_up, timeout=180)
    after = cluster.count("hub", confirmations)
    assert after - before == 30  # one confirmation per registration: none lost, none twice
    assert cluster.count("hub", UNCONFIRMED) == 0
    # Every effect once: the inbox's keys are the outbox's, one for one.
    assert (
        cluster.count(
            "hub",
            "SELECT count(*) FROM federation_outbox o "
            "LEFT JOIN federation_inbox i ON i.key = o.key WHERE i.key IS NULL",
        )
        == 0
    )


def _is_child(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return True


def test_after_a_failover_the_subscriptions_are_created_again_and_lose_nothing(cluster) -> None:
    """Province 11's standby promoted (deploy/drills.py failover): the drill checks that no
    committed registration is lost and that the messages in flight at the failure and after it
    arrive both ways, each applied once; then everything has caught up and a transfer between
    provinces runs through the promoted node. Last: it replaces 11's database."""
    subprocess.run(
        [str(cluster.m.PYTHON), str(ROOT / "deploy" / "drills.py"), "failover", "p11"],
        cwd=ROOT,
        check=True,
    )
    cluster.wait("the hub to apply everything", cluster.caught_up)
    _transfer_from_44_to_11(cluster)
