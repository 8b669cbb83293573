"""Registrars at term start against one node (Locust): `python -m bench.load_test` runs it.

The mix of a registrar's day at term start, with weights: search the school's students (by name
prefix), open the class roster, open a child's record, register a new child, file a transfer of
a child from the neighbouring school (each child filed once in a run), and decide the school's
step of the transfers waiting for it; the county's approvers (one simulated user in ten) decide
the bureau steps waiting for them. `/healthz` (no database, no session) is the trivial baseline,
measured in the same run. Each registrar is a registrar of a school (tokens, classes and the
neighbour's children from the seed file LOCUST_SEED, written by bench/load_test.py).
"""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import os
import random

from locust import HttpUser, between, task

from xueji.core.idnumbers import make_resident_id

SEED = json.loads(open(os.environ["LOCUST_SEED"]).read())  # noqa: SIM115
SEEDS = SEED["registrars"]
_numbers = itertools.count(int(os.environ.get("LOCUST_ID_START", "1")))
_users = itertools.count()
BORN = datetime.date(2019, 10, 1)
# The guardian's written request every transfer filing carries (a minimal PDF).
GUARDIAN_REQUEST = {
    "name": "申请书.pdf",
    "content_base64": base64.b64encode(
        b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    ).decode(),
}
# Children already filed in this run (the users share one process): each is filed once. Their
# record may then leave the first school's view (404 there once the transfer completes).
_filed: set[str] = set()
_moving: set[str] = set()


def _decide_waiting(user: HttpUser, headers: dict[str, str], decision: str, name: str) -> None:
    """Open the queue of requests waiting for the caller and approve the first one."""
    waiting = user.client.get(
        "/api/changes", params={"box": "waiting"}, headers=headers, name="read: queue"
    )
    rows = waiting.json() if waiting.status_code == 200 else []
    if not rows:
        return
    row = random.choice(rows[:5])
    step = (row.get("current_step") or {}).get("ordinal")
    with user.client.post(
        f"/api/changes/{row['id']}/{decision}",
        json={"decision": "approve", "step": step},
        headers=headers,
        name=name,
        catch_response=True,
    ) as response:
        if response.status_code in (200, 409):
            response.success()  # 409: another user decided this step first
        else:
            response.failure(f"{response.status_code} {response.text[:200]}")


class CountyApprover(HttpUser):
    """The county's approver: decides the bureau steps of the transfers."""

    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {SEED['county_token']}", "Accept-Language": "en"}

    @task
    def approve(self) -> None:
        _decide_waiting(self, self.headers, "bureau-decision", "write: approve (county)")


class Registrar(HttpUser):
    weight = 9
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        seed = SEEDS[next(_users) % len(SEEDS)]
        self.class_id = seed["class_id"]
        self.headers = {"Authorization": f"Bearer {seed['token']}", "Accept-Language": "en"}
        self.students: list[str] = list(seed.get("students", []))
        self.transfer_from: list[dict[str, str]] = list(seed.get("transfer_from", []))

    @task(1)
    def baseline(self) -> None:
        self.client.get("/healthz", name="baseline /healthz")

    @task(6)
    def search(self) -> None:
        self.client.get(
            "/api/students",
            params={"q": random.choice(["张", "李", "王", "zh", "li"]), "limit": 20},
            headers=self.headers,
            name="read: search",
        )

    @task(3)
    def roster(self) -> None:
        self.client.get(
            "/api/students",
            params={"class_id": self.class_id, "limit": 50},
            headers=self.headers,
            name="read: class roster",
        )

    @task(3)
    def record(self) -> None:
        if not self.students:
            return
        student = random.choice(self.students)
        with self.client.get(
            f"/api/students/{student}",
            headers=self.headers,
            name="read: record",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                response.success()
            elif response.status_code == 404 and student in _moving:
                self.students.remove(student)  # transferred to the neighbour: no longer ours
                response.success()
            else:
                response.failure(f"{response.status_code} {response.text[:200]}")

    @task(2)
    def register(self) -> None:
        n = next(_numbers)
        born = BORN + datetime.timedelta(days=(n // 499) % 300)
        number = make_resident_id("440304", born, 2 * (n % 499) + 1)
        body = {
            "school_class_id": self.class_id,
            "name": random.choice(["张春铭", "李小红", "王小明", "陈静"]),
            "sex": "1",
            "birth_date": born.isoformat(),
            "birthplace_code": "440304",
            "ethnicity": "01",
            "id_doc_type": "1",
            "id_number": number,
            "hukou_division_code": "440304",
            "family": [
                {"relation": "51", "name": "张伟", "is_guardian": True, "phone": "13800138000"},
                {"relation": "52", "name": "李娜"},
            ],
        }
        with self.client.post(
            "/api/students",
            json=body,
            headers=self.headers,
            name="write: register",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                self.students.append(response.json()["id"])
                response.success()
            elif response.status_code == 409:
                response.success()  # the number was taken by another user of the run: refused
            else:
                response.failure(f"{response.status_code} {response.text[:200]}")

    @task(1)
    def transfer(self) -> None:
        child = next((c for c in self.transfer_from if c["number"] not in _filed), None)
        if child is None:
            return
        _filed.add(child["number"])
        _moving.add(child["id"])
        with self.client.post(
            "/api/changes/transfers",
            json={
                "student_number": child["number"],
                "name": child["name"],
                "to_class_id": self.class_id,
                "reason": "随父母工作调动",
                "guardian_request": GUARDIAN_REQUEST,
            },
            headers=self.headers,
            name="write: transfer filing",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                response.success()
            else:
                response.failure(f"{response.status_code} {response.text[:200]}")

    @task(1)
    def approve(self) -> None:
        _decide_waiting(self, self.headers, "school-decision", "write: approve (school)")
