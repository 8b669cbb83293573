"""The days statistics can be counted on: from the first school year the registry's statistics
know (1949–1950, the year the annual statistics start from) to today. A later day would count
today's children on a day that has not come (ages of 975 on 2999-01-01), an earlier one children
before any record was kept; both are refused naming the field, on the pages and the API alike.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xueji.core.errors import ServiceError

# The school year 1949–1950 began on 1 September 1949: the annual statistics know no earlier year.
FIRST_SCHOOL_YEAR = 1949
EARLIEST = datetime.date(FIRST_SCHOOL_YEAR, 9, 1)

# The dated parameters, as a message names them.
LABELS: dict[str, Any] = {
    "date": gettext_lazy("The date"),
    "start": gettext_lazy("The start of the period"),
    "end": gettext_lazy("The end of the period"),
}

# What the API's description of a dated parameter says of its bounds.
BOUNDS = (
    f"A day from {EARLIEST.isoformat()} to today (YYYY-MM-DD); a later or an earlier day is "
    "refused with 400 `bad_date` naming the parameter."
)


def today() -> datetime.date:
    return timezone.localdate()


def date_problem(value: datetime.date, field: str) -> str | None:
    """Why statistics cannot be counted on `value` (given as the parameter `field`), or None."""
    label = LABELS.get(field, field)
    if value > today():
        return _("%(field)s cannot be after today (%(today)s).") % {
            "field": label,
            "today": today().isoformat(),
        }
    if value < EARLIEST:
        return _("%(field)s cannot be before %(earliest)s, when the statistics begin.") % {
            "field": label,
            "earliest": EARLIEST.isoformat(),
        }
    return None


def checked(value: datetime.date | None, field: str) -> datetime.date | None:
    """`value` when statistics can be counted on it (None stays None: the default day); else
    ServiceError `bad_date` naming the field."""
    if value is None:
        return None
    problem = date_problem(value, field)
    if problem is not None:
        raise ServiceError("bad_date", problem, field=field)
    return value
