from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from xueji.students.models import Placement, RecordState
from xueji.testing.api import api_as
from xueji.yearend.models import RunKind, RunState, YearEndRun
from xueji.yearend.services import run_execute, run_plan, run_start
from xueji.yearend.tasks import yearend_run_task

from ..conftest import FROM_YEAR, Registry, placement_table

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_bureau_plans_sees_the_dry_run_starts_and_watches_the_progress(
    registry: Registry,
) -> None:
    client = client_for(registry.approver)
    assert client.get(reverse("yearend:index")).status_code == 200

    response = client.post(
        reverse("yearend:plan"), {"kind": "promote", "scope": "440304", "from_year": FROM_YEAR}
    )
    run = YearEndRun.objects.get()
    assert response.url == reverse("yearend:detail", args=[run.pk])
    page = client.get(response.url).content.decode()
    assert registry.primaries[0].code in page
    assert "20" in page  # students that move

    with django_capture_on_commit():
        client.post(reverse("yearend:start", args=[run.pk]))
    run.refresh_from_db()
    assert run.state == RunState.RUNNING
    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["args"] == [str(run.pk)]
    bar = client.get(reverse("yearend:progress", args=[run.pk])).content.decode()
    assert "hx-get" in bar and "<progress" in bar

    # The background worker runs the task.
    assert yearend_run_task.call(str(run.pk)) == 20
    bar = client.get(reverse("yearend:progress", args=[run.pk])).content.decode()
    assert "hx-get" not in bar and 'class="failed"' not in bar
    assert YearEndRun.objects.get().state == RunState.DONE
    # A run stopped by an error is not drawn as the full bar of a success.
    YearEndRun.objects.filter(pk=run.pk).update(state=RunState.FAILED)
    bar = client.get(reverse("yearend:progress", args=[run.pk])).content.decode()
    assert '<progress class="failed"' in bar


class django_capture_on_commit:
    """Run the on-commit callbacks of the test's transaction when the block ends."""

    def __enter__(self) -> None:
        from django.db import connection

        self.before = len(connection.run_on_commit)

    def __exit__(self, *exc: object) -> None:
        from django.db import connection

        callbacks = connection.run_on_commit[self.before :]
        connection.run_on_commit[self.before :] = []
        for _sids, callback, _robust in callbacks:
            callback()


def test_the_junior_high_pastes_a_list_of_graduates(registry: Registry) -> None:
    run = run_plan(
        actor=registry.approver, kind=RunKind.GRADUATE, scope="440304", from_year=FROM_YEAR
    )
    run_start(actor=registry.approver, run_id=run.pk, enqueue=False)
    run_execute(run_id=run.pk)
    numbers = [s.reveal_student_number() for s in registry.students[(0, 6)]]
    client = client_for(registry.registrars[2])
    assert client.get(reverse("yearend:intake")).status_code == 200

    response = client.post(
        reverse("yearend:intake"),
        {"school_class": registry.junior_class.pk, "numbers": "\n".join(numbers)},
    )

    assert response.status_code == 302
    assert (
        Placement.objects.filter(school_class=registry.junior_class, end_date__isnull=True).count()
        == 2
    )
    refused = client.post(
        reverse("yearend:intake"),
        {"school_class": registry.junior_class.pk, "numbers": numbers[0]},
    )
    assert refused.status_code == 400
    assert registry.students[(0, 6)][0].number_masked in refused.content.decode()

    # Graduates admitted nowhere are dropout-control cases now (attendance): the list leads there.
    dropouts = client_for(registry.approver).get(reverse("yearend:dropouts"), {"year": FROM_YEAR})
    assert dropouts.status_code == 302
    assert dropouts["Location"].startswith(reverse("attendance:cases"))
    assert "trigger=graduate_unadmitted" in dropouts["Location"]


def test_the_api_plans_starts_and_refuses_an_intake_naming_every_line(
    registry: Registry,
) -> None:
    api = api_as(registry.approver, language="en")
    planned = api.post(
        "/api/yearend/runs", {"kind": "promote", "scope": "440304", "from_year": FROM_YEAR}
    )
    assert planned.status_code == 201
    body = planned.json()
    assert body["report"]["totals"] == {"promoted": 20}
    assert api.post(f"/api/yearend/runs/{body['id']}/start", {}).status_code == 202
    assert api.get(f"/api/yearend/runs/{body['id']}").json()["state"] == "running"

    registrar = api_as(registry.registrars[2], language="en")
    refused = registrar.post(
        "/api/yearend/intake",
        {
            "school_class_id": registry.junior_class.pk,
            "student_numbers": [registry.student(0, 5).reveal_student_number(), "x"],
        },
    )
    assert refused.status_code == 400
    codes = [item["code"] for item in refused.json()["fields"]["student_numbers"]]
    assert sorted(codes) == ["not_a_graduate", "number_format"]


def test_the_command_line_runs_with_a_progress_bar_and_a_second_run_changes_nothing(
    registry: Registry,
) -> None:
    out = io.StringIO()
    call_command(
        "yearend",
        "promote",
        "--scope",
        "440304",
        "--academic-year",
        str(FROM_YEAR),
        "--dry-run",
        stdout=out,
    )
    assert "Total: 20 students" in out.getvalue()
    assert YearEndRun.objects.get().state == RunState.PLANNED

    out = io.StringIO()
    call_command(
        "yearend",
        "promote",
        "--scope",
        "440304",
        "--academic-year",
        str(FROM_YEAR),
        "--yes",
        "--chunk-students",
        "10",
        stdout=out,
    )
    assert "[########################################] 100%" in out.getvalue()
    assert "20 students" in out.getvalue()
    table = placement_table()

    out = io.StringIO()
    call_command(
        "yearend",
        "promote",
        "--scope",
        "440304",
        "--academic-year",
        str(FROM_YEAR),
        "--yes",
        stdout=out,
    )
    assert "0 students" in out.getvalue()
    assert placement_table() == table
    assert registry.student(0, 1).state == RecordState.ENROLLED


def test_the_registrar_records_an_outcome_on_the_graduating_students_page(
    registry: Registry,
) -> None:
    from xueji.yearend.models import OutcomeOverride

    client = client_for(registry.registrars[0])
    page = client.get(reverse("yearend:outcomes"))
    assert page.status_code == 200
    student = registry.student(0, 6)
    assert student.number_masked in page.content.decode()
    assert registry.student(0, 5).number_masked not in page.content.decode()

    response = client.post(reverse("yearend:outcome", args=[student.pk]), {"outcome": "incomplete"})

    assert response.url == reverse("yearend:outcomes")
    assert OutcomeOverride.objects.get(student=student).outcome == "incomplete"


def test_a_running_run_whose_worker_died_is_enqueued_again(registry: Registry) -> None:
    run = run_plan(
        actor=registry.approver,
        kind=RunKind.PROMOTE,
        scope="440304",
        from_year=FROM_YEAR,
        chunk_students=1,
    )
    run_start(actor=registry.approver, run_id=run.pk, enqueue=False)
    run_execute(run_id=run.pk, max_chunks=1)
    client = client_for(registry.approver)
    detail = client.get(reverse("yearend:detail", args=[run.pk])).content.decode()
    assert reverse("yearend:start", args=[run.pk]) in detail

    with django_capture_on_commit():
        client.post(reverse("yearend:start", args=[run.pk]))

    assert DBTaskResult.objects.count() == 1
    assert yearend_run_task.call(str(run.pk)) == 20
    assert YearEndRun.objects.get(pk=run.pk).chunks_done == 2
