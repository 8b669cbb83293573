"""Names compared for a decision: traditional and simplified characters, and the middle dot of
minority names as any keyboard types it, are one name."""

import pytest

from xueji.students.names import name_key, name_keys, names_match


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [
        ("張春銘", "张春铭"),  # traditional characters
        ("阿依古丽•买买提", "阿依古丽·买买提"),  # a bullet for the middle dot
        ("阿依古丽．买买提", "阿依古丽·买买提"),  # a full-width full stop
        ("阿依古丽.买买提", "阿依古丽·买买提"),  # a full stop
        ("阿依古丽 买买提", "阿依古丽·买买提"),  # a space
        ("阿依古丽买买提", "阿依古丽·买买提"),  # nothing
        ("阿依古麗・買買提", "阿依古丽·买买提"),  # both at once
        (" 张春铭 ", "张春铭"),
        ("Anna Müller", "anna·müller"),
    ],
)
def test_two_spellings_of_one_name_match(typed, recorded):
    assert names_match(typed, recorded)
    assert name_key(typed) == name_key(recorded)


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [("张春明", "张春铭"), ("张春", "张春铭"), ("", ""), ("·", "")],
)
def test_other_names_and_empty_ones_do_not(typed, recorded):
    assert not names_match(typed, recorded)


def test_a_batch_of_names_is_folded_as_each_name_alone():
    names = ["張偉", "阿依古丽 · 买买提", "Anna Schmidt", "王.芳", "", "陳偉豪", "李\n明"]
    assert name_keys(names) == [name_key(name) for name in names]
    assert name_keys(names[:-1]) == [name_key(name) for name in names[:-1]]
