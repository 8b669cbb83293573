"""Student aid (学生资助): programmes, need (困难学生认定), the school's application, the county's
approval, the award (once per child, programme and term in the country), payments to a
guardian on the record, the bank's file and its result, and the families entitled but not
helped (应助尽助).

State machines (explicit tables, moved under select_for_update):

    need:         applied --assess--> assessed --publish--> noticed --approve--> approved
                     \\--reject--> rejected        \\--reject--> rejected  \\--reject--> rejected
    application:  filed --approve--> approved | --reject--> rejected | --withdraw--> withdrawn
    payment:      pending --send--> sent --paid--> paid --returned--> returned
                                         --failed--> failed --send--> sent
                                         --returned--> returned --send--> sent
"""

from __future__ import annotations

import datetime
import hashlib
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.scope import Scope
from xueji.audit.services import audit_record
from xueji.core.crypto import blind_index, encrypt
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.core.exports import neutralise
from xueji.core.idnumbers import mask_id_number, normalize, validate_resident_id
from xueji.geo.models import Division
from xueji.schools.models import Term
from xueji.students.identity import document_index, unseal
from xueji.students.models import ON_ROLL_STATES, FamilyMember, Placement, Student
from xueji.students.national import national_index
from xueji.welfare.funding import placed_on, stage_of
from xueji.welfare.models import (
    AidApplication,
    AidAward,
    AidCategory,
    AidPayment,
    AidProgramme,
    AidQuota,
    ApplicationState,
    FamilyListEntry,
    NeedAssessment,
    NeedState,
    PaymentMode,
    PaymentState,
    Stage,
)
from xueji.welfare.validation import Column, field_error, parse_fen, read_table

ACCOUNT = "welfare.account"
NATIONAL_PURPOSE = "aid_per_term"


class InvalidTransition(Conflict):
    pass


NEED_TRANSITIONS: dict[tuple[str | None, str], str] = {
    (NeedState.APPLIED, "assess"): NeedState.ASSESSED,
    (NeedState.APPLIED, "reject"): NeedState.REJECTED,
    (NeedState.ASSESSED, "publish"): NeedState.NOTICED,
    (NeedState.ASSESSED, "reject"): NeedState.REJECTED,
    (NeedState.NOTICED, "approve"): NeedState.APPROVED,
    (NeedState.NOTICED, "reject"): NeedState.REJECTED,
}
APPLICATION_TRANSITIONS: dict[tuple[str | None, str], str] = {
    (ApplicationState.FILED, "approve"): ApplicationState.APPROVED,
    (ApplicationState.FILED, "reject"): ApplicationState.REJECTED,
    (ApplicationState.FILED, "withdraw"): ApplicationState.WITHDRAWN,
}
PAYMENT_TRANSITIONS: dict[tuple[str | None, str], str] = {
    (PaymentState.PENDING, "send"): PaymentState.SENT,
    (PaymentState.FAILED, "send"): PaymentState.SENT,
    (PaymentState.RETURNED, "send"): PaymentState.SENT,
    (PaymentState.SENT, "paid"): PaymentState.PAID,
    (PaymentState.SENT, "failed"): PaymentState.FAILED,
    (PaymentState.SENT, "returned"): PaymentState.RETURNED,
    (PaymentState.PAID, "returned"): PaymentState.RETURNED,
}
# The school's step and the county's step of the need's machine.
SCHOOL_NEED_EVENTS = ("assess", "publish")
COUNTY_NEED_EVENTS = ("approve", "reject")


def _move(table: dict[tuple[str | None, str], str], state: str, event: str, states: Any) -> str:
    target = table.get((state, event))
    if target is None:
        raise InvalidTransition(
            "invalid_transition",
            _("This step is not possible from the state %(state)s.")
            % {"state": states(state).label if state in states.values else state},
        )
    return target


# ---- account numbers -------------------------------------------------------------------------

