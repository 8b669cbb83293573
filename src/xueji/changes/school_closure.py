"""Changes of status under way at a school keep it open: a closed or merged school could no
longer take its step in their chains, nor receive a child it agreed to take (registered with
xueji.schools.pupils when the app is ready)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import ngettext

from xueji.changes.models import ACTIVE_STATES, ChangeRequest


def changes_under_way(school_id: int) -> list[str]:
    count = ChangeRequest.objects.filter(
        Q(from_school_id=school_id) | Q(to_school_id=school_id), state__in=ACTIVE_STATES
    ).count()
    if not count:
        return []
    return [
        ngettext(
            "%(count)d change of status or transfer is under way at this school: finish or "
            "withdraw it first.",
            "%(count)d changes of status or transfers are under way at this school: finish or "
            "withdraw them first.",
            count,
        )
        % {"count": count}
    ]
