"""Who may act on a change of status. Pure: decisions on the scope (xueji.access.scope.Scope)
and on plain values of the request and its step, no database.

- Filing: the registrar of the school that applies (the receiving school for a transfer, the
  student's school otherwise), with Action.CHANGE_FILE at school level.
- A school step: that school's registrar or principal (Action.CHANGE_APPROVE_SCHOOL).
- A county or province step: an approver of exactly that bureau (Action.CHANGE_APPROVE_BUREAU at
  the matching level and division).
- Withdrawal: the applicant school's registrar (Action.CHANGE_FILE), while not decided.
- Compulsory education (grades 1-9): a school may not start a withdrawal (退学, which includes an
  expulsion) or a repeat (留级) on its own: such a request must be the guardian's, with the
  guardian's written request attached. Dropping out (辍学) is no request a school files there at
  all: a child who stops coming is reported to the county, which follows the case (控辍保学).
- What a school is offered to file for a child: the kinds possible from the record's state
  (复学 only for a suspended child) and the child's grade.
"""

from __future__ import annotations

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import Scope, may
from xueji.changes.kinds import FILED_BY_OWN_SCHOOL, GuardianRequest, kinds_where, spec_of
from xueji.changes.models import ChangeKind, Initiator, PartyLevel

COMPULSORY_GRADES = range(1, 10)

# Kinds a school may not start on its own in compulsory education (DOMAIN §5).
GUARDIAN_ONLY_IN_COMPULSORY = kinds_where(guardian_only_in_compulsory=True)

# Kinds for which the guardian's written request is always required.
GUARDIAN_REQUEST_REQUIRED = kinds_where(guardian_request=GuardianRequest.ALWAYS)


def in_compulsory_education(grade: int) -> bool:
    return grade in COMPULSORY_GRADES


def school_may_file_kind(kind: str, grade: int) -> bool:
    """Is a change of this kind something a school files for a child of this grade? 辍学 is
    not, in compulsory education (xueji.changes.kinds: filed_in_compulsory)."""
    return spec_of(kind).filed_in_compulsory or not in_compulsory_education(grade)


def kinds_offered(state: str, grade: int | None) -> list[ChangeKind]:
    """The kinds the student's school may file for a record in this state and grade (None: no
    current grade), in ChangeKind's order: a transfer is the receiving school's, 复学 needs a
    suspended child, 辍学 is not filed in compulsory education."""
    return [
        kind
        for kind in FILED_BY_OWN_SCHOOL
        if state in spec_of(kind).from_states
        and (grade is None or school_may_file_kind(kind, grade))
    ]


def may_file(scope: Scope | None, applicant_school_id: int) -> bool:
    """May the scope file a request on behalf of this school?"""
    return (
        may(scope, Action.CHANGE_FILE)
        and scope is not None
        and scope.level == ScopeLevel.SCHOOL
        and scope.school_id == applicant_school_id
    )


def may_decide(
    scope: Scope | None, *, level: str, school_id: int | None, division_code: str | None
) -> bool:
    """May the scope decide a step whose party is this school or this bureau?"""
    if scope is None:
        return False
    if level == PartyLevel.SCHOOL:
        return (
            may(scope, Action.CHANGE_APPROVE_SCHOOL)
            and scope.level == ScopeLevel.SCHOOL
            and school_id is not None
            and scope.school_id == school_id
        )
    return (
        may(scope, Action.CHANGE_APPROVE_BUREAU)
        and scope.level == level
        and division_code is not None
        and scope.division_code == division_code
    )


def may_withdraw(scope: Scope | None, applicant_school_id: int) -> bool:
    """May the scope withdraw a request this school filed?"""
    return may_file(scope, applicant_school_id)


def initiator_allowed(kind: str, grade: int, initiator: str) -> bool:
    """Is a request of this kind, started by this party, allowed for a child of this grade?"""
    if kind in GUARDIAN_ONLY_IN_COMPULSORY and in_compulsory_education(grade):
        return initiator == Initiator.GUARDIAN
    return True


def needs_guardian_request(kind: str, initiator: str) -> bool:
    """Must the guardian's written request be attached? A transfer always (the parent applies
    at the receiving school); any other change the guardian asked for, except a dropout, a
    death or a class change, which the school records (xueji.changes.kinds)."""
    rule = spec_of(kind).guardian_request
    if rule == GuardianRequest.ALWAYS:
        return True
    return rule == GuardianRequest.IF_GUARDIANS and initiator == Initiator.GUARDIAN


def needs_evidence(kind: str) -> bool:
    """Every change but a class change is backed by at least one document."""
    return spec_of(kind).evidence_required
