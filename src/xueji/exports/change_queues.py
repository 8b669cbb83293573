"""The download of a queue of changes of status (学籍异动) as filtered on its page (导出 Excel):
the box and filters of xueji.changes.queues, each child named as the user sees it on the page
(masked unless the user has the record), no number of any kind; audited like every export
(xueji.exports.files). Here because a file going out is the exports' business, and the
changes app sits below it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from xueji.access.decorators import requires
from xueji.access.http import form_refused
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.changes.forms import QueueFilterForm
from xueji.changes.queues import box_changes, box_rows
from xueji.changes.selectors import QueueRow, party_name
from xueji.core.exports import FORMATS, Column
from xueji.exports.files import export_response
from xueji.exports.services import background_rows

QUEUE_COLUMNS = [
    Column("name", gettext_lazy("Student")),
    Column("kind", gettext_lazy("Kind")),
    Column("state", gettext_lazy("State")),
    Column("from_school", gettext_lazy("School")),
    Column("to_school", gettext_lazy("Receiving school")),
    Column("grade", gettext_lazy("Grade")),
    Column("waiting_for", gettext_lazy("Waiting for")),
    Column("due_on", gettext_lazy("Deadline")),
    Column("overdue", gettext_lazy("Overdue")),
    Column("filed_on", gettext_lazy("Filed on")),
    Column("resumes_on", gettext_lazy("Resumes on")),
    Column("effective_date", gettext_lazy("Effective date")),
]


def queue_lines(rows: Iterator[QueueRow]) -> Iterator[dict[str, Any]]:
    yes, no = _("Yes"), ""
    for row in rows:
        change = row.change
        yield {
            "name": row.shown_name,
            "kind": change.get_kind_display(),
            "state": change.get_state_display(),
            "from_school": change.from_school.name,
            "to_school": change.to_school.name if change.to_school else "",
            "grade": change.from_grade,
            "waiting_for": party_name(row.step) if row.step else "",
            "due_on": row.step.due_on if row.step else None,
            "overdue": yes if row.overdue else no,
            "filed_on": change.filed_on,
            "resumes_on": change.resumes_on,
            "effective_date": change.effective_date,
        }


@require_GET
@login_required
@requires(Action.EXPORT)
def change_queue_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The box of the user's queue with the page's filters, as Excel (or CSV). An Excel file of
    more rows than are written at once is refused with the reason: narrow the filters, or take
    the CSV, which streams."""
    if fmt not in FORMATS:
        raise Http404
    if not may(scope_of(request.user), Action.CHANGE_VIEW):
        raise PermissionDenied(_("Your role does not allow this."))
    form = QueueFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return form_refused(form)
    box, filters = form.chosen_box, form.filters()
    count = box_changes(request.user, box, filters).count()
    if fmt == "xlsx" and count > background_rows():
        messages.error(
            request,
            _(
                "%(count)s requests are too many for one Excel file (at most %(limit)s): narrow "
                "the filters, or export them as CSV."
            )
            % {"count": count, "limit": background_rows()},
        )
        return redirect(f"{reverse('changes:queue')}?{request.GET.urlencode()}")
    response: HttpResponse = export_response(
        actor=request.user,
        name=_("Changes of status"),
        columns=QUEUE_COLUMNS,
        rows=queue_lines(box_rows(request.user, box, filters)),
        fmt=fmt,
        count=count,
        filters={"box": box, **filters.given()},
    )
    return response
