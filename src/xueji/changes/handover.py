"""The changes of status a registrar filed and that are still under way: handed over with the
registrar's other open items when they leave (xueji.access.handover)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from xueji.access.handover import OpenItemKind
from xueji.changes.models import ACTIVE_STATES, ChangeRequest


def _open(user: Any) -> Any:
    return ChangeRequest.objects.filter(filed_by=user, state__in=ACTIVE_STATES)


def changes_open_of(user: Any) -> list[str]:
    return [str(pk) for pk in _open(user).order_by("filed_at", "id").values_list("pk", flat=True)]


def changes_pass_on(from_user: Any, to_user: Any) -> list[str]:
    """The filer of `from_user`'s open changes becomes `to_user` (rows locked first, in the
    hand-over's transaction); the approvals already given stay as they were."""
    ids = list(_open(from_user).select_for_update().order_by("pk").values_list("pk", flat=True))
    ChangeRequest.objects.filter(pk__in=ids).update(filed_by=to_user)
    return [str(pk) for pk in ids]


OPEN_CHANGES = OpenItemKind(
    key="changes",
    label=_("Changes of status filed and under way"),
    open_of=changes_open_of,
    pass_on=changes_pass_on,
)
