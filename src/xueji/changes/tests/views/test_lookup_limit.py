"""The transfer page's look-up is the API's: audited, and over the hour's limit it says so (429)
instead of answering."""

import pytest

from xueji.access.lookups import LOOKUP_ACTION
from xueji.audit.models import AuditEntry
from xueji.testing.api import World
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db

URL = "/changes/transfer/"


def test_the_page_audits_each_lookup_and_refuses_over_the_limit(settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 1
    world = World()
    client = client_as(world.registrar_c, "en")
    number = world.student_a.reveal_student_number()
    found = client.post(URL, {"step": "find", "number": number, "name": "张春铭"})
    assert found.status_code == 200 and "张*铭" in found.content.decode()
    [entry] = AuditEntry.objects.filter(actor=world.registrar_c, action=LOOKUP_ACTION)
    assert entry.object_id == world.student_a.pk and entry.detail["outcome"] == "found"
    limited = client.post(URL, {"step": "find", "number": number, "name": "张春铭"})
    assert limited.status_code == 429
    content = limited.content.decode()
    assert 'id="lookup-limit"' in content and "Too many look-ups" in content
    assert "张*铭" not in content and world.school_a.name not in content