_ACCOUNT = re.compile(r"^[0-9]{12,30}$")


def mask_account(number: str) -> str:
    return "*" * max(0, len(number) - 4) + number[-4:] if number else ""


def account_index_of(plain: str, row: dict[str, Any]) -> str:
    return blind_index(plain, context=ACCOUNT)


def account_fields(number: str) -> dict[str, str]:
    number = re.sub(r"\s+", "", number or "")
    if not number:
        return {"account_masked": "", "account_sealed": "", "account_index": ""}
    return {
        "account_masked": mask_account(number),
        "account_sealed": encrypt(number, context=ACCOUNT),
        "account_index": blind_index(number, context=ACCOUNT),
    }


# ---- programmes ------------------------------------------------------------------------------


def programme_create(
    *,
    actor: Any,
    scope: Scope,
    name: str,
    province_code: str | None,
    stages: list[str],
    categories: list[str],
    term_fen: int,
    payment_mode: str,
    quotas: dict[str, int] | None = None,
) -> AidProgramme:
    """A programme of the ministry (no province) or of the actor's province."""
    errors: dict[str, list[Any]] = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [
            field_error("required", _("Give the programme a name (100 characters at most)."))
        ]
    if not stages or any(s not in Stage.values for s in stages):
        errors["stages"] = [field_error("invalid_choice", _("Choose the stages."))]
    if not categories or any(c not in AidCategory.values for c in categories):
        errors["categories"] = [field_error("invalid_choice", _("Choose the categories."))]
    if (
        isinstance(term_fen, bool)
        or not isinstance(term_fen, int)
        or not 0 < term_fen <= 10_000_000
    ):
        errors["term_fen"] = [field_error("invalid", _("Give an amount per term in fen, above 0."))]
    if payment_mode not in PaymentMode.values:
        errors["payment_mode"] = [field_error("invalid_choice", _("Choose a payment mode."))]
    if errors:
        raise FieldErrors(errors)
    if scope.level == ScopeLevel.PROVINCE:
        if province_code and province_code != scope.division_code:
            raise NotFound("province_not_found", _("No such province in your area."))
        province_code = scope.division_code
    elif scope.level != ScopeLevel.NATION:
        raise NotFound("province_not_found", _("No such province in your area."))
    if province_code and not Division.objects.filter(code=province_code, level="province").exists():
        raise FieldErrors(
            {"province_code": [field_error("not_a_province", _("No such province."))]}
        )
    quotas = quotas or {}
    counties = set(
        Division.objects.filter(code__in=list(quotas), county_level=True).values_list(
            "code", flat=True
        )
    )
    bad = [
        code
        for code, places in quotas.items()
        if code not in counties
        or (province_code and code[:2] != province_code[:2])
        or not isinstance(places, int)
        or isinstance(places, bool)
        or places < 0
    ]
    if bad:
        raise FieldErrors(
            {
                "quotas": [
                    field_error(
                        "invalid_county", _("A quota names no county of the programme's area.")
                    )
                ]
            }
        )
    with transaction.atomic():
        if AidProgramme.objects.filter(province_id=province_code or None, name=name).exists():
            raise FieldErrors(
                {"name": [field_error("name_taken", _("A programme of this name exists."))]}
            )
        programme = AidProgramme.objects.create(
            name=name,
            province_id=province_code or None,
            stages=sorted(set(stages)),
            categories=sorted(set(categories)),
            term_fen=term_fen,
            payment_mode=payment_mode,
            created_by=actor,
        )
        AidQuota.objects.bulk_create(
            AidQuota(programme=programme, county_id=code, places=places)
            for code, places in sorted(quotas.items())
        )
        audit_record(
            actor=actor,
            action="welfare.programme_create",
            object_type="aid_programme",
            detail={"name": name, "province": province_code or ""},
            after={"term_fen": term_fen, "mode": payment_mode, "quotas": quotas},
        )
    return programme


