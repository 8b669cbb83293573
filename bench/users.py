"""The bench's users: members of the bureau of the province synth loads."""

from __future__ import annotations

from typing import Any

# 广东: where `xueji synth` places the bench's schools.
PROVINCE = "440000"


def province_member(username: str, role: Any) -> Any:
    """The user `username`, a member of the province's bureau in `role` (made once, reused)."""
    from django.contrib.auth import get_user_model

    from xueji.access.models import Membership, ScopeLevel
    from xueji.geo.models import Division

    user, _created = get_user_model().objects.get_or_create(username=username)
    Membership.objects.get_or_create(
        user=user,
        defaults={
            "role": role,
            "scope_level": ScopeLevel.PROVINCE,
            "division": Division.objects.get(code=PROVINCE),
        },
    )
    return user
