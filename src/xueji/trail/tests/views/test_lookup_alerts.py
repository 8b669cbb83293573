"""A user who goes over the hourly limit of look-ups raises an alert on the auditors' page: the
user, how many look-ups were refused, the first and the last. Auditors of the user's area see
it; other areas' auditors do not, and a registrar never sees the page."""

import pytest

from xueji.access.lookups import LookupKind, LookupLimitReached, LookupOutcome, lookup_answer
from xueji.access.scope import PermissionRefused
from xueji.audit.models import AuditEntry
from xueji.testing.pages import client_as
from xueji.trail.selectors import lookup_alerts

pytestmark = pytest.mark.django_db


def _go_over_the_limit(user, *, refused: int) -> None:
    for _ in range(2):
        lookup_answer(actor=user, kind=LookupKind.TRANSFER, outcome=LookupOutcome.NOT_FOUND)
    for _ in range(refused):
        with pytest.raises(LookupLimitReached):
            lookup_answer(actor=user, kind=LookupKind.TRANSFER, outcome=LookupOutcome.FOUND)


@pytest.fixture
def over_the_limit(world, settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 2
    _go_over_the_limit(world.registrar_a, refused=3)
    return world.registrar_a


def test_the_auditor_of_the_users_area_sees_the_alert(world, over_the_limit):
    response = client_as(world.futian_auditor, "en").get("/audit/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="lookup-alerts"' in content and "Alerts: look-ups over the limit" in content
    refusals = AuditEntry.objects.filter(action="student.lookup_refused").order_by("at")
    [alert] = response.context["alerts"]
    assert alert.username == over_the_limit.username and alert.refused == 3
    assert alert.first_at == refusals.first().at and alert.last_at == refusals.last().at
    assert f"?user={over_the_limit.username}&amp;action=student.lookup" in content
    # The national and the city's auditors see it too; the alert is in Chinese by default.
    assert [a.username for a in lookup_alerts(world.auditor)] == [over_the_limit.username]
    assert [a.username for a in lookup_alerts(world.city_auditor)] == [over_the_limit.username]
    chinese = client_as(world.futian_auditor).get("/audit/").content.decode()
    assert "警报：查询超过限额" in chinese


def test_another_areas_auditor_does_not(world, over_the_limit):
    assert lookup_alerts(world.nanshan_auditor) == []
    content = client_as(world.nanshan_auditor, "en").get("/audit/").content.decode()
    assert 'id="lookup-alerts"' not in content


def test_no_alert_without_a_refusal(world):
    lookup_answer(actor=world.registrar_a, kind=LookupKind.TRANSFER, outcome=LookupOutcome.FOUND)
    assert lookup_alerts(world.futian_auditor) == []
    content = client_as(world.futian_auditor, "en").get("/audit/").content.decode()
    assert 'id="lookup-alerts"' not in content


def test_one_row_per_user_latest_first(world, settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 2
    _go_over_the_limit(world.registrar_a, refused=1)
    _go_over_the_limit(world.registrar_b, refused=2)
    alerts = lookup_alerts(world.futian_auditor)
    assert [(a.username, a.refused) for a in alerts] == [
        (world.registrar_b.username, 2),
        (world.registrar_a.username, 1),
    ]


def test_the_registrar_is_refused_the_page_and_its_429_shows_no_alert(world, over_the_limit):
    client = client_as(over_the_limit, "en")
    assert client.get("/audit/").status_code == 403
    limited = client.post(
        "/changes/transfer/",
        {"step": "find", "number": world.student_c.reveal_student_number(), "name": "王大山"},
    )
    assert limited.status_code == 429
    assert 'id="lookup-alerts"' not in limited.content.decode()
    with pytest.raises(PermissionRefused):
        lookup_alerts(over_the_limit)
