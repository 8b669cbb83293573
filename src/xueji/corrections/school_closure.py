"""Key-data corrections still open at a school keep it open: the school's step could no longer
be taken once it closed (registered with xueji.schools.pupils when the app is ready)."""

from __future__ import annotations

from django.utils.translation import ngettext

from xueji.corrections.models import CorrectionRequest
from xueji.corrections.workflow import OPEN_STATES


def corrections_open(school_id: int) -> list[str]:
    count = CorrectionRequest.objects.filter(school_id=school_id, state__in=OPEN_STATES).count()
    if not count:
        return []
    return [
        ngettext(
            "%(count)d key-data correction is still open at this school: decide or withdraw it "
            "first.",
            "%(count)d key-data corrections are still open at this school: decide or withdraw "
            "them first.",
            count,
        )
        % {"count": count}
    ]