def programmes_for(scope: Scope | None) -> Any:
    """The programmes that apply in the scope's area: the ministry's and its province's."""
    programmes = AidProgramme.objects.all()
    if scope is None:
        return programmes.none()
    if scope.level in (ScopeLevel.NATION,):
        return programmes
    province = _province_of(scope)
    return programmes.filter(Q(province__isnull=True) | Q(province_id=province))


def _province_of(scope: Scope) -> str:
    if scope.level == ScopeLevel.SCHOOL:
        from xueji.schools.models import School

        return str(
            School.objects.filter(pk=scope.school_id or 0)
            .values_list("province_id", flat=True)
            .first()
        )
    return (scope.division_code or "")[:2] + "0000"


# ---- need (困难学生认定) ---------------------------------------------------------------------


def _school_student(scope: Scope, student_id: Any) -> Student:
    student = (
        Student.objects.filter(
            pk=student_id, school_id=scope.school_id or 0, state__in=ON_ROLL_STATES
        ).first()
        if scope.level == ScopeLevel.SCHOOL
        else None
    )
    if student is None:
        raise NotFound("student_not_found", _("No such student at your school."))
    return student


def need_apply(
    *,
    actor: Any,
    scope: Scope,
    student_id: Any,
    category: str,
    family_statement: str,
    start_year: int,
) -> NeedAssessment:
    """The family's application, entered by the school."""
    student = _school_student(scope, student_id)
    errors: dict[str, list[Any]] = {}
    if category not in AidCategory.values:
        errors["category"] = [field_error("invalid_choice", _("Choose a category."))]
    statement = (family_statement or "").strip()
    if not statement or len(statement) > 500:
        errors["family_statement"] = [
            field_error("required", _("Write the family's application (500 characters at most)."))
        ]
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        try:
            with transaction.atomic():
                need = NeedAssessment.objects.create(
                    student=student,
                    school_id=student.school_id,
                    start_year=start_year,
                    category=category,
                    family_statement=statement,
                )
        except IntegrityError as error:
            raise Conflict(
                "need_exists", _("The child's need for this year is already being assessed.")
            ) from error
        audit_record(
            actor=actor,
            action="welfare.need_apply",
            object_type="need",
            object_id=need.pk,
            detail={"student": str(student.pk), "category": category, "year": start_year},
        )
    return need


def need_step(
    *, actor: Any, scope: Scope, need_id: Any, event: str, note: str = ""
) -> NeedAssessment:
    """The school assesses and publishes; the county approves or rejects."""
    with transaction.atomic():
        need = NeedAssessment.objects.select_for_update().filter(pk=need_id).first()
        if need is None:
            raise NotFound("need_not_found", _("No such assessment."))
        school = need.school
        at_school = scope.level == ScopeLevel.SCHOOL and scope.school_id == school.pk
        at_county = scope.level == ScopeLevel.COUNTY and scope.division_code == school.county_id
        if event not in SCHOOL_NEED_EVENTS + COUNTY_NEED_EVENTS:
            raise FieldErrors({"event": [field_error("invalid_choice", _("Choose a step."))]})
        allowed = (
            (event in SCHOOL_NEED_EVENTS and at_school)
            or (event in COUNTY_NEED_EVENTS and at_county)
            # The school may turn a family down before the notice.
            or (event == "reject" and at_school and need.state != NeedState.NOTICED)
        )
        if not allowed:
            raise NotFound("need_not_found", _("No such assessment."))
        if event == "assess" and not note.strip():
            raise FieldErrors(
                {"note": [field_error("required", _("Write the assessment group's finding."))]}
            )
        before = need.state
        need.state = _move(NEED_TRANSITIONS, need.state, event, NeedState)
        if event == "assess":
            need.assessment = note.strip()[:500]
        if event == "publish":
            need.notice_from = timezone.localdate()
        if event in COUNTY_NEED_EVENTS:
            need.decided_by = actor
        need.save()
        audit_record(
            actor=actor,
            action=f"welfare.need_{event}",
            object_type="need",
            object_id=need.pk,
            before={"state": before},
            after={"state": need.state},
        )
    return need


