"""The evidence documents are sealed values like the numbers: `xueji rotate_keys` moves them to
the suite in force (registered by the corrections app), and they open the same afterwards."""

import io

import pytest
from django.core.management import call_command

from xueji.core import crypto
from xueji.corrections.evidence import Upload
from xueji.corrections.models import Evidence
from xueji.corrections.services import correction_submit, evidence_open
from xueji.testing.crypto import Suites

from ..files import PDF, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def suites(monkeypatch):
    """Configured keys, intl in force, before the school's pupil is registered."""
    suites = Suites(monkeypatch)
    suites.use("intl")
    yield suites
    crypto.reset_keyring()


def test_evidence_sealed_under_intl_is_moved_to_sm_and_still_opens(suites, school):
    correction = correction_submit(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        changes={"name": "张春明"},
        reason="户口簿上的姓名是张春明",
        evidence=[Upload("hukou.pdf", PDF), Upload("photo.png", png())],
    )
    assert {e.sealed[:3] for e in Evidence.objects.all()} == {"v1."}

    suites.use("sm")
    call_command("rotate_keys", stdout=io.StringIO())
    assert {e.sealed[:7] for e in Evidence.objects.all()} == {"sm1.m1."}
    suites.use("sm", intl=False)
    pdf = Evidence.objects.get(file_name="hukou.pdf")
    _evidence, content = evidence_open(
        actor=school["registrar"], correction_id=correction.pk, evidence_id=pdf.pk
    )
    assert content == PDF
