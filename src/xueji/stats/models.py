"""The running head counts behind the province and nation tables (PostgreSQL only)."""

from __future__ import annotations

from django.db import models


class HeadcountDelta(models.Model):
    """How many children of one province, grade, sex and birth date start (+) or stop (−) being
    counted on a day: the head count on D is the sum of the deltas up to D.

    Kept by database triggers on placements, students and schools, in the writing transaction
    (xueji.stats.rollup), so it is as exact and as current as the rows themselves; a transfer
    within a province adds −1 and +1 on the same key and day, which cancel."""

    province = models.CharField(max_length=6)
    grade = models.SmallIntegerField()
    sex = models.CharField(max_length=1)
    birth_date = models.DateField()
    day = models.DateField()
    delta = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["province", "grade", "sex", "birth_date", "day"],
                name="one_headcount_delta_per_key",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.province} {self.grade} {self.sex} {self.birth_date} {self.day}: {self.delta:+d}"
        )
