"""The demo's changes under way (`xueji changes demo`)."""

import datetime

import pytest
from django.core.management import call_command

from xueji.changes.demo import changes_demo_seed
from xueji.changes.models import ChangeRequest, StepState
from xueji.changes.tests.world import FUTIAN, build_site, enrol

pytestmark = pytest.mark.django_db


def test_the_demo_accounts_find_work_in_their_queues(capsys):
    home, neighbour = build_site(FUTIAN), build_site(FUTIAN)
    home.registrar.username = "registrar"
    home.registrar.save()
    for site in (home, neighbour):
        enrol(site, name="张春铭")
        enrol(site, name="李小红")
    assert changes_demo_seed(on=datetime.date(2026, 10, 12)) == 3
    waiting = {
        (c.kind, s.level, s.school_id or s.division_id)
        for c in ChangeRequest.objects.all()
        for s in c.steps.filter(state=StepState.PENDING)
    }
    assert waiting == {
        ("transfer", "school", neighbour.school.pk),
        ("transfer", "school", home.school.pk),
        ("suspend", "county", FUTIAN),
    }
    call_command("changes", "demo")  # a second time: nothing more
    assert "filed 0" in capsys.readouterr().out
    assert ChangeRequest.objects.count() == 3
