"""Every county is county level, and so is a city without districts or counties (不设区的地级市):
东莞, 中山, 儋州, 嘉峪关 today, the same four the ID check accepts as a child's area code."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction

from xueji.core.areacodes import cities_without_counties
from xueji.geo.gb2260 import current_divisions
from xueji.geo.models import Division

pytestmark = pytest.mark.django_db


def test_the_loaded_divisions_mark_the_cities_without_counties():
    marked = set(
        Division.objects.filter(level="city", county_level=True).values_list("code", flat=True)
    )
    assert marked == {"441900", "442000", "460400", "620200"}
    assert marked == set(cities_without_counties(datetime.date.today().year))
    assert not Division.objects.filter(level="county", county_level=False).exists()
    assert not Division.objects.filter(level="province", county_level=True).exists()
    dongguan = Division.objects.get(code="441900")
    assert (dongguan.city_code, Division.objects.get(code="440304").city_code) == (
        "441900",
        "440300",
    )


def test_the_table_agrees_with_the_loaded_divisions():
    rows = {row.code: row.county_level for row in current_divisions()}
    assert rows["441900"] and rows["440304"] and not rows["440300"] and not rows["440000"]


def test_a_county_that_is_not_county_level_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Division.objects.filter(code="440304").update(county_level=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Division.objects.filter(code="440000").update(county_level=True)
