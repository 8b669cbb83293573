"""The transfer page's filing counts as the API's does: a complete filing refused for another
school's child's state is a look-up, and beyond the hour's limit the page answers 429 with the
limit's message instead of the refusal that would tell the child exists."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.access.lookups import LOOKUP_ACTION, LOOKUP_REFUSED_ACTION
from xueji.audit.models import AuditEntry
from xueji.changes.models import ChangeRequest
from xueji.changes.tests.views.scenario import approve_all, client_as, file_suspension
from xueji.corrections.tests.files import PDF

pytestmark = pytest.mark.django_db

URL = "/changes/transfer/"


def test_a_refused_filing_on_the_page_is_counted_and_beyond_the_limit_429(scene, settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 1
    approve_all(scene, file_suspension(scene.sender, scene.child))
    registrar = scene.receiver.registrar
    client = client_as(registrar)
    number = scene.child.reveal_student_number()
    found = client.post(URL, {"step": "find", "number": number, "name": "張春銘"})
    assert found.status_code == 200 and "张*铭" in found.content.decode()
    limited = client.post(
        URL,
        {
            "step": "file",
            "to_class": scene.klass(scene.receiver).pk,
            "reason": "随父母工作调动",
            "guardian_request": SimpleUploadedFile("申请书.pdf", PDF, "application/pdf"),
        },
    )
    assert limited.status_code == 429
    content = limited.content.decode()
    assert "Too many look-ups" in content and "resume first" not in content
    assert not ChangeRequest.objects.filter(to_school=scene.receiver.school).exists()
    assert AuditEntry.objects.filter(actor=registrar, action=LOOKUP_ACTION).count() == 1
    [refusal] = AuditEntry.objects.filter(actor=registrar, action=LOOKUP_REFUSED_ACTION)
    assert refusal.detail["kind"] == "transfer_filing" and refusal.object_id == scene.child.pk
