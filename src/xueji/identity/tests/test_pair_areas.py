"""The review of a pair is limited to the areas of its two records: a county of neither record
neither sees nor decides it (pages, API, services), a school never decides, and only the county
that merged undoes the merge."""

from __future__ import annotations

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.core.errors import Conflict, NotFound, ServiceError
from xueji.corrections.evidence import Upload
from xueji.geo.models import Division
from xueji.identity.scan import duplicate_scan
from xueji.identity.selectors import pair_detail, pair_list
from xueji.identity.services import pair_decide, pair_undo
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member

from .helpers import county_approver, register
from .test_duplicates import PNG, j, pair_of

pytestmark = pytest.mark.django_db


def test_only_the_two_records_counties_see_and_decide_and_only_the_decider_undoes():
    here = SchoolClassFactory(grade=1)
    there = SchoolClassFactory(
        grade=1, school=SchoolFactory(county=Division.objects.get(code="440305"))
    )
    g = register(school_class=here, name="张春铭")
    jr = j(school_class=there, name="张春铭")
    duplicate_scan(actor=None)
    pair = pair_of(g, jr)
    assert pair is not None
    futian, nanshan = county_approver("440304"), county_approver("440305")
    tianhe = county_approver("440106")
    # A county of neither record: not listed, not shown, not decided (page, API, service).
    assert pair_detail(tianhe, pair.pk) is None
    assert pair.pk not in {p.pk for p in pair_list(tianhe, state="").object_list}
    page = Client()
    page.force_login(tianhe)
    assert page.get(f"/identity/pairs/{pair.pk}/").status_code == 404
    assert api_as(tianhe).get(f"/api/identity/pairs/{pair.pk}").status_code == 404
    answer = api_as(tianhe).post(
        f"/api/identity/pairs/{pair.pk}/decision", {"decision": "not_same"}
    )
    assert answer.status_code == 404
    with pytest.raises(NotFound):
        pair_decide(actor=tianhe, pair_id=pair.pk, decision="not_same")
    # Both counties see it; a school's registrar never decides.
    assert pair_detail(futian, pair.pk) is not None
    assert pair_detail(nanshan, pair.pk) is not None
    registrar = member(Role.REGISTRAR, school=here.school)
    with pytest.raises(ServiceError) as school:
        pair_decide(actor=registrar, pair_id=pair.pk, decision="not_same")
    assert school.value.status == 403
    # The city above both does not decide before the pair is escalated to it.
    city = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440300"), level="city")
    with pytest.raises(Conflict):
        pair_decide(actor=city, pair_id=pair.pk, decision="not_same")
    attends = "a" if pair.student_a_id == g.pk else "b"
    for county in (futian, nanshan):
        pair_decide(
            actor=county,
            pair_id=pair.pk,
            decision="same",
            attends=attends,
            evidence=[Upload(name="在读证明.png", content=PNG)],
        )
    pair.refresh_from_db()
    assert pair.state == "same" and pair.decided_county == "440305"
    # Only the county that made the decision final undoes it; a third county finds nothing.
    with pytest.raises(Conflict):
        pair_undo(actor=futian, pair_id=pair.pk)
    with pytest.raises(NotFound):
        pair_undo(actor=tianhe, pair_id=pair.pk)
    assert pair_undo(actor=nanshan, pair_id=pair.pk).state == "undone"
