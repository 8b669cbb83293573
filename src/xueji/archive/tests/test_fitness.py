"""The fitness test: scores against worked examples of the standard's tables, the import of a
school's sheet (all or nothing), one retest a year, exemptions, items without a table, the
national upload's layout."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
import xlsxwriter

from xueji.archive.fitness.scoring import bmi_of, graduation_score, item_score, score
from xueji.archive.models import FitnessResult
from xueji.archive.services.fitness import (
    EXPORT_COLUMNS,
    as_csv,
    fitness_export_rows,
    fitness_import,
)
from xueji.core.errors import FieldErrors

MALE, FEMALE = "1", "2"


def test_a_first_grade_boy_worked_out_by_hand():
    # BMI 22 / 1.2² = 15.3 (正常, 100); 肺活量 1300 (80); 50 m 10.6 s (80); 坐位体前屈 13.0 cm
    # (90); 跳绳 115 (100, and 6 beyond the 100-point 109: 3 bonus points).
    result = score(
        1,
        MALE,
        {
            "height": D("120"),
            "weight": D("22"),
            "vital_capacity": D("1300"),
            "run_50m": D("10.6"),
            "sit_and_reach": D("13.0"),
            "rope_skipping": D("115"),
        },
    )
    assert bmi_of(D("120"), D("22")) == D("15.3")
    assert result.item_scores == {
        "bmi": 100,
        "vital_capacity": 80,
        "run_50m": 80,
        "sit_and_reach": 90,
        "rope_skipping": 100,
    }
    # 100×15% + 80×15% + 80×20% + 90×30% + 100×20% = 90.0
    assert result.standard_score == D("90.0")
    assert result.bonus == D("3")
    assert result.total == D("93.0")
    assert result.level == "优秀"


@pytest.mark.parametrize(
    ("item", "grade", "sex", "value", "expected"),
    [
        ("run_50m", 1, MALE, "10.2", 100),  # the table's first row
        ("run_50m", 1, MALE, "10.25", 95),  # slower than 10.2: the next level
        ("run_50m", 1, MALE, "12.0", 66),
        ("run_50m", 1, MALE, "13.6", 10),
        ("run_50m", 1, MALE, "13.7", 0),  # below the lowest level
        ("vital_capacity", 6, FEMALE, "2500", 100),
        ("vital_capacity", 6, FEMALE, "1199", 50),
        ("sit_ups", 3, MALE, "36", 80),
        ("shuttle_50x8", 5, FEMALE, "101", 100),
        ("shuttle_50x8", 5, FEMALE, "143", 60),
        ("sit_and_reach", 4, MALE, "-7.2", 10),
        ("bmi", 3, FEMALE, "21.2", 60),  # 肥胖
        ("bmi", 3, FEMALE, "13.5", 80),  # 低体重
    ],
)
def test_item_scores_follow_the_tables(item, grade, sex, value, expected):
    assert item_score(item, grade, sex, D(value)) == expected


def test_the_bonus_stops_at_twenty_and_needs_the_full_score():
    base = {
        "height": D("130"),
        "weight": D("27"),
        "vital_capacity": D("1800"),
        "run_50m": D("10.0"),
        "sit_and_reach": D("10"),
        "sit_ups": D("30"),
    }
    assert score(3, MALE, {**base, "rope_skipping": D("200")}).bonus == D("20")
    assert score(3, MALE, {**base, "rope_skipping": D("125")}).bonus == D("0")


def test_items_without_a_table_are_kept_and_not_scored():
    result = score(7, MALE, {"height": D("160"), "weight": D("50"), "run_50m": D("8.0")})
    assert result.item_scores["run_50m"] is None
    assert "run_50m" in result.not_scored
    assert result.standard_score is None and result.total is None and result.level == ""


def test_levels_and_the_graduation_score():
    assert score(1, FEMALE, {}).level == ""
    # Final year 88 × 50% + mean(80, 85, 90, 95, 70) = 84 × 50%.
    totals = [D("80"), D("85"), D("90"), D("95"), D("70"), D("88")]
    assert graduation_score(totals) == D("86.0")
    assert graduation_score([D("77.5")]) == D("77.5")
    assert graduation_score([]) is None


def _sheet(rows: list[list[object]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return out.getvalue()


HEADER = ["学籍号", "姓名", "测试类型", "免测", "免测原因", "身高", "体重", "肺活量", "50米跑",
          "坐位体前屈", "1分钟跳绳"]  # fmt: skip


def _row(student, **values):
    return [
        student.reveal_student_number(),
        student.name,
        values.get("kind", "测试"),
        values.get("exempt", "否"),
        values.get("reason", ""),
        values.get("height", 120),
        values.get("weight", 22),
        values.get("vc", 1300),
        values.get("run", 10.6),
        values.get("reach", 13),
        values.get("rope", 115),
    ]


@pytest.mark.django_db
def test_the_sheet_is_imported_all_or_nothing_and_scored(school):
    registrar, pupil, other = school["registrar"], school["pupil"], school["other"]
    bad = _sheet([HEADER, _row(pupil), _row(other, run="fast")])
    with pytest.raises(FieldErrors) as refused:
        fitness_import(actor=registrar, content=bad, start_year=2026)
    assert "50米跑" in str(refused.value.errors)
    assert not FitnessResult.objects.exists()

    good = _sheet([HEADER, _row(pupil), _row(other, exempt="是", reason="骨折")])
    results = fitness_import(actor=registrar, content=good, start_year=2026)
    assert len(results) == 2
    mine = FitnessResult.objects.get(student=pupil)
    if pupil.sex == MALE:
        assert mine.total == D("93.0") and mine.level == "优秀"
    assert FitnessResult.objects.get(student=other).exempt

    # One retest a year, after a test; a second test of the year is refused.
    with pytest.raises(FieldErrors):
        fitness_import(actor=registrar, content=_sheet([HEADER, _row(pupil)]), start_year=2026)
    retest = _sheet([HEADER, _row(pupil, kind="补测", run=10.2)])
    fitness_import(actor=registrar, content=retest, start_year=2026)
    with pytest.raises(FieldErrors):
        fitness_import(actor=registrar, content=retest, start_year=2026)
    with pytest.raises(FieldErrors):
        fitness_import(
            actor=registrar,
            content=_sheet([HEADER, _row(pupil, kind="补测")]),
            start_year=2027,
        )

    rows = fitness_export_rows(actor=registrar, start_year=2026)
    assert rows[0] == EXPORT_COLUMNS and len(rows[0]) == 21
    by_number = {row[3]: row for row in rows[1:]}
    assert by_number[pupil.reveal_student_number()][12] == "10.2"  # the retest's 50 m
    assert by_number[pupil.reveal_student_number()][0] == "11"  # 年级编号 of grade 1
    assert as_csv(rows).startswith("\ufeff年级编号".encode())


@pytest.mark.django_db
def test_a_child_of_another_school_is_refused_by_row(school):
    from xueji.access.models import Role
    from xueji.testing.factories import SchoolFactory, member

    elsewhere = member(Role.REGISTRAR, school=SchoolFactory(county=school["school"].county))
    with pytest.raises(FieldErrors) as refused:
        fitness_import(
            actor=elsewhere, content=_sheet([HEADER, _row(school["pupil"])]), start_year=2026
        )
    assert "row 2" in refused.value.errors
