"""The permission matrix: which role may do what, at which scope level, within which limit.

One module, pure (no database): services, selectors, views and the API ask `allowed(role,
action, scope_level)`; the data-dependent part (is this student in the user's area, in the
class teacher's class, in the subject teacher's assigned class) is applied by
xueji.access.scope according to the grant's `Limit`. docs/permissions.md is rendered from
this table (`xueji render_permissions`), and a generated test walks it against every page and
API endpoint.

谁管理谁负责, 谁使用谁负责: least privilege by role and by area. Nothing is granted by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.access.models import SEPARATED_DUTIES, Role, ScopeLevel


class Action(models.TextChoices):
    HOME = "home", _("Open the home page of the role")
    DIVISION_VIEW = "division.view", _("Look up administrative divisions")
    SCHOOL_VIEW = "school.view", _("See schools and classes with their head counts")
    STATS_VIEW = "stats.view", _("See statistics (head counts by grade, age, sex …)")
    SCHOOL_MANAGE = "school.manage", _("Register, edit and close schools in the area")
    SCHOOL_MERGE = (
        "school.merge",
        _("Merge a school of the county as a whole into another (整体并入), with its pupils"),
    )
    CLASS_MANAGE = "class.manage", _("Open classes")
    STUDENT_VIEW = "student.view", _("Open a student's full record")
    STUDENT_VIEW_LIST = "student.view_list", _("Search and list students")
    STUDENT_VIEW_NAMES = "student.view_names", _("See the names of the students in a class")
    STUDENT_REVEAL_ID = "student.reveal_id", _("Reveal an ID number in full (audited)")
    STUDENT_REGISTER = "student.register", _("Register new students")
    STUDENT_EDIT_OTHER_INFO = "student.edit_other_info", _("Edit other (non-basic) information")
    STUDENT_ASSIGN_RESIDENT_ID = (
        "student.assign_resident_id",
        _("Give a J-numbered student the formal G number"),
    )
    ROSTER_VIEW = "roster.view", _("See a class roster")
    CLASS_VERIFY = "class.verify", _("Confirm a student's record or report an error")
    GUARDIAN_CHECK = (
        "guardian_check.record",
        _("Print record check sheets (核对表) for guardians and record what they returned"),
    )
    CORRECTION_VIEW = "correction.view", _("See key-data correction requests")
    CORRECTION_REQUEST = "correction.request", _("Request a key-data correction with evidence")
    CORRECTION_APPROVE_SCHOOL = (
        "correction.approve_school",
        _("Approve or reject a correction for the school"),
    )
    CORRECTION_APPROVE_COUNTY = (
        "correction.approve_county",
        _("Approve or reject a correction for the county"),
    )
    CHANGE_VIEW = "change.view", _("See changes of status and transfers (学籍异动)")
    CHANGE_NOTICE_VIEW = "change.notice_view", _("See a school's public notice of transfers")
    CHANGE_FILE = "change.file", _("File a change of status or a transfer, or withdraw it")
    CHANGE_APPROVE_SCHOOL = (
        "change.approve_school",
        _("Approve or reject a change or a transfer for the school"),
    )
    CHANGE_APPROVE_BUREAU = (
        "change.approve_bureau",
        _("Approve or reject a change or a transfer for the bureau"),
    )
    CHANGE_WINDOW_VIEW = (
        "change.window_view",
        _(
            "See the closed periods (transfers, promotion, verification), the requests held "
            "and the promotion periods"
        ),
    )
    CHANGE_WINDOW_MANAGE = (
        "change.window_manage",
        _(
            "Set the closed periods of changes of status, promotion and verification, and the "
            "promotion periods"
        ),
    )
    PROVINCE_RULES_VIEW = (
        "province_rules.view",
        _("See a province's rules of transfers and their history"),
    )
    PROVINCE_RULES_MANAGE = (
        "province_rules.manage",
        _("Change a province's rules of transfers (a new version, with the reason)"),
    )
    CHANGE_EVIDENCE_VIEW = "change.evidence_view", _("Open the evidence of a change (audited)")
    YEAREND_VIEW = "yearend.view", _("See the year-end runs (promotion, graduation) and clearing")
    YEAREND_RUN = "yearend.run", _("Plan and start a year-end promotion or graduation run")
    YEAREND_REVERSE = "yearend.reverse", _("Reverse a year-end run within the allowed period")
    YEAREND_OUTCOME = "yearend.outcome", _("Record 结业 or 肄业 for a final-grade student")
    INTAKE_ADMIT = "intake.admit", _("Admit graduates of the previous stage into the first grade")
    DROPOUTS_VIEW = "dropouts.view", _("See graduates admitted nowhere (possible dropouts)")
    WINDOW_VIEW = "window.view", _("See class teachers' verification windows")
    WINDOW_MANAGE = "window.manage", _("Open and close verification windows")
    TEACHING_MANAGE = "teaching.manage", _("Assign subject teachers to classes")
    SCORE_ENTER = "score.enter", _("Enter scores")
    EXPORT = "export", _("Export tables (masked)")
    IMPORT_RUN = "import.run", _("Import students from a spreadsheet (all or nothing)")
    IMPORT_VIEW = "import.view", _("See spreadsheet imports and their errors")
    AUDIT_VIEW = "audit.view", _("Search the audit trail")
    ACCOUNT_MANAGE = (
        "account.manage",
        _(
            "Manage the accounts of the own area (see who gives which role): create, edit, "
            "seal, reopen, remove, reset a password, hand over"
        ),
    )
    ACCOUNT_SECOND_FACTOR_MANAGE = (
        "account.second_factor_manage",
        _("Issue an account's enrolment code for the second factor, or reset a lost authenticator"),
    )
    # Daily attendance and dropout control (attendance, issue 22): the roll, the calendar, cases.
    ATTENDANCE_TAKE = (
        "attendance.take",
        _("Take the daily roll (the class teacher's own class; the school's card or face system)"),
    )
    ATTENDANCE_CORRECT = (
        "attendance.correct",
        _("Correct a roll after the class teacher's window, with a reason (audited)"),
    )
    ATTENDANCE_VIEW = (
        "attendance.view",
        _("See attendance: who is absent and why, rates by school, alerts, hollow records"),
    )
    CALENDAR_MANAGE = (
        "attendance.calendar_manage",
        _("Set the days schools are closed (the county's, or the own school's)"),
    )
    CASE_VIEW = "dropout_case.view", _("See dropout-control cases (控辍保学) and their ledger")
    CASE_STEP = (
        "dropout_case.step",
        _("Log a step of a dropout-control case (call, home visit, letter)"),
    )
    CASE_MANAGE = (
        "dropout_case.manage",
        _("Run dropout-control cases: assign, close with an end, confirm 辍学"),
    )
    ATTENDANCE_SETTINGS = (
        "attendance.settings",
        _("Set the province's dropout-control settings (runs of unexcused days, hollow records)"),
    )
    BUS_MANAGE = (
        "bus.manage",
        _("Set school bus routes, their stops, monitors and the children who ride them"),
    )
    BUS_BOARD = (
        "bus.board",
        _("Check children on and off a school bus, morning and afternoon (the bus monitor)"),
    )
    # The child's archive (archive, issue 24): growth record, fitness, electronic file, 学籍证明.
    ARCHIVE_VIEW = (
        "archive.view",
        _("Read a child's growth record (成长记录), fitness results and certificates"),
    )
    ARCHIVE_FILE = (
        "archive.file",
        _("Make the electronic file (电子学籍档案) of a child or a class"),
    )
    GROWTH_WRITE = (
        "growth.write",
        _("Write the term comment, 综合素质评价 and factual records (写实记录) of the own class"),
    )
    CONDUCT_RECORD = "conduct.record", _("Enter and lift awards and sanctions (奖惩)")
    HEALTH_RECORD = "health.record", _("Enter health check-ups and vaccinations")
    FITNESS_IMPORT = "fitness.import", _("Import the fitness test results (体质健康测试)")
    CERTIFICATE_ISSUE = (
        "certificate.issue",
        _("Issue a certificate of registration (学籍证明) on a guardian's request"),
    )
    CERTIFICATE_REVOKE = "certificate.revoke", _("Withdraw a certificate of registration")
    # Two-level deployment (federation, issue 25): the hub's pages and its nodes' API.
    FEDERATION_LOOKUP = (
        "federation.lookup",
        _("Look up in which province a child's number is held (national hub)"),
    )
    FEDERATION_STATS = (
        "federation.stats",
        _("See national statistics and flows between provinces (national hub)"),
    )
    FEDERATION_NODES = (
        "federation.nodes",
        _("See the nodes' replication and pending reservations"),
    )
    FEDERATION_NODE_API = (
        "federation.node_api",
        _("Answer a provincial node's signed request (no user: node credentials only)"),
    )
    # Money that follows the record (welfare, issue 23): funding, aid, meals, the checks.
    WELFARE_VIEW = (
        "welfare.view",
        _("See funding allocations, student aid, meals and the consistency findings"),
    )
    WELFARE_SETTINGS = (
        "welfare.settings",
        _(
            "Set funding rates, census dates, aid programmes and the meals programme "
            "(ministry, province)"
        ),
    )
    WELFARE_SCHOOL = (
        "welfare.school",
        _("Enter a child's need, apply for aid and record the canteen's meals (own school)"),
    )
    WELFARE_COUNTY = (
        "welfare.county",
        _(
            "Approve need and aid, make payment lists and bank files, load family lists and "
            "finance figures, explain findings (county)"
        ),
    )
    WELFARE_CHECK = "welfare.check", _("Refresh the consistency checks of the area")
    # The term's statistics report (reporting, issue 26): rounds confirmed level by level.
    REPORT_VIEW = (
        "report.view",
        _("See the statistics reports (事业统计上报) of the area, their checks and exports"),
    )
    REPORT_PREPARE = (
        "report.prepare",
        _("Prepare the school's statistics report from the registry on the census date"),
    )
    REPORT_CONFIRM = (
        "report.confirm",
        _(
            "Confirm the own statistics report; return a report of the level below, decide on "
            "its revisions"
        ),
    )
    REPORT_REVISE = (
        "report.revise",
        _("Ask for a revision of a confirmed statistics report, with a reason"),
    )
    REPORT_ROUND_OPEN = (
        "report.round_open",
        _("Open a statistics reporting round: census date, tables, deadlines (ministry, province)"),
    )

    # Identity (identity, issue 21): the population roll, identity status, L numbers,
    # duplicates (一人多籍), children with no record (有人无籍) and records away from the child.
    IDENTITY_ROLL_VIEW = (
        "identity.roll_view",
        _("See the population roll and its loads (dropout control and identity staff; audited)"),
    )
    IDENTITY_ROLL_LOAD = "identity.roll_load", _("Load a population roll file for the province")
    IDENTITY_SETTINGS = (
        "identity.settings",
        _("Turn the population check (L numbers) on or off for the province"),
    )
    IDENTITY_STATUS_VIEW = (
        "identity.status_view",
        _("See records' identity status and their disagreements with the roll"),
    )
    DUPLICATE_VIEW = "duplicate.view", _("See pairs of records that may be one child (一人多籍)")
    DUPLICATE_SCAN = "duplicate.scan", _("Run the duplicate scan for the area")
    DUPLICATE_DECIDE = (
        "duplicate.decide",
        _("Decide a pair of records: merge them with evidence, or not the same child; undo"),
    )
    DUPLICATE_SETTLE = (
        "duplicate.settle",
        _("Settle a pair across provinces that the two provinces dispute (national hub)"),
    )
    UNRECORDED_VIEW = (
        "unrecorded.view",
        _(
            "See children of compulsory age with no record (有人无籍) and records away from the "
            "child (人籍分离)"
        ),
    )
    UNRECORDED_DECIDE = (
        "unrecorded.decide",
        _("Mark a child with no record found, exempted, or hand it to dropout control"),
    )
    REGISTRATION_REVIEW = (
        "registration.review",
        _(
            "Review the county's new registrations before their numbers are issued (县级审核): "
            "approve, or return with a reason"
        ),
    )


class Limit(models.TextChoices):
    """What part of the scope a grant covers."""

    AREA = "area", _("everything in the user's area (school, county, city, province or nation)")
    OWN_CLASSES_IN_WINDOW = (
        "own_classes_in_window",
        _("only the user's own classes, and only while the county's verification window is open"),
    )
    ASSIGNED_CLASSES = (
        "assigned_classes",
        _("only the classes and subjects assigned to the user, names only"),
    )
    OWN_ACCOUNT = "own_account", _("only the user's own page")
    OWN_CLASSES = "own_classes", _("only the user's own classes")


@dataclass(frozen=True)
class Grant:
    levels: frozenset[str]
    limit: str = Limit.AREA


SCHOOL = frozenset({ScopeLevel.SCHOOL.value})
COUNTY = frozenset({ScopeLevel.COUNTY.value})
PROVINCE = frozenset({ScopeLevel.PROVINCE.value})
NATION = frozenset({ScopeLevel.NATION.value})
BUREAU = frozenset(
    {ScopeLevel.COUNTY.value, ScopeLevel.CITY.value, ScopeLevel.PROVINCE.value, ScopeLevel.NATION}
)
EVERY_LEVEL = SCHOOL | BUREAU

# The levels at which each role is held (a membership elsewhere grants nothing).
ROLE_LEVELS: dict[str, frozenset[str]] = {
    Role.CLASS_TEACHER: SCHOOL,
    Role.SUBJECT_TEACHER: SCHOOL,
    Role.REGISTRAR: SCHOOL,
    Role.PRINCIPAL: SCHOOL,
    Role.BUREAU_VIEWER: BUREAU,
    Role.BUREAU_APPROVER: BUREAU,
    Role.AUDITOR: BUREAU,
    Role.ADMIN: BUREAU,
    Role.SECURITY_ADMIN: BUREAU,
}

_AREA_READ: dict[str, Grant] = {
    Action.SCHOOL_VIEW: Grant(EVERY_LEVEL),
    Action.STATS_VIEW: Grant(EVERY_LEVEL),
    Action.STUDENT_VIEW: Grant(EVERY_LEVEL),
    Action.STUDENT_VIEW_LIST: Grant(EVERY_LEVEL),
    Action.STUDENT_VIEW_NAMES: Grant(EVERY_LEVEL),
    Action.ROSTER_VIEW: Grant(EVERY_LEVEL),
    Action.CORRECTION_VIEW: Grant(EVERY_LEVEL),
    Action.CHANGE_VIEW: Grant(EVERY_LEVEL),
    Action.CHANGE_NOTICE_VIEW: Grant(EVERY_LEVEL),
    Action.WINDOW_VIEW: Grant(EVERY_LEVEL),
    # Closed periods and province rules: the nation's and the own province's.
    Action.CHANGE_WINDOW_VIEW: Grant(EVERY_LEVEL),
    Action.PROVINCE_RULES_VIEW: Grant(EVERY_LEVEL),
    Action.EXPORT: Grant(EVERY_LEVEL),
    Action.IMPORT_VIEW: Grant(EVERY_LEVEL),
    Action.YEAREND_VIEW: Grant(EVERY_LEVEL),
}


def _everyone() -> dict[str, Grant]:
    return {
        Action.HOME: Grant(EVERY_LEVEL, Limit.OWN_ACCOUNT),
        Action.DIVISION_VIEW: Grant(EVERY_LEVEL),
    }


MATRIX: dict[str, dict[str, Grant]] = {
    Role.CLASS_TEACHER: {
        **_everyone(),
        Action.STUDENT_VIEW: Grant(SCHOOL, Limit.OWN_CLASSES_IN_WINDOW),
        Action.STUDENT_VIEW_LIST: Grant(SCHOOL, Limit.OWN_CLASSES_IN_WINDOW),
        Action.STUDENT_VIEW_NAMES: Grant(SCHOOL, Limit.OWN_CLASSES_IN_WINDOW),
        Action.ROSTER_VIEW: Grant(SCHOOL, Limit.OWN_CLASSES_IN_WINDOW),
        Action.CLASS_VERIFY: Grant(SCHOOL, Limit.OWN_CLASSES_IN_WINDOW),
        # Head counts of the class, all year; exact while the window opens its records, else
        # with small cells suppressed (xueji.stats).
        Action.STATS_VIEW: Grant(SCHOOL, Limit.OWN_CLASSES),
    },
    Role.SUBJECT_TEACHER: {
        **_everyone(),
        Action.STUDENT_VIEW_NAMES: Grant(SCHOOL, Limit.ASSIGNED_CLASSES),
        Action.SCORE_ENTER: Grant(SCHOOL, Limit.ASSIGNED_CLASSES),
    },
    Role.REGISTRAR: {
        **_everyone(),
        **_AREA_READ,
        Action.STUDENT_REVEAL_ID: Grant(SCHOOL),
        Action.STUDENT_REGISTER: Grant(SCHOOL),
        Action.STUDENT_EDIT_OTHER_INFO: Grant(SCHOOL),
        Action.STUDENT_ASSIGN_RESIDENT_ID: Grant(SCHOOL),
        Action.CLASS_MANAGE: Grant(SCHOOL),
        Action.GUARDIAN_CHECK: Grant(SCHOOL),
        Action.CORRECTION_REQUEST: Grant(SCHOOL),
        Action.TEACHING_MANAGE: Grant(SCHOOL),
        Action.IMPORT_RUN: Grant(SCHOOL),
        Action.YEAREND_OUTCOME: Grant(SCHOOL),
        Action.INTAKE_ADMIT: Grant(SCHOOL),
        Action.CHANGE_FILE: Grant(SCHOOL),
        Action.CHANGE_APPROVE_SCHOOL: Grant(SCHOOL),
        Action.CHANGE_EVIDENCE_VIEW: Grant(SCHOOL),
    },
    Role.PRINCIPAL: {
        **_everyone(),
        **_AREA_READ,
        Action.CORRECTION_APPROVE_SCHOOL: Grant(SCHOOL),
        Action.CHANGE_APPROVE_SCHOOL: Grant(SCHOOL),
        Action.CHANGE_EVIDENCE_VIEW: Grant(SCHOOL),
    },
    Role.BUREAU_VIEWER: {
        **_everyone(),
        **_AREA_READ,
        Action.DROPOUTS_VIEW: Grant(BUREAU),
    },
    Role.BUREAU_APPROVER: {
        **_everyone(),
        **_AREA_READ,
        Action.STUDENT_REVEAL_ID: Grant(BUREAU),
        # A school is registered by the bureau of its county or of an area holding it; merging
        # one into another moves its pupils, which their county approves.
        Action.SCHOOL_MANAGE: Grant(BUREAU),
        Action.SCHOOL_MERGE: Grant(COUNTY),
        Action.CORRECTION_APPROVE_COUNTY: Grant(COUNTY),
        Action.WINDOW_MANAGE: Grant(COUNTY),
        Action.YEAREND_RUN: Grant(BUREAU - {ScopeLevel.CITY.value}),
        Action.YEAREND_REVERSE: Grant(BUREAU - {ScopeLevel.CITY.value}),
        Action.DROPOUTS_VIEW: Grant(BUREAU),
        Action.CHANGE_APPROVE_BUREAU: Grant(COUNTY | PROVINCE),
        Action.CHANGE_EVIDENCE_VIEW: Grant(COUNTY | PROVINCE),
        # The ministry for the nation and any province, a province for itself.
        Action.CHANGE_WINDOW_MANAGE: Grant(PROVINCE | NATION),
        Action.PROVINCE_RULES_MANAGE: Grant(PROVINCE | NATION),
        # Accounts strictly below the approver's own level, never one of the separated duties
        # (may_assign_role).
        Action.ACCOUNT_MANAGE: Grant(BUREAU),
    },
    Role.AUDITOR: {
        **_everyone(),
        Action.AUDIT_VIEW: Grant(BUREAU),
    },
    # 三员分立: the system administrator runs the system (schools, settings) and neither manages
    # accounts nor reads the trail; the security administrator manages accounts, roles and keys
    # and changes no setting; the auditor reads the trail and nothing else (see DUTY_ACTIONS).
    Role.ADMIN: {
        **_everyone(),
        Action.SCHOOL_VIEW: Grant(BUREAU),
        Action.STATS_VIEW: Grant(BUREAU),
        Action.SCHOOL_MANAGE: Grant(BUREAU),
    },
    Role.SECURITY_ADMIN: {
        **_everyone(),
        Action.ACCOUNT_MANAGE: Grant(BUREAU),
        # An enrolment code with the password sets up an account's second factor: the accounts'
        # security is this duty's, not the system administrator's.
        Action.ACCOUNT_SECOND_FACTOR_MANAGE: Grant(BUREAU),
    },
}


# Two-level deployment (federation, issue 25): the ministry's bureaus look a number up and read the
# national statistics; the system administrators (the ministry's and a province's operators) watch
# replication and pending reservations. The nodes' API is no user's (signed node requests).
for _role in (Role.BUREAU_VIEWER, Role.BUREAU_APPROVER):
    MATRIX[_role][Action.FEDERATION_LOOKUP] = Grant(NATION)
    MATRIX[_role][Action.FEDERATION_STATS] = Grant(NATION)
MATRIX[Role.ADMIN][Action.FEDERATION_STATS] = Grant(NATION)
# A pair across provinces the two provinces dispute is settled by the national bureau above both.
MATRIX[Role.BUREAU_APPROVER][Action.DUPLICATE_SETTLE] = Grant(NATION)
MATRIX[Role.ADMIN][Action.FEDERATION_NODES] = Grant(PROVINCE | NATION)


# The child's archive (archive, issue 24): the registrar issues and withdraws certificates and
# enters 奖惩, health and vaccinations and the fitness results; the class teacher writes the own
# class's comments, 综合素质评价 and 写实记录 (subject teachers' marks are score.enter); the
# principal reads the school, the bureaus their area.
MATRIX[Role.REGISTRAR].update(
    {
        Action.ARCHIVE_VIEW: Grant(SCHOOL),
        Action.ARCHIVE_FILE: Grant(SCHOOL),
        Action.CONDUCT_RECORD: Grant(SCHOOL),
        Action.HEALTH_RECORD: Grant(SCHOOL),
        Action.FITNESS_IMPORT: Grant(SCHOOL),
        Action.CERTIFICATE_ISSUE: Grant(SCHOOL),
        Action.CERTIFICATE_REVOKE: Grant(SCHOOL),
    }
)
MATRIX[Role.CLASS_TEACHER][Action.ARCHIVE_VIEW] = Grant(SCHOOL, Limit.OWN_CLASSES)
MATRIX[Role.CLASS_TEACHER][Action.GROWTH_WRITE] = Grant(SCHOOL, Limit.OWN_CLASSES)
MATRIX[Role.PRINCIPAL][Action.ARCHIVE_VIEW] = Grant(SCHOOL)
MATRIX[Role.PRINCIPAL][Action.ARCHIVE_FILE] = Grant(SCHOOL)
for _role in (Role.BUREAU_VIEWER, Role.BUREAU_APPROVER):
    MATRIX[_role][Action.ARCHIVE_VIEW] = Grant(BUREAU)
    MATRIX[_role][Action.ARCHIVE_FILE] = Grant(BUREAU)


# Daily attendance and dropout control (attendance, issue 22): the class teacher takes the own
# class's roll; the registrar sends the card system's feed, corrects late with a reason and sets
# the school's closure days; the principal reads the school; the county's approver runs the cases,
# sets the county's closure days and confirms 辍学; the bureaus read their area.
MATRIX[Role.CLASS_TEACHER][Action.ATTENDANCE_TAKE] = Grant(SCHOOL, Limit.OWN_CLASSES)
MATRIX[Role.REGISTRAR].update(
    {
        Action.ATTENDANCE_TAKE: Grant(SCHOOL),
        Action.ATTENDANCE_CORRECT: Grant(SCHOOL),
        Action.ATTENDANCE_VIEW: Grant(SCHOOL),
        Action.CALENDAR_MANAGE: Grant(SCHOOL),
        Action.CASE_VIEW: Grant(SCHOOL),
        Action.CASE_STEP: Grant(SCHOOL),
    }
)
MATRIX[Role.PRINCIPAL].update(
    {
        Action.ATTENDANCE_VIEW: Grant(SCHOOL),
        Action.CASE_VIEW: Grant(SCHOOL),
        Action.CASE_STEP: Grant(SCHOOL),
    }
)
MATRIX[Role.BUREAU_VIEWER].update(
    {Action.ATTENDANCE_VIEW: Grant(BUREAU), Action.CASE_VIEW: Grant(BUREAU)}
)
MATRIX[Role.BUREAU_APPROVER].update(
    {
        Action.ATTENDANCE_VIEW: Grant(BUREAU),
        Action.CASE_VIEW: Grant(BUREAU),
        Action.CASE_STEP: Grant(BUREAU),
        Action.CASE_MANAGE: Grant(BUREAU - {ScopeLevel.NATION.value}),
        Action.CALENDAR_MANAGE: Grant(COUNTY),
    }
)
# The province sets its dropout-control settings (the ministry any province's). School buses:
# the registrar sets the school's routes and the county's approver the routes the county runs;
# the boarding check is the bus monitor's (随车照管人员, the teacher the school names for the
# route) and, standing in, a teacher of a class whose children ride it (own classes, assigned
# classes); the registrar checks any route of the school (a card reader's account), the county
# its own routes.
MATRIX[Role.BUREAU_APPROVER][Action.ATTENDANCE_SETTINGS] = Grant(PROVINCE | NATION)
MATRIX[Role.REGISTRAR][Action.BUS_MANAGE] = Grant(SCHOOL)
MATRIX[Role.BUREAU_APPROVER][Action.BUS_MANAGE] = Grant(COUNTY)
MATRIX[Role.CLASS_TEACHER][Action.BUS_BOARD] = Grant(SCHOOL, Limit.OWN_CLASSES)
MATRIX[Role.SUBJECT_TEACHER][Action.BUS_BOARD] = Grant(SCHOOL, Limit.ASSIGNED_CLASSES)
MATRIX[Role.REGISTRAR][Action.BUS_BOARD] = Grant(SCHOOL)
MATRIX[Role.BUREAU_APPROVER][Action.BUS_BOARD] = Grant(COUNTY)


# Money that follows the record (welfare, issue 23): the school's registrar and principal enter
# need, apply for aid and record meals; the county's approver approves, pays, loads lists and
# explains findings; the province and the ministry set rates and programmes; every bureau reads
# its area and refreshes its checks.
for _role in (Role.REGISTRAR, Role.PRINCIPAL):
    MATRIX[_role][Action.WELFARE_VIEW] = Grant(SCHOOL)
    MATRIX[_role][Action.WELFARE_SCHOOL] = Grant(SCHOOL)
MATRIX[Role.BUREAU_VIEWER][Action.WELFARE_VIEW] = Grant(BUREAU)
MATRIX[Role.BUREAU_APPROVER].update(
    {
        Action.WELFARE_VIEW: Grant(BUREAU),
        Action.WELFARE_SETTINGS: Grant(PROVINCE | NATION),
        Action.WELFARE_COUNTY: Grant(COUNTY),
        Action.WELFARE_CHECK: Grant(BUREAU),
    }
)


# The term's statistics report (reporting, issue 26): the registrar prepares the school's report
# and the principal confirms it; each bureau's approver confirms its own level's report, returns
# one of the level below and decides on its revisions; the ministry and a province open rounds;
# every school's registrar and principal and every bureau read their area's reports.
for _role in (Role.REGISTRAR, Role.PRINCIPAL):
    MATRIX[_role][Action.REPORT_VIEW] = Grant(SCHOOL)
    MATRIX[_role][Action.REPORT_PREPARE] = Grant(SCHOOL)
    MATRIX[_role][Action.REPORT_REVISE] = Grant(SCHOOL)
MATRIX[Role.PRINCIPAL][Action.REPORT_CONFIRM] = Grant(SCHOOL)
MATRIX[Role.BUREAU_VIEWER][Action.REPORT_VIEW] = Grant(BUREAU)
MATRIX[Role.BUREAU_APPROVER].update(
    {
        Action.REPORT_VIEW: Grant(BUREAU),
        Action.REPORT_CONFIRM: Grant(BUREAU),
        Action.REPORT_REVISE: Grant(BUREAU),
        Action.REPORT_ROUND_OPEN: Grant(PROVINCE | NATION),
    }
)


# Identity (identity, issue 21): the roll is seen by bureau staff only (county and above, as
# dropout-control and identity staff), loaded and switched on by the province; registrars see
# their records' identity status and disagreements; pairs are decided by the county's approver
# (a city or province approver decides what is escalated to it), 有人无籍 worked by the county.
MATRIX[Role.REGISTRAR][Action.IDENTITY_STATUS_VIEW] = Grant(SCHOOL)
MATRIX[Role.PRINCIPAL][Action.IDENTITY_STATUS_VIEW] = Grant(SCHOOL)
for _role in (Role.BUREAU_VIEWER, Role.BUREAU_APPROVER):
    MATRIX[_role][Action.IDENTITY_ROLL_VIEW] = Grant(BUREAU)
    MATRIX[_role][Action.IDENTITY_STATUS_VIEW] = Grant(BUREAU)
    MATRIX[_role][Action.DUPLICATE_VIEW] = Grant(BUREAU)
    MATRIX[_role][Action.UNRECORDED_VIEW] = Grant(BUREAU)
MATRIX[Role.BUREAU_APPROVER].update(
    {
        Action.IDENTITY_ROLL_LOAD: Grant(PROVINCE),
        Action.IDENTITY_SETTINGS: Grant(PROVINCE),
        Action.DUPLICATE_SCAN: Grant(BUREAU),
        Action.DUPLICATE_DECIDE: Grant(BUREAU - {ScopeLevel.NATION.value}),
        Action.UNRECORDED_DECIDE: Grant(COUNTY),
        Action.REGISTRATION_REVIEW: Grant(COUNTY),
    }
)


def grant(role: str | None, action: str) -> Grant | None:
    """The grant of `action` to `role`, whatever the level; None when there is none."""
    if role is None:
        return None
    return MATRIX.get(role, {}).get(action)


def allowed(role: str | None, action: str, scope_level: str | None) -> bool:
    """May a user holding `role` at `scope_level` perform `action` (within the grant's limit)?"""
    found = grant(role, action)
    return (
        found is not None
        and scope_level in found.levels
        and scope_level in ROLE_LEVELS.get(role or "", frozenset())
    )


def limit(role: str | None, action: str) -> str | None:
    """The limit of the grant (see Limit), or None when the role has no such grant."""
    found = grant(role, action)
    return None if found is None else found.limit


def actions_of(role: str | None, scope_level: str | None) -> list[str]:
    """Every action the role may perform at that level, in the order of Action."""
    return [action for action in Action.values if allowed(role, action, scope_level)]


# Roles whose home is not the school or bureau overview (which shows head counts of a school
# or an area): the URL name of the page they land on.
HOME_PAGES: dict[str, str] = {
    Role.CLASS_TEACHER: "verification:my_classes",
    Role.SUBJECT_TEACHER: "scores:home",
    Role.AUDITOR: "audit:search",
    Role.ADMIN: "access:my_role",
    Role.SECURITY_ADMIN: "accounts:account_list",
}


def home_page(role: str | None) -> str | None:
    """The URL name of a role's own home page, or None for the overview of its school/area."""
    return HOME_PAGES.get(role or "")


# ---- separation of duties (三员分立) -----------------------------------------------------------
#
# The security administrator and the auditor hold their duty's actions and nothing more than
# every role's own page: a new action (a settings page, say) is theirs only if it is added to
# their duty here, which the check below and its test make a visible decision. The system
# administrator holds none of the other two duties' actions. Any role outside the three may
# still hold a duty's action where it is no duty of 三员 (a bureau approver manages the accounts
# of schools below it), but never the auditor's.

COMMON_ACTIONS: frozenset[str] = frozenset({Action.HOME, Action.DIVISION_VIEW})
DUTY_ACTIONS: dict[str, frozenset[str]] = {
    Role.SECURITY_ADMIN: frozenset({Action.ACCOUNT_MANAGE, Action.ACCOUNT_SECOND_FACTOR_MANAGE}),
    Role.AUDITOR: frozenset({Action.AUDIT_VIEW}),
}


def separation_of_duties_violations() -> list[str]:
    """What in MATRIX breaks 三员分立, as sentences; empty when the matrix keeps it."""
    found: list[str] = []
    for role, own in DUTY_ACTIONS.items():
        extra = sorted(set(MATRIX[role]) - own - COMMON_ACTIONS)
        if extra:
            found.append(f"{role} holds actions outside its duty: {', '.join(extra)}")
    reserved = DUTY_ACTIONS[Role.SECURITY_ADMIN] | DUTY_ACTIONS[Role.AUDITOR]
    held = sorted(set(MATRIX[Role.ADMIN]) & reserved)
    if held:
        found.append(f"admin holds another duty's actions: {', '.join(held)}")
    for role, grants in MATRIX.items():
        if role != Role.AUDITOR and set(grants) & DUTY_ACTIONS[Role.AUDITOR]:
            found.append(f"{role} may read the audit trail")
    return found


# ---- who may give which role (the account rules) ----------------------------------------------
#
# Pure: the area (the school or division must lie inside the manager's) is checked by the
# services. Decided here and rendered into docs/permissions.md:
# - a bureau approver gives ordinary roles (school staff, bureau viewers and approvers) strictly
#   below its own level: a county creates school accounts, a city county and school accounts …;
# - a security administrator gives ordinary roles at or below its own level (accounts are its
#   duty, so a province's security administrator staffs the province's bureau too);
# - only the nation's security administrator gives the separated duties (admin, security_admin,
#   auditor), at any level;
# - nobody gives a role to, or changes the role or scope of, their own account (the services).

LEVEL_RANK: dict[str, int] = {
    ScopeLevel.SCHOOL: 0,
    ScopeLevel.COUNTY: 1,
    ScopeLevel.CITY: 2,
    ScopeLevel.PROVINCE: 3,
    ScopeLevel.NATION: 4,
}


def may_assign_role(
    manager_role: str | None, manager_level: str | None, role: str, level: str
) -> bool:
    """May a manager holding `manager_role` at `manager_level` create, or manage, an account
    holding `role` at `level` (inside the manager's area)?"""
    if manager_role is None or manager_level is None:
        return False
    if not allowed(manager_role, Action.ACCOUNT_MANAGE, manager_level):
        return False
    if level not in ROLE_LEVELS.get(role, frozenset()):
        return False
    if role in SEPARATED_DUTIES:
        return manager_role == Role.SECURITY_ADMIN and manager_level == ScopeLevel.NATION
    if manager_role == Role.SECURITY_ADMIN:
        return LEVEL_RANK[level] <= LEVEL_RANK[manager_level]
    return LEVEL_RANK[level] < LEVEL_RANK[manager_level]


def assignable_roles(manager_role: str | None, manager_level: str | None) -> list[tuple[str, str]]:
    """Every (role, level) the manager may give, in the order of Role and ScopeLevel."""
    return [
        (role, level)
        for role in Role.values
        for level in ScopeLevel.values
        if may_assign_role(manager_role, manager_level, role, level)
    ]
