"""The demo's welfare part loads through the services and shows every page something."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from xueji.demo.welfare import welfare_demo
from xueji.welfare.models import AidAward, AidPayment, MealDay

pytestmark = pytest.mark.django_db


def test_the_welfare_demo_loads(registry: Any, attendance: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *a: datetime.date(2026, 10, 16))
    registry.register("a", 4)
    loaded = welfare_demo(registry.schools["a"], days=5)
    assert loaded["meal_days"] == 5 and loaded["awards"] == 3
    assert MealDay.objects.count() == 5
    assert AidAward.objects.count() == 3 and AidPayment.objects.count() == 3
