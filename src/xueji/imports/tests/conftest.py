import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.access.models import Role
from xueji.imports.models import ImportJob
from xueji.imports.services import import_job_create
from xueji.schools.models import SchoolClass
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member


@pytest.fixture(autouse=True)
def _imports_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Uploads and written exports kept in a temporary folder; imports and exports run at
    once (django-tasks' immediate backend runs the same task function the database worker
    runs)."""
    settings.XUEJI_IMPORT_DIR = tmp_path / "imports"
    settings.XUEJI_EXPORT_DIR = tmp_path / "exports"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def school(db):  # type: ignore[no-untyped-def]
    school = SchoolFactory()
    for number in (1, 2):
        SchoolClassFactory(school=school, grade=1, number=number)
    SchoolClassFactory(school=school, grade=2, number=1)
    return school


@pytest.fixture
def registrar(school):  # type: ignore[no-untyped-def]
    return member(Role.REGISTRAR, school=school)


@pytest.fixture
def upload(registrar):  # type: ignore[no-untyped-def]
    def run(content: bytes, filename: str = "students.xlsx", actor: Any = None) -> ImportJob:
        # An uploaded file, as the page and the API pass it: it carries its name.
        return import_job_create(
            actor=actor or registrar,
            purpose="students",
            upload=SimpleUploadedFile(filename, content),
            filename=filename,
            size=len(content),
        )

    return run


TODAY = datetime.date.today()


def class_of(school: Any, grade: int, number: int) -> SchoolClass:
    """The school's class of that grade and number (the school fixture has 1-1, 1-2, 2-1)."""
    return SchoolClass.objects.get(school=school, grade=grade, number=number)
