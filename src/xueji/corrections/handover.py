"""The key-data corrections a user asked for (or reported) that are still open: handed over
with the user's other open items when they leave (xueji.access.handover)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from xueji.access.handover import OpenItemKind
from xueji.corrections.models import CorrectionRequest
from xueji.corrections.workflow import OPEN_STATES


def _open(user: Any) -> Any:
    return CorrectionRequest.objects.filter(created_by=user, state__in=OPEN_STATES)


def corrections_open_of(user: Any) -> list[str]:
    return [str(pk) for pk in _open(user).order_by("created_at", "id").values_list("pk", flat=True)]


def corrections_pass_on(from_user: Any, to_user: Any) -> list[str]:
    ids = list(_open(from_user).select_for_update().order_by("pk").values_list("pk", flat=True))
    CorrectionRequest.objects.filter(pk__in=ids).update(created_by=to_user)
    return [str(pk) for pk in ids]


OPEN_CORRECTIONS = OpenItemKind(
    key="corrections",
    label=_("Key-data corrections asked for and still open"),
    open_of=corrections_open_of,
    pass_on=corrections_pass_on,
)
