"""Two uploads of the same file at the same time: the database decides, one writes."""

import io
import threading

import pytest
from django.db import connection

from xueji.imports.models import ImportJob, JobState
from xueji.imports.services import import_job_create, import_job_run
from xueji.imports.tests.sheets import many_students, row_of, xlsx_bytes
from xueji.students.models import Student


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_file_uploaded_twice_at_once_is_written_once(registrar, school):
    content = xlsx_bytes([row_of(data) for data in many_students(300)])
    jobs = [
        import_job_create(
            actor=registrar, purpose="students", upload=io.BytesIO(content),
            filename=f"students-{n}.xlsx", size=len(content), enqueue=False,
        )
        for n in range(2)
    ]  # fmt: skip
    assert [job.state for job in jobs] == [JobState.QUEUED, JobState.QUEUED]
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def run(job_id) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            import_job_run(job_id=job_id)
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job.pk,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    states = sorted(ImportJob.objects.values_list("state", flat=True))
    assert states == [JobState.DUPLICATE, JobState.IMPORTED]
    assert Student.objects.filter(school=school).count() == 300
    duplicate = ImportJob.objects.get(state=JobState.DUPLICATE)
    assert registrar.username in duplicate.message


@pytest.mark.django_db
def test_a_queued_copy_of_a_file_imported_meanwhile_is_a_duplicate(registrar, school):
    """The other upload may commit before this one asks the registry about the children (as a
    faster import makes likely): that is the same file, not 300 registered children."""
    content = xlsx_bytes([row_of(data) for data in many_students(50)])
    first, second = (
        import_job_create(
            actor=registrar, purpose="students", upload=io.BytesIO(content),
            filename=f"students-{n}.xlsx", size=len(content), enqueue=False,
        )
        for n in range(2)
    )  # fmt: skip
    assert import_job_run(job_id=first.pk).state == JobState.IMPORTED
    again = import_job_run(job_id=second.pk)
    assert again.state == JobState.DUPLICATE
    assert again.error_count == 0 and again.rows_written == 0
    assert registrar.username in again.message
    assert Student.objects.filter(school=school).count() == 50
