import pytest

from xueji.stats.targets import BadTarget, TargetSpec


@pytest.mark.parametrize(
    "text",
    [
        "nation",
        "province:440000",
        "city:440300",
        "county:440304",
        "school:12",
        "grade:12:3",
        "grade:12:-2",
        "class:55",
    ],
)
def test_specs_read_back_as_they_are_written(text):
    assert str(TargetSpec.parse(text)) == text


@pytest.mark.parametrize(
    "text", ["", "county:4403", "county:44030x", "school:", "grade:12:13", "class:a", "planet:1"]
)
def test_anything_else_is_refused(text):
    with pytest.raises(BadTarget):
        TargetSpec.parse(text)
