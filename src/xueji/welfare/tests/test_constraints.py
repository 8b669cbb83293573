"""The database keeps one rate a day and one programme name per province and for the nation,
on SQLite too (which has no NULLS NOT DISTINCT: partial unique constraints instead)."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from xueji.geo.models import Division
from xueji.welfare.models import AidProgramme, FundingRate

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 1, 1)


def _twice(make) -> None:  # type: ignore[no-untyped-def]
    make()
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_one_national_rate_a_day() -> None:
    _twice(lambda: FundingRate.objects.create(
        stage="primary", component="benchmark", yearly_fen=65000, valid_from=DAY
    ))  # fmt: skip


def test_one_rate_a_day_per_province_beside_the_national_one() -> None:
    FundingRate.objects.create(
        stage="primary", component="benchmark", yearly_fen=65000, valid_from=DAY
    )
    guangdong = Division.objects.get(code="440000")
    _twice(lambda: FundingRate.objects.create(
        province=guangdong, stage="primary", component="topup", yearly_fen=5000, valid_from=DAY
    ))  # fmt: skip


def test_one_programme_name_for_the_nation_and_per_province() -> None:
    def programme(**where):  # type: ignore[no-untyped-def]
        return AidProgramme.objects.create(
            name="国家助学金", term_fen=50000, payment_mode="child_card", **where
        )

    _twice(programme)
    guangdong = Division.objects.get(code="440000")
    # The same name in a province is another programme; twice in the province is not.
    _twice(lambda: programme(province=guangdong))
