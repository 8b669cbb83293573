"""Two provinces reserve the same child's numbers at the same moment: the hub's unique index
decides, one reserves and the other is told which province holds the child (PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from xueji.core.errors import Conflict
from xueji.federation.hub import hub_reserve
from xueji.federation.models import IndexEntry
from xueji.students.national import HELD, RESERVED, ReservationRequest
from xueji.testing.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need PostgreSQL")
def test_the_same_child_at_once_in_two_provinces_is_reserved_once() -> None:
    for round_ in range(10):
        entries = (("number", f"n{round_}"), ("document", f"d{round_}"))
        answers: dict[str, str] = {}

        def reserve(province: str, entries=entries, answers=answers) -> None:
            request = ReservationRequest(
                record=str(uuid.uuid4()),
                province=province,
                entries=entries,
                keys_index="k",
                parents=(),
                school_name=f"school of {province}",
                number_masked="G44…",
            )
            outcome, holder = hub_reserve(province=province, request=request)
            answers[province] = outcome
            if outcome == HELD:
                assert holder is not None
                raise Conflict("registered_in_province", f"held by {holder['province']}")

        outcomes = race(lambda: reserve("44"), lambda: reserve("11"))
        assert outcomes == ["done", "registered_in_province"]
        assert sorted(answers.values()) == sorted([RESERVED, HELD])
        holders = set(
            IndexEntry.objects.filter(index__in=[f"n{round_}", f"d{round_}"]).values_list(
                "province", flat=True
            )
        )
        assert len(holders) == 1  # both numbers with the same province: all or none
