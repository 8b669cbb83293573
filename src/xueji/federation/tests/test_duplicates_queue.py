"""Pairs across provinces in identity's duplicate review (xueji.identity.sources): the county of
the record sees them beside its own pairs, each linked to federation's decision; another county,
a school and a one-database deployment see none."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client, override_settings

from xueji.access.models import Role
from xueji.federation.models import RemoteDuplicate, RemoteDuplicateState
from xueji.geo.models import Division
from xueji.students.services import student_register
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolClassFactory, member, student_data

pytestmark = pytest.mark.django_db


def _pair(state: str = RemoteDuplicateState.PROPOSED) -> tuple[RemoteDuplicate, object]:
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    student = student_register(
        actor=registrar, school_class_id=school_class.pk, data=student_data()
    ).student
    pair = RemoteDuplicate.objects.create(
        pair=uuid.uuid4(),
        record=student.pk,
        county=student.school.county_id,
        remote_record=uuid.uuid4(),
        remote_province="11",
        remote_school_name="北京市东城区第一小学",
        remote_number_masked="G110101********0011",
        score=10.0,
        state=state,
    )
    return pair, registrar


def _page(user: object, query: str = "") -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/identity/pairs/{query}")
    assert response.status_code == 200
    return response.content.decode()


@override_settings(XUEJI_NODE="province:44")
def test_the_county_sees_its_pairs_across_provinces_in_identitys_review_queue() -> None:
    pair, _registrar = _pair()
    decided, _ = _pair(RemoteDuplicateState.MERGED_AWAY)
    county = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=pair.county))
    page = _page(county)
    assert f'href="/federation/duplicates/{pair.pk}/"' in page
    assert "G110101********0011" in page
    assert 'id="waiting-federation">1 ' in page
    assert f"/federation/duplicates/{decided.pk}/" not in page  # the open ones by default
    assert f"/federation/duplicates/{decided.pk}/" in _page(county, "?state=all")

    answer = api_as(county).get("/api/identity/pairs-elsewhere")
    assert answer.status_code == 200
    assert [(row["key"], row["open"]) for row in answer.json()] == [(str(pair.pk), True)]
    assert answer.json()[0]["url"] == f"/federation/duplicates/{pair.pk}/"
    everything = api_as(county).get("/api/identity/pairs-elsewhere?open=false").json()
    assert {row["key"] for row in everything} == {str(pair.pk), str(decided.pk)}


@override_settings(XUEJI_NODE="province:44")
def test_the_county_home_counts_the_pairs_across_provinces_among_its_open_pairs() -> None:
    pair, _registrar = _pair()
    _pair(RemoteDuplicateState.KEPT)  # decided: not counted
    county = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=pair.county))
    client = Client()
    client.force_login(county)
    home = client.get("/").content.decode()
    assert 'id="identity-counts"' in home
    assert '<a href="/identity/pairs/">1</a>' in home


@override_settings(XUEJI_NODE="province:44")
def test_another_county_and_a_school_see_none_of_them() -> None:
    pair, registrar = _pair()
    other = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="110101"))
    assert f"/federation/duplicates/{pair.pk}/" not in _page(other)
    assert 'id="waiting-federation">0 ' in _page(other)
    assert api_as(other).get("/api/identity/pairs-elsewhere").json() == []
    client = Client()
    client.force_login(registrar)
    assert client.get("/identity/pairs/").status_code == 403
    assert api_as(registrar).get("/api/identity/pairs-elsewhere").status_code == 403


def test_one_database_for_the_country_shows_no_pairs_across_provinces() -> None:
    pair, _registrar = _pair()
    county = member(Role.BUREAU_APPROVER, division=Division.objects.get(code=pair.county))
    page = _page(county)
    assert 'id="pairs-federation"' not in page
    assert api_as(county).get("/api/identity/pairs-elsewhere").json() == []