# ---- applications and awards -----------------------------------------------------------------


def national_key(student: Student, programme: AidProgramme, term: Term) -> str:
    """The key of the national claim: the record's blind index, the programme by its issuer and
    name, the term by its year and number (the same wherever the record is held)."""
    text = (
        f"{student.number_index}|{programme.province_id or 'CN'}:{programme.name}|"
        f"{term.academic_year.start_year}-{term.number}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


def aid_apply(
    *,
    actor: Any,
    scope: Scope,
    student_id: Any,
    programme_id: int,
    term_id: int,
    evidence: str,
    payee_id: Any = None,
    account: str = "",
) -> AidApplication:
    """The school applies for a child, with evidence; the payee is a guardian on the record."""
    student = _school_student(scope, student_id)
    programme = programmes_for(scope).filter(pk=programme_id, active=True).first()
    term = Term.objects.select_related("academic_year").filter(pk=term_id).first()
    errors: dict[str, list[Any]] = {}
    if programme is None:
        errors["programme_id"] = [field_error("not_found", _("No such programme for your school."))]
    if term is None:
        errors["term_id"] = [field_error("not_found", _("No such term."))]
    evidence = (evidence or "").strip()
    if not evidence or len(evidence) > 500:
        errors["evidence"] = [
            field_error("required", _("Name the evidence (500 characters at most)."))
        ]
    if errors:
        raise FieldErrors(errors)
    assert programme is not None and term is not None
    need = NeedAssessment.objects.filter(
        student=student, start_year=term.academic_year.start_year, state=NeedState.APPROVED
    ).first()
    if need is None:
        errors["student_id"] = [
            field_error(
                "no_need", _("The child's need is not approved by the county for this year.")
            )
        ]
    elif need.category not in programme.categories:
        errors["programme_id"] = [
            field_error("not_eligible", _("The child's category is not one of the programme's."))
        ]
    placement = Placement.objects.filter(student=student, end_date__isnull=True).first()
    stage = stage_of(placement.grade) if placement else None
    if stage not in programme.stages:
        errors["programme_id"] = [
            field_error("wrong_stage", _("The programme does not cover the child's stage."))
        ]
    payee = None
    fields = account_fields("")
    if programme.payment_mode in (PaymentMode.GUARDIAN_ACCOUNT, PaymentMode.ONE_CARD):
        payee = (
            FamilyMember.objects.filter(pk=payee_id, student=student, is_guardian=True).first()
            if payee_id
            else None
        )
        if payee is None:
            errors["payee_id"] = [
                field_error(
                    "not_guardian", _("The payee must be a guardian on the child's record.")
                )
            ]
    if programme.payment_mode != PaymentMode.IN_KIND:
        number = re.sub(r"\s+", "", account or "")
        if not _ACCOUNT.match(number):
            errors["account"] = [
                field_error("invalid_account", _("An account number has 12 to 30 digits."))
            ]
        else:
            fields = account_fields(number)
    if errors or need is None:
        raise FieldErrors(errors)
    with transaction.atomic():
        try:
            with transaction.atomic():
                application = AidApplication.objects.create(
                    student=student,
                    school_id=student.school_id,
                    programme=programme,
                    term=term,
                    need=need,
                    payee=payee,
                    evidence=evidence,
                    filed_by=actor,
                    **fields,
                )
        except IntegrityError as error:
            raise Conflict(
                "application_exists",
                _("The child already has an application in this programme and term."),
            ) from error
        audit_record(
            actor=actor,
            action="welfare.aid_apply",
            object_type="aid_application",
            object_id=application.pk,
            detail={"student": str(student.pk), "programme": programme.name, "term": str(term)},
        )
    return application


def _award(
    *, student: Student, programme: AidProgramme, term: Term, school_id: int, **extra: Any
) -> AidAward:
    """The award, refused when the child already has this programme for the term, here (the
    unique constraint) or anywhere in the country (the national claim, same transaction)."""
    try:
        with transaction.atomic():
            award = AidAward.objects.create(
                student=student,
                programme=programme,
                term=term,
                school_id=school_id,
                amount_fen=programme.term_fen,
                **extra,
            )
    except IntegrityError as error:
        raise Conflict(
            "aid_already_awarded", _("The child already receives this programme this term.")
        ) from error
    if not national_index().claim_once(
        purpose=NATIONAL_PURPOSE, key=national_key(student, programme, term), holder=str(award.pk)
    ):
        raise Conflict(
            "aid_already_awarded_nationally",
            _("The child already receives this programme this term elsewhere in the country."),
        )
    return award


def _county_quota_check(programme: AidProgramme, term: Term, county: str) -> None:
    quota = (
        AidQuota.objects.select_for_update().filter(programme=programme, county_id=county).first()
    )
    if quota is None:
        return
    used = AidAward.objects.filter(programme=programme, term=term, school__county_id=county).count()
    if used >= quota.places:
        raise Conflict("quota_full", _("The county's quota for this programme is used up."))


def aid_decide(
    *, actor: Any, scope: Scope, application_id: Any, decision: str, reason: str = ""
) -> AidApplication:
    """The county approves (the award is made) or rejects an application of its schools."""
    if decision not in ("approve", "reject"):
        raise FieldErrors({"decision": [field_error("invalid_choice", _("Approve or reject."))]})
    with transaction.atomic():
        application = (
            AidApplication.objects.select_for_update()
            .filter(pk=application_id, school__county_id=scope.division_code)
            .first()
            if scope.level == ScopeLevel.COUNTY
            else None
        )
        if application is None:
            raise NotFound("application_not_found", _("No such application in your county."))
        if decision == "reject" and not reason.strip():
            raise FieldErrors(
                {"reason": [field_error("required", _("Give the reason for the rejection."))]}
            )
        before = application.state
        application.state = _move(
            APPLICATION_TRANSITIONS, application.state, decision, ApplicationState
        )
        application.decided_by = actor
        application.reason = reason.strip()[:300]
        application.save(update_fields=["state", "decided_by", "reason"])
        award = None
        if decision == "approve":
            programme = application.programme
            term = Term.objects.select_related("academic_year").get(pk=application.term_id)
            _county_quota_check(programme, term, application.school.county_id)
            award = _award(
                student=application.student,
                programme=programme,
                term=term,
                school_id=application.school_id,
                application=application,
            )
        audit_record(
            actor=actor,
            action=f"welfare.aid_{decision}",
            object_type="aid_application",
            object_id=application.pk,
            before={"state": before},
            after={"state": application.state, "award": str(award.pk) if award else None},
        )
    return application


def awards_carry_forward(*, actor: Any, scope: Scope, term_id: int) -> int:
    """The awards of the previous term of the same school year follow their children to the
    school where each is placed when this term starts (a transferred child's aid goes to its new
    school). Returns how many awards were made; a child's award for the term is made once."""
    term = Term.objects.select_related("academic_year").filter(pk=term_id, number=2).first()
    if term is None or scope.level != ScopeLevel.COUNTY:
        raise NotFound("term_not_found", _("No spring term of that id."))
    earlier = Term.objects.get(academic_year=term.academic_year, number=1)
    made = 0
    with transaction.atomic():
        wanted = (
            AidAward.objects.filter(term=earlier)
            .exclude(
                student_id__in=AidAward.objects.filter(term=term).values("student_id"),
            )
            .select_related("programme", "student")
        )
        placed = {
            row["student_id"]: row
            for row in Placement.objects.filter(placed_on(term.start_date))
            .filter(
                student_id__in=wanted.values("student_id"), school__county_id=scope.division_code
            )
            .values("student_id", "school_id", "school__county_id")
        }
        for previous in wanted:
            where = placed.get(previous.student_id)
            if where is None or previous.student.state not in ON_ROLL_STATES:
                continue
            if AidAward.objects.filter(
                student_id=previous.student_id, programme=previous.programme, term=term
            ).exists():
                continue
            _award(
                student=previous.student,
                programme=previous.programme,
                term=term,
                school_id=where["school_id"],
                application=previous.application,
                carried_from=previous,
            )
            made += 1
        audit_record(
            actor=actor,
            action="welfare.aid_carry_forward",
            object_type="term",
            detail={"term": str(term), "county": scope.division_code, "awards": made},
        )
    return made


# ---- payments --------------------------------------------------------------------------------


def payments_make(*, actor: Any, scope: Scope, programme_id: int, term_id: int) -> int:
    """The payment list of the county for a programme and term: one payment per award not yet
    on a list, to the payee and account of the application (in kind: given)."""
    if scope.level != ScopeLevel.COUNTY:
        raise NotFound("county_not_found", _("Payment lists are made by a county."))
    programme = AidProgramme.objects.filter(pk=programme_id).first()
    if programme is None:
        raise NotFound("programme_not_found", _("No such programme."))
    with transaction.atomic():
        awards = (
            AidAward.objects.filter(
                programme=programme, term_id=term_id, school__county_id=scope.division_code
            )
            .exclude(pk__in=AidPayment.objects.values("award_id"))
            .select_related("application__payee", "student")
        )
        rows = []
        for award in awards:
            application = award.application
            payee = application.payee if application else None
            in_kind = programme.payment_mode == PaymentMode.IN_KIND
            rows.append(
                AidPayment(
                    award=award,
                    student_id=award.student_id,
                    programme=programme,
                    term_id=term_id,
                    county_id=scope.division_code or "",
                    mode=programme.payment_mode,
                    payee=payee,
                    payee_name=(payee.name if payee else award.student.name),
                    account_masked=application.account_masked if application else "",
                    account_sealed=application.account_sealed if application else "",
                    amount_fen=award.amount_fen,
                    state=PaymentState.IN_KIND if in_kind else PaymentState.PENDING,
                    paid_on=timezone.localdate() if in_kind else None,
                )
            )
        AidPayment.objects.bulk_create(rows)
        audit_record(
            actor=actor,
            action="welfare.payments_make",
            object_type="aid_programme",
            detail={"programme": programme.name, "term": term_id, "payments": len(rows)},
        )
    return len(rows)


BANK_HEADINGS = ["付款编号", "收款人", "账号", "金额(元)", "摘要"]


def bank_file(*, actor: Any, scope: Scope, programme_id: int, term_id: int) -> bytes:
    """The bank's payment file (CSV) of the county's payments waiting to be sent (or failed or
    returned, sent again); they become `sent`. The file carries the accounts in full (audited)."""
    import csv
    import io

    from xueji.welfare.validation import yuan

    if scope.level != ScopeLevel.COUNTY:
        raise NotFound("county_not_found", _("Payment files are made by a county."))
    with transaction.atomic():
        payments = list(
            AidPayment.objects.select_for_update()
            .filter(
                programme_id=programme_id,
                term_id=term_id,
                county_id=scope.division_code,
                state__in=[PaymentState.PENDING, PaymentState.FAILED, PaymentState.RETURNED],
            )
            .exclude(mode=PaymentMode.IN_KIND)
            .select_related("programme")
            .order_by("created_at", "id")
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(BANK_HEADINGS)
        for payment in payments:
            writer.writerow(
                [
                    str(payment.pk),
                    neutralise(payment.payee_name),
                    unseal(payment.account_sealed, context=ACCOUNT),
                    yuan(payment.amount_fen),
                    neutralise(f"{payment.programme.name} {payment.term_id}"),
                ]
            )
            payment.state = _move(PAYMENT_TRANSITIONS, payment.state, "send", PaymentState)
        AidPayment.objects.bulk_update(payments, ["state"])
        audit_record(
            actor=actor,
            action="welfare.bank_file",
            object_type="aid_programme",
            detail={"programme": programme_id, "term": term_id, "payments": len(payments)},
        )
    return out.getvalue().encode("utf-8-sig")


RESULT_WORDS = {
    "paid": "paid", "成功": "paid", "已支付": "paid",
    "failed": "failed", "失败": "failed",
    "returned": "returned", "退回": "returned", "退票": "returned",
}  # fmt: skip
RESULT_COLUMNS = [
    Column("payment", ("付款编号", "payment")),
    Column("result", ("结果", "result")),
    Column("reference", ("银行流水号", "reference")),
    Column("date", ("日期", "date")),
    Column("amount", ("金额(元)", "金额", "amount")),
]


def bank_result_import(*, actor: Any, scope: Scope, data: bytes) -> dict[str, int]:
    """The bank's result file: each payment paid, failed or returned. All or nothing; a row
    whose payment already has that result changes nothing (importing the file twice is the
    same as once)."""
    import uuid

    if scope.level != ScopeLevel.COUNTY:
        raise NotFound("county_not_found", _("Result files are loaded by a county."))
    with transaction.atomic():
        known: dict[str, AidPayment] = {}

        def check(row: dict[str, str], report: Any) -> Any:
            try:
                pk = str(uuid.UUID(row["payment"]))
            except ValueError:
                report("payment", _("Not a payment number of ours."))
                pk = ""
            result = RESULT_WORDS.get(row["result"].strip().lower())
            if result is None:
                report("result", _("The result is 成功/paid, 失败/failed or 退回/returned."))
            try:
                day = (
                    datetime.date.fromisoformat(row["date"])
                    if row["date"]
                    else timezone.localdate()
                )
            except ValueError:
                report("date", _("Write the date as YYYY-MM-DD."))
                day = None
            amount = parse_fen(row["amount"])
            if amount is None:
                report("amount", _("Write the amount in yuan, e.g. 625.00."))
            return (pk, result, row["reference"][:64], day, amount)

        rows = read_table(data, RESULT_COLUMNS, check)
        ids = [r[0] for r in rows if r and r[0]]
        known = {
            str(p.pk): p
            for p in AidPayment.objects.select_for_update().filter(
                pk__in=ids, county_id=scope.division_code
            )
        }
        from xueji.core.jobs import in_both_languages
        from xueji.welfare.validation import FileRefused, RowError

        errors: list[RowError] = []
        changed: list[AidPayment] = []
        unchanged = 0
        for number, (pk, result, reference, day, amount) in enumerate(rows, start=2):
            payment = known.get(pk)
            if payment is None:
                errors.append(
                    RowError(
                        number, "付款编号", *in_both_languages(_("No such payment of your county."))
                    )
                )
                continue
            if amount != payment.amount_fen:
                errors.append(
                    RowError(
                        number,
                        "金额(元)",
                        *in_both_languages(_("The amount differs from the payment's.")),
                    )
                )
                continue
            if payment.state == result:
                unchanged += 1
                continue
            target = PAYMENT_TRANSITIONS.get((payment.state, result))
            if target is None:
                errors.append(
                    RowError(
                        number,
                        "结果",
                        *in_both_languages(
                            _("This result is not possible for the payment's state.")
                        ),
                    )
                )
                continue
            payment.state = target
            payment.bank_reference = reference
            payment.paid_on = day if target == PaymentState.PAID else payment.paid_on
            changed.append(payment)
        if errors:
            raise FileRefused(
                "invalid_rows", _("Some rows are invalid: nothing was loaded."), errors
            )
        AidPayment.objects.bulk_update(changed, ["state", "bank_reference", "paid_on"])
        audit_record(
            actor=actor,
            action="welfare.bank_result_import",
            object_type="county",
            detail={"county": scope.division_code, "changed": len(changed), "unchanged": unchanged},
        )
    return {"changed": len(changed), "unchanged": unchanged}


# ---- 应助尽助 --------------------------------------------------------------------------------

FAMILY_COLUMNS = [
    Column("name", ("姓名", "name")),
    Column("id_number", ("身份证号", "公民身份号码", "id_number")),
]


def family_list_load(*, actor: Any, scope: Scope, category: str, data: bytes) -> int:
    """The county's list of one category (低保, 特困, 监测户, 残疾证 …) replaced by the file: names
    and ID numbers, the numbers kept only as the blind index and masked."""
    if scope.level != ScopeLevel.COUNTY:
        raise NotFound("county_not_found", _("Family lists are loaded by a county."))
    if category not in AidCategory.values:
        raise FieldErrors({"category": [field_error("invalid_choice", _("Choose a category."))]})
    seen: set[str] = set()

    def check(row: dict[str, str], report: Any) -> Any:
        name = row["name"].strip()
        if not name or len(name) > 64:
            report("name", _("A name is required (64 characters at most)."))
        number = normalize(row["id_number"])
        try:
            validate_resident_id(number)
        except Exception as error:
            messages = getattr(error, "messages", [str(error)])
            report("id_number", messages[0] if messages else _("Not a valid ID number."))
            return None
        if number in seen:
            report("id_number", _("The ID number appears twice in the file."))
        seen.add(number)
        return (name[:64], number)

    rows = read_table(data, FAMILY_COLUMNS, check)
    with transaction.atomic():
        FamilyListEntry.objects.filter(county_id=scope.division_code, category=category).delete()
        FamilyListEntry.objects.bulk_create(
            FamilyListEntry(
                county_id=scope.division_code or "",
                category=category,
                name=name,
                id_number_masked=mask_id_number(number),
                id_number_index=document_index("1", number),
                loaded_by=actor,
            )
            for name, number in rows
        )
        audit_record(
            actor=actor,
            action="welfare.family_list_load",
            object_type="county",
            detail={"county": scope.division_code, "category": category, "people": len(rows)},
        )
    return len(rows)


def entitled_unaided(*, county_code: str, term: Term) -> list[dict[str, Any]]:
    """Children on the roll of the county's schools, of a listed family (the child or a family
    member on a list), who receive no aid this term."""
    listed = FamilyListEntry.objects.filter(county_id=county_code)
    indexes = listed.values("id_number_index")
    children = (
        Student.objects.filter(school__county_id=county_code, state__in=ON_ROLL_STATES)
        .filter(
            Q(id_number_index__in=indexes)
            | Q(
                pk__in=FamilyMember.objects.filter(id_number_index__in=indexes).values("student_id")
            )
        )
        .exclude(pk__in=AidAward.objects.filter(term=term).values("student_id"))
        .select_related("school")
        .order_by("school__code", "name_pinyin")
    )
    categories: dict[str, set[str]] = {}
    for index, category in listed.values_list("id_number_index", "category"):
        categories.setdefault(index, set()).add(category)
    family: dict[Any, set[str]] = {}
    for student_id, index in FamilyMember.objects.filter(
        student_id__in=children.values("pk"), id_number_index__in=indexes
    ).values_list("student_id", "id_number_index"):
        family.setdefault(student_id, set()).update(categories.get(index, set()))
    result = []
    for child in children[:2000]:
        found = set(categories.get(child.id_number_index, set())) | family.get(child.pk, set())
        result.append(
            {
                "student": child,
                "categories": sorted(str(AidCategory(c).label) for c in found),
            }
        )
    return result


def award_counts(programme_ids: list[int], term: Term) -> dict[int, int]:
    return dict(
        AidAward.objects.filter(programme_id__in=programme_ids, term=term)
        .values("programme_id")
        .annotate(n=Count("id"))
        .values_list("programme_id", "n")
    )
