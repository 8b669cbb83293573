"""Registrars at term start against one node (Locust): `python -m bench.load_test` runs it.

The mix of a registrar's day at term start, with weights: search the school's students (by name
prefix and by class), open a child's record, open the class roster page, register a new child,
file a transfer request; and `/healthz` (no database, no session) as the trivial baseline,
measured in the same run. Each simulated user is a registrar of a school of its own (tokens and
classes from the seed file LOCUST_SEED, written by bench/load_test.py).
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import random

from locust import HttpUser, between, task

from xueji.core.idnumbers import make_resident_id

SEEDS = json.loads(open(os.environ["LOCUST_SEED"]).read())  # noqa: SIM115
_numbers = itertools.count(int(os.environ.get("LOCUST_ID_START", "1")))
_users = itertools.count()
BORN = datetime.date(2019, 10, 1)


class Registrar(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        seed = SEEDS[next(_users) % len(SEEDS)]
        self.class_id = seed["class_id"]
        self.headers = {"Authorization": f"Bearer {seed['token']}", "Accept-Language": "en"}
        self.students: list[str] = list(seed.get("students", []))

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
        if self.students:
            self.client.get(
                f"/api/students/{random.choice(self.students)}",
                headers=self.headers,
                name="read: record",
            )

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
