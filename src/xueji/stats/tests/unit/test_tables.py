"""Cubes, their margins, and small-cell suppression (no database)."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from xueji.stats.tables import HIDDEN, TOTAL, Cube, Shown, table_of


def test_margins_are_sums_of_the_cells():
    cube = Cube.from_rows(["grade", "sex"], [(1, "1", 3), (1, "2", 4), (2, "1", 10)])
    assert cube.get(grade=1) == 7
    assert cube.get(sex="1") == 13
    assert cube.total == 17
    assert cube[(2, "2")] == 0
    assert cube.values == ((1, 2), ("1", "2"))


def test_rows_with_the_same_key_add_up_and_given_values_keep_their_order():
    cube = Cube.from_rows(["sex"], [("2", 1), ("1", 2), ("2", 3)], [["2", "1"]])
    assert cube.values == (("2", "1"),)
    assert cube.get(sex="2") == 4


def test_primary_suppression_hides_counts_from_1_to_threshold_minus_1_only():
    cube = Cube.from_rows(["k"], [("a", 0), ("b", 4), ("c", 1), ("d", 5), ("e", 30)])
    hidden = cube.suppressed(5)
    assert hidden == {("b",), ("c",)}


def test_a_line_never_has_exactly_one_hidden_figure():
    # Girls 2 (small) and boys 9 under a total of 11: the boys are hidden with the girls.
    cube = Cube.from_rows(["sex"], [("1", 9), ("2", 2)])
    shown = Shown(cube, 5, True)
    assert shown.cell(sex="2").display == "<5"
    assert shown.cell(sex="1").display == HIDDEN
    assert shown.cell().display == "11"


def test_complementary_suppression_prefers_the_smallest_non_zero_figure():
    cube = Cube.from_rows(["k"], [("a", 2), ("b", 0), ("c", 7), ("d", 30)])
    hidden = cube.suppressed(5)
    assert ("c",) in hidden and ("b",) not in hidden and ("d",) not in hidden


def test_when_only_zeros_are_left_the_total_is_hidden():
    cube = Cube.from_rows(["k"], [("a", 3), ("b", 0)])
    hidden = cube.suppressed(5)
    assert (TOTAL,) in hidden and ("b",) not in hidden


def test_no_suppression_below_threshold_2_or_when_not_asked():
    cube = Cube.from_rows(["k"], [("a", 1), ("b", 9)])
    assert cube.suppressed(1) == frozenset()
    assert Shown(cube, 5, False).cell(k="a").value == 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=12), min_size=12, max_size=12),
    st.integers(min_value=2, max_value=6),
)
def test_no_hidden_figure_can_be_worked_out_from_a_visible_total(counts, threshold):
    """Every line (a margin and the figures it totals) holds zero or at least two hidden
    figures, and every small count is hidden."""
    keys = list(itertools.product([1, 2, 3], ["1", "2"], ["x", "y"]))
    cube = Cube.from_rows(["g", "s", "k"], [(*key, n) for key, n in zip(keys, counts, strict=True)])
    hidden = cube.suppressed(threshold)
    for coord in cube.coords():
        if 0 < cube[coord] < threshold:
            assert coord in hidden
    for margin, members in cube.groups():
        assert sum(1 for c in [margin, *members] if c in hidden) != 1


def test_a_table_takes_each_cell_at_its_row_and_column_coordinates():
    rng = random.Random(1)
    rows = [(g, s, rng.randint(5, 20)) for g in (1, 2) for s in ("1", "2")]
    shown = Shown(Cube.from_rows(["grade", "sex"], rows), 5, True)
    table = table_of(
        shown,
        key="t",
        title="T",
        definition="D",
        corner="Grade",
        rows=[("G1", {"grade": 1}, False, 0), ("All", {}, True, 0)],
        columns=[("Total", {}), ("Boys", {"sex": "1"})],
    )
    assert [c.value for c in table.rows[0].cells] == [shown.cube.get(grade=1), rows[0][2]]
    assert table.rows[1].cells[0].value == shown.cube.total
    assert table.as_json()["rows"][0]["cells"] == [c.value for c in table.rows[0].cells]
