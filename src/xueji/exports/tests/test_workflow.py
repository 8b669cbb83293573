"""Who may download a background export's file: its requester only, while still allowed."""

import pytest

from xueji.exports.workflow import may_download


@pytest.mark.parametrize(
    ("user_id", "may_export", "may_reveal", "revealed", "allowed"),
    [
        (1, True, False, False, True),
        (1, True, True, True, True),
        (2, True, True, False, False),  # a colleague, even one who may see the same records
        (1, False, True, False, False),  # the role no longer exports
        (1, True, False, True, False),  # numbers in full, and the role no longer reveals them
    ],
)
def test_may_download(user_id, may_export, may_reveal, revealed, allowed):  # type: ignore[no-untyped-def]
    assert (
        may_download(requester_id=1, user_id=user_id, may_export=may_export,
                     may_reveal=may_reveal, revealed=revealed) is allowed
    )  # fmt: skip
