"""The spreadsheet imports a registrar started that are queued or running: handed over with the
registrar's other open items when they leave (xueji.access.handover). A queued import then runs,
and is audited, under the successor's name; one already running finishes under the name it
started with (its writer holds the job as it was read)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from xueji.access.handover import OpenItemKind
from xueji.imports.models import ImportJob, JobState

IN_PROGRESS = (JobState.QUEUED, JobState.RUNNING)


def _open(user: Any) -> Any:
    return ImportJob.objects.filter(created_by=user, state__in=IN_PROGRESS)


def imports_open_of(user: Any) -> list[str]:
    return [str(pk) for pk in _open(user).order_by("created_at", "id").values_list("pk", flat=True)]


def imports_pass_on(from_user: Any, to_user: Any) -> list[str]:
    ids = list(_open(from_user).select_for_update().order_by("pk").values_list("pk", flat=True))
    ImportJob.objects.filter(pk__in=ids).update(created_by=to_user)
    return [str(pk) for pk in ids]


OPEN_IMPORTS = OpenItemKind(
    key="imports",
    label=_("Spreadsheet imports queued or running"),
    open_of=imports_open_of,
    pass_on=imports_pass_on,
)
