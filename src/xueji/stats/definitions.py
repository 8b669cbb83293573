"""What each figure counts, in the words shown next to it on the pages, in exports and the API."""

from __future__ import annotations

from django.utils.translation import gettext as _


def on_roll() -> str:
    return _(
        "Students on roll on the date: children whose placement at a school covers the date "
        "(from its first day, up to but not including the day it closed) and whose record is "
        "enrolled, suspended or in a transfer (counted at the sending school until the transfer "
        "completes), or whose placement there has closed since. Counted where the placement was: "
        "school, grade and class."
    )


def grade_age_sex() -> str:
    return _(
        "Students on roll on the date, by the grade of their placement, their age in completed "
        "years on that date (birthdays counted on the day) and sex. Every total is the sum of "
        "the figures it totals."
    )


def ethnicity() -> str:
    return _("Students on roll on the date, by the ethnicity in their record (GB 3304 codes).")


def hukou_nature() -> str:
    return _(
        "Students on roll on the date, by the type of household registration (户口性质) in their "
        "record."
    )


def left_behind() -> str:
    return _(
        "Left-behind children (留守儿童): students on roll whose record says one parent or both "
        "parents work away from home while the child stays behind."
    )


def migrant_child() -> str:
    return _(
        "Children of migrant workers (随迁子女): students on roll whose record says they moved "
        "with parents who work away from their household registration place."
    )


def disability() -> str:
    return _(
        "Students on roll on the date, by the type of disability in their record; “None” for "
        "children without one."
    )


def boarding() -> str:
    return _("Students on roll on the date, by attendance (就读方式): day students and boarders.")


def school_kind() -> str:
    return _("Students on roll on the date, by the kind of the school holding their placement.")


def entrants() -> str:
    return _(
        "New entrants: placements opened by a registration or an intake (a child entering the "
        "registry or a new stage) within the period, counted at the school they opened at."
    )


def transfers() -> str:
    return _(
        "Transfers: a placement opened with the reason “transfer” within the period, the day the "
        "placement before it closed, at another school. In: from a school outside the area to "
        "one inside; out: the other way; between schools inside the area: both inside."
    )


def graduates() -> str:
    return _(
        "Graduates: records now graduated or completed (毕业, 结业), held by a school in the "
        "area, whose exit date falls in the period. The exit date is that of the record's event "
        "of the same name where there is one, otherwise the day its last placement closed."
    )


def dropouts() -> str:
    return _(
        "Dropouts: records now dropped out (辍学), held by a school in the area, whose exit date "
        "falls in the period (the date of the record's dropout event where there is one, "
        "otherwise the day its last placement closed)."
    )


def other_departures() -> str:
    return _(
        "Other departures: records now withdrawn, left before completing, gone abroad, deceased "
        "or left for another reason, with an exit date in the period, dated as for dropouts."
    )


def undated_exits() -> str:
    return _(
        "Records that have left the roll with neither an exit event nor a closed placement, so "
        "that no year can be given to them: to be completed by their schools."
    )


def cohorts() -> str:
    return _(
        "A cohort is the children on roll in the first grade of a stage (grade 1, 7 or 10) on "
        "the census date of the year they entered, in schools of the area. On roll now: those of "
        "them counted at any school, anywhere, on this year's census date (the record follows "
        "the child). In-school rate = on roll now ÷ entered. Completed the stage: now graduated "
        "or completed. Attrition: now dropped out, withdrawn, left before completing or left for "
        "another reason; attrition rate = attrition ÷ entered. Other departures: gone abroad or "
        "deceased."
    )


def census() -> str:
    return _(
        "The annual statistics count students on the census date, 30 September of the school "
        "year (new intake is registered by then), or today while that day has not come; "
        "movements are counted from 1 September to 31 August (or today)."
    )


def flows() -> str:
    return _(
        "A move is two consecutive placements of one child, the first closed on the day the "
        "second opened, at schools in two different places (for any reason: a transfer, or a "
        "new stage at a school elsewhere), dated by the day the second opened. Only moves that "
        "start or end inside the area are shown. Computed live from the placements: a completed "
        "transfer appears at once."
    )


def net_inflow() -> str:
    return _(
        "Net inflow of each place inside the area over the period: children who arrived from "
        "elsewhere minus children who left for elsewhere."
    )


def migrants_by_origin() -> str:
    return _(
        "Children of migrant workers (随迁子女) on roll on the last day of the period, by the "
        "province of their household registration (户口所在地)."
    )


def areas() -> str:
    return _(
        "Schools: the schools of each area open on the date (not closed by then). Students on "
        "roll on the date: children whose placement at a school of the area covers the date and "
        "whose record is enrolled, suspended or in a transfer, or whose placement there has "
        "closed since; by sex."
    )


def suppression(threshold: int) -> str:
    return _(
        "To protect children's privacy, counts from 1 to %(below)s are shown as “<%(threshold)s”. "
        "Where a total would let such a count be worked out, another figure of the same line is "
        "hidden too and shown as “×”, as are figures worked out from a hidden one."
    ) % {"below": threshold - 1, "threshold": threshold}
