"""The welfare app's REST endpoints (mounted at /api/welfare/): funding (allocations, flows,
rates, census dates), student aid (programmes, need, applications, payments, the bank's files,
family lists), nutrition meals and the consistency findings. Amounts are integer fen."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status

from xueji.access.decorators import endpoint_requires
from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import Scope, area_q, require, students_visible
from xueji.core.api import (
    COMMON_ERRORS,
    DatabaseId,
    DivisionCode,
    ErrorOut,
    IsoDate,
    NonEmptyUploadedFile,
    Year,
    caller,
)
from xueji.core.errors import FieldErrors, NotFound
from xueji.schools.models import School, Term
from xueji.students.models import Student
from xueji.welfare import aid, checks, funding, meals, selectors
from xueji.welfare.models import AidCategory, FindingKind, PaymentMode, RateComponent, Stage
from xueji.welfare.validation import field_error

router = Router(tags=["welfare"])

ERRORS: dict[int, Any] = {404: ErrorOut, 409: ErrorOut, **COMMON_ERRORS}


def _scope(request: HttpRequest, action: str) -> Scope:
    return require(caller(request), action)


def _term(term_id: int | None) -> Term:
    term = selectors.term_of(term_id)
    if term is None:
        raise NotFound("term_not_found", _("No such term."))
    return term


class WelfareTermParams(Schema):
    term_id: DatabaseId | None = Field(None, description="The term (default: the current one).")


# ---- funding ---------------------------------------------------------------------------------


class WelfareTermOut(Schema):
    id: int
    name: str
    start_date: datetime.date
    end_date: datetime.date
    census_on: datetime.date


@router.get("/terms", response={200: list[WelfareTermOut], **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def list_terms(request: HttpRequest) -> object:
    """The terms with the day each one's funding census counts."""
    _scope(request, Action.WELFARE_VIEW)
    return [
        {
            "id": t.pk,
            "name": str(t),
            "start_date": t.start_date,
            "end_date": t.end_date,
            "census_on": funding.census_date_of(t),
        }
        for t in selectors.terms()[:40]
    ]


class WelfareSchoolAllocationOut(Schema):
    school_code: str
    school_name: str
    county_code: str
    pupils: dict[str, int]
    boarders: int
    amount_fen: int


class WelfareAllocationOut(Schema):
    term: str
    census_on: datetime.date
    pupils: int
    amount_fen: int
    counties: list[dict[str, Any]]
    schools: list[WelfareSchoolAllocationOut]


@router.get("/funding/allocation", response={200: WelfareAllocationOut, **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def funding_allocation(request: HttpRequest, params: Query[WelfareTermParams]) -> object:
    """Each school's allocation for the term in your area: pupils on the census date by stage
    (from the placement history) times the rates in force that day, for half a year."""
    scope = _scope(request, Action.WELFARE_VIEW)
    result = funding.allocation(_term(params.term_id), scope)
    return {
        "term": str(result.term),
        "census_on": result.census_on,
        "pupils": result.pupils,
        "amount_fen": result.amount_fen,
        "counties": result.by_county(),
        "schools": [
            {
                "school_code": s.code,
                "school_name": s.name,
                "county_code": s.county_code,
                "pupils": s.pupils,
                "boarders": s.boarders,
                "amount_fen": s.amount_fen,
            }
            for s in result.schools
        ],
    }


class WelfareFlowsOut(Schema):
    from_day: datetime.date | None
    to_day: datetime.date
    counties: list[dict[str, Any]]
    provinces: list[dict[str, Any]]


@router.get("/funding/flows", response={200: WelfareFlowsOut, **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def funding_flows(request: HttpRequest, params: Query[WelfareTermParams]) -> object:
    """Money that moved between counties and provinces with the children who transferred
    between the previous census and this term's (touching your area)."""
    scope = _scope(request, Action.WELFARE_VIEW)
    return funding.portability(_term(params.term_id), scope)


class WelfareRateOut(Schema):
    id: int
    province_code: str | None = Field(None, alias="province_id")
    stage: str
    component: str
    yearly_fen: int
    valid_from: datetime.date
    note: str


class WelfareRateIn(Schema):
    province_code: DivisionCode | None = Field(None, description="Empty for the nation.")
    stage: Stage
    component: RateComponent
    yearly_fen: int = Field(..., ge=0, le=10_000_000)
    valid_from: IsoDate
    note: str = Field("", max_length=200)


@router.get("/funding/rates", response={200: list[WelfareRateOut], **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def list_rates(request: HttpRequest) -> object:
    """Every rate with its history (the nation's and your province's)."""
    from xueji.welfare.models import FundingRate

    scope = _scope(request, Action.WELFARE_VIEW)
    rates = FundingRate.objects.all()
    if scope.level != ScopeLevel.NATION:
        province = aid._province_of(scope)
        rates = rates.filter(province_id__in=[province]) | rates.filter(province__isnull=True)
    return list(rates.order_by("province_id", "stage", "component", "-valid_from")[:500])


@router.post("/funding/rates", response={201: WelfareRateOut, **ERRORS})
@endpoint_requires(Action.WELFARE_SETTINGS)
def create_rate(request: HttpRequest, payload: WelfareRateIn) -> object:
    """A new dated rate (fen per pupil per year); the old ones stay as history."""
    scope = _scope(request, Action.WELFARE_SETTINGS)
    rate = funding.rate_set(
        actor=caller(request),
        scope=scope,
        province_code=payload.province_code,
        stage=payload.stage,
        component=payload.component,
        yearly_fen=payload.yearly_fen,
        valid_from=payload.valid_from,
        note=payload.note,
    )
    return Status(201, rate)


class WelfareCensusIn(Schema):
    term_id: DatabaseId
    census_on: IsoDate


def _nation_only(scope: Scope, field: str) -> None:
    if scope.level != ScopeLevel.NATION:
        raise FieldErrors({field: [field_error("nation_only", _("Only the ministry sets this."))]})


@router.post("/funding/census-dates", response={200: WelfareTermOut, **ERRORS})
@endpoint_requires(Action.WELFARE_SETTINGS)
def set_census_date(request: HttpRequest, payload: WelfareCensusIn) -> object:
    """The ministry sets a term's census date."""
    scope = _scope(request, Action.WELFARE_SETTINGS)
    _nation_only(scope, "census_on")
    found = funding.census_date_set(
        actor=caller(request), term_id=payload.term_id, census_on=payload.census_on
    )
    term = found.term
    return {
        "id": term.pk,
        "name": str(term),
        "start_date": term.start_date,
        "end_date": term.end_date,
        "census_on": found.census_on,
    }


# ---- aid -------------------------------------------------------------------------------------


class WelfareProgrammeOut(Schema):
    id: int
    name: str
    province_code: str | None = Field(None, alias="province_id")
    stages: list[str]
    categories: list[str]
    term_fen: int
    payment_mode: str
    active: bool


class WelfareProgrammeIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    province_code: DivisionCode | None = None
    stages: list[Stage] = Field(..., min_length=1)
    categories: list[AidCategory] = Field(..., min_length=1)
    term_fen: int = Field(..., ge=1, le=10_000_000)
    payment_mode: PaymentMode
    quotas: dict[str, int] = Field(
        default_factory=dict, description="County code → places per term."
    )


@router.get("/aid/programmes", response={200: list[WelfareProgrammeOut], **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def list_programmes(request: HttpRequest) -> object:
    """The ministry's programmes and your province's."""
    return list(aid.programmes_for(_scope(request, Action.WELFARE_VIEW)))


@router.post("/aid/programmes", response={201: WelfareProgrammeOut, **ERRORS})
@endpoint_requires(Action.WELFARE_SETTINGS)
def create_programme(request: HttpRequest, payload: WelfareProgrammeIn) -> object:
    """A programme of the ministry (no province) or of your province, with county quotas."""
    scope = _scope(request, Action.WELFARE_SETTINGS)
    programme = aid.programme_create(
        actor=caller(request),
        scope=scope,
        name=payload.name,
        province_code=payload.province_code,
        stages=[str(s) for s in payload.stages],
        categories=[str(c) for c in payload.categories],
        term_fen=payload.term_fen,
        payment_mode=payload.payment_mode,
        quotas=payload.quotas,
    )
    return Status(201, programme)


class WelfareNeedOut(Schema):
    id: uuid.UUID
    student_id: uuid.UUID
    school_code: str
    start_year: int
    category: str
    state: str
    notice_from: datetime.date | None


def _need_out(need: Any) -> dict[str, Any]:
    return {
        "id": need.pk,
        "student_id": need.student_id,
        "school_code": need.school.code,
        "start_year": need.start_year,
        "category": need.category,
        "state": need.state,
        "notice_from": need.notice_from,
    }


class WelfareNeedIn(Schema):
    student_id: uuid.UUID
    category: AidCategory
    family_statement: str = Field(..., min_length=1, max_length=500)
    start_year: Year | None = None


class WelfareNeedAssessIn(Schema):
    event: Literal["assess", "publish", "reject"]
    note: str = Field("", max_length=500)


class WelfareNeedDecideIn(Schema):
    decision: Literal["approve", "reject"]


@router.get("/aid/needs", response={200: list[WelfareNeedOut], **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def list_needs(request: HttpRequest) -> object:
    """Need assessments (困难学生认定) of your area."""
    scope = _scope(request, Action.WELFARE_VIEW)
    return [_need_out(n) for n in selectors.needs_visible(scope)[:500]]


@router.post("/aid/needs", response={201: WelfareNeedOut, **ERRORS})
@endpoint_requires(Action.WELFARE_SCHOOL)
def create_need(request: HttpRequest, payload: WelfareNeedIn) -> object:
    """The family's application for a child of your school."""
    from xueji.schools.models import academic_start_year

    scope = _scope(request, Action.WELFARE_SCHOOL)
    need = aid.need_apply(
        actor=caller(request),
        scope=scope,
        student_id=payload.student_id,
        category=payload.category,
        family_statement=payload.family_statement,
        start_year=payload.start_year or academic_start_year(datetime.date.today()),
    )
    return Status(201, _need_out(need))


@router.post("/aid/needs/{need_id}/assess", response={200: WelfareNeedOut, **ERRORS})
@endpoint_requires(Action.WELFARE_SCHOOL)
def assess_need(request: HttpRequest, need_id: uuid.UUID, payload: WelfareNeedAssessIn) -> object:
    """The school's assessment group records its finding, then publishes the notice."""
    scope = _scope(request, Action.WELFARE_SCHOOL)
    need = aid.need_step(
        actor=caller(request), scope=scope, need_id=need_id, event=payload.event, note=payload.note
    )
    return _need_out(need)


@router.post("/aid/needs/{need_id}/decide", response={200: WelfareNeedOut, **ERRORS})
@endpoint_requires(Action.WELFARE_COUNTY)
def decide_need(request: HttpRequest, need_id: uuid.UUID, payload: WelfareNeedDecideIn) -> object:
    """The county approves or rejects a need after its public notice."""
    scope = _scope(request, Action.WELFARE_COUNTY)
    need = aid.need_step(
        actor=caller(request), scope=scope, need_id=need_id, event=payload.decision
    )
    return _need_out(need)


class WelfareApplicationOut(Schema):
    id: uuid.UUID
    student_id: uuid.UUID
    student_name: str
    school_code: str
    programme: str
    term: str
    state: str
    payee_relation: str
    account_masked: str
    evidence: str
    reason: str


def _application_out(a: Any) -> dict[str, Any]:
    return {
        "id": a.pk,
        "student_id": a.student_id,
        "student_name": selectors.masked_name(a.student.name),
        "school_code": a.school.code,
        "programme": a.programme.name,
        "term": str(a.term),
        "state": a.state,
        "payee_relation": a.payee.get_relation_display() if a.payee else "",
        "account_masked": a.account_masked,
        "evidence": a.evidence,
        "reason": a.reason,
    }


class WelfareApplicationIn(Schema):
    student_id: uuid.UUID
    programme_id: DatabaseId
    term_id: DatabaseId
    evidence: str = Field(..., min_length=1, max_length=500)
    payee_id: uuid.UUID | None = None
    account: str = Field("", max_length=40)


class WelfareDecisionIn(Schema):
    decision: Literal["approve", "reject"]
    reason: str = Field("", max_length=300)


@router.get("/aid/applications", response={200: list[WelfareApplicationOut], **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def list_applications(request: HttpRequest, params: Query[WelfareTermParams]) -> object:
    """Aid applications of your area (names masked)."""
    scope = _scope(request, Action.WELFARE_VIEW)
    found = selectors.applications_visible(scope)
    if params.term_id:
        found = found.filter(term_id=params.term_id)
    return [_application_out(a) for a in found[:500]]


@router.post("/aid/applications", response={201: WelfareApplicationOut, **ERRORS})
@endpoint_requires(Action.WELFARE_SCHOOL)
def create_application(request: HttpRequest, payload: WelfareApplicationIn) -> object:
    """The school applies for a child (need approved), naming the evidence and the payee."""
    scope = _scope(request, Action.WELFARE_SCHOOL)
    application = aid.aid_apply(
        actor=caller(request),
        scope=scope,
        student_id=payload.student_id,
        programme_id=payload.programme_id,
        term_id=payload.term_id,
        evidence=payload.evidence,
        payee_id=payload.payee_id,
        account=payload.account,
    )
    return Status(201, _application_out(application))


@router.post(
    "/aid/applications/{application_id}/decide", response={200: WelfareApplicationOut, **ERRORS}
)
@endpoint_requires(Action.WELFARE_COUNTY)
def decide_application(
    request: HttpRequest, application_id: uuid.UUID, payload: WelfareDecisionIn
) -> object:
    """The county approves (the award is made: once per child, programme and term in the
    country) or rejects with a reason."""
    scope = _scope(request, Action.WELFARE_COUNTY)
    application = aid.aid_decide(
        actor=caller(request),
        scope=scope,
        application_id=application_id,
        decision=payload.decision,
        reason=payload.reason,
    )
    return _application_out(application)


class WelfareTermIn(Schema):
    term_id: DatabaseId


class WelfareCountOut(Schema):
    count: int


@router.post("/aid/carry-forward", response={200: WelfareCountOut, **ERRORS})
@endpoint_requires(Action.WELFARE_COUNTY)
def carry_forward(request: HttpRequest, payload: WelfareTermIn) -> object:
    """The autumn term's awards follow their children into the spring term, at the school of
    your county where each is placed then (a transferred child's aid goes with it)."""
    scope = _scope(request, Action.WELFARE_COUNTY)
    term = Term.objects.filter(pk=payload.term_id, number=2).first()
    if term is None:
        raise FieldErrors({"term_id": [field_error("not_spring", _("Name a spring term."))]})
    return {"count": aid.awards_carry_forward(actor=caller(request), scope=scope, term_id=term.pk)}


class WelfarePaymentsIn(Schema):
    programme_id: DatabaseId
    term_id: DatabaseId


def _programme_term(payload: WelfarePaymentsIn) -> None:
    from xueji.welfare.models import AidProgramme

    errors: dict[str, list[Any]] = {}
    if not AidProgramme.objects.filter(pk=payload.programme_id).exists():
        errors["programme_id"] = [field_error("not_found", _("No such programme."))]
    if not Term.objects.filter(pk=payload.term_id).exists():
        errors["term_id"] = [field_error("not_found", _("No such term."))]
    if errors:
        raise FieldErrors(errors)


@router.post("/aid/payments", response={200: WelfareCountOut, **ERRORS})
@endpoint_requires(Action.WELFARE_COUNTY)
def make_payments(request: HttpRequest, payload: WelfarePaymentsIn) -> object:
    """The county's payment list of a programme and term (awards not yet on a list)."""
    scope = _scope(request, Action.WELFARE_COUNTY)
    _programme_term(payload)
    made = aid.payments_make(
        actor=caller(request),
        scope=scope,
        programme_id=payload.programme_id,
        term_id=payload.term_id,
    )
    return {"count": made}


class WelfarePaymentOut(Schema):
    id: uuid.UUID
    student_id: uuid.UUID
    student_name: str
    programme: str
    term_id: int
    mode: str
    payee_name: str
    account_masked: str
    amount_fen: int
    state: str
    paid_on: datetime.date | None


class WelfarePaymentParams(Schema):
    term_id: DatabaseId | None = None
    programme_id: DatabaseId | None = None


@router.get("/aid/payments", response={200: list[WelfarePaymentOut], **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def list_payments(request: HttpRequest, params: Query[WelfarePaymentParams]) -> object:
    """Payments of your area with their state (names masked, accounts masked)."""
    scope = _scope(request, Action.WELFARE_VIEW)
    found = selectors.payments_visible(scope)
    if params.term_id:
        found = found.filter(term_id=params.term_id)
    if params.programme_id:
        found = found.filter(programme_id=params.programme_id)
    return [
        {
            "id": p.pk,
            "student_id": p.student_id,
            "student_name": selectors.masked_name(p.student.name),
            "programme": p.programme.name,
            "term_id": p.term_id,
            "mode": p.mode,
            "payee_name": selectors.masked_name(p.payee_name),
            "account_masked": p.account_masked,
            "amount_fen": p.amount_fen,
            "state": p.state,
            "paid_on": p.paid_on,
        }
        for p in found[:1000]
    ]


@router.post("/aid/bank-file", response={200: None, **ERRORS})
@endpoint_requires(Action.WELFARE_COUNTY)
def bank_payment_file(request: HttpRequest, payload: WelfarePaymentsIn) -> HttpResponse:
    """The bank's payment file (CSV, accounts in full, audited) of the payments waiting; they
    become `sent`."""
    scope = _scope(request, Action.WELFARE_COUNTY)
    _programme_term(payload)
    data = aid.bank_file(
        actor=caller(request),
        scope=scope,
        programme_id=payload.programme_id,
        term_id=payload.term_id,
    )
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="xueji-aid-payments.csv"'
    return response


class WelfareImportOut(Schema):
    changed: int
    unchanged: int


@router.post("/aid/bank-results", response={200: WelfareImportOut, **ERRORS})
@endpoint_requires(Action.WELFARE_COUNTY)
def bank_results(request: HttpRequest, file: File[NonEmptyUploadedFile]) -> object:
    """The bank's result file (付款编号, 结果, 银行流水号, 日期, 金额(元)): all or nothing; a
    result already recorded changes nothing."""
    scope = _scope(request, Action.WELFARE_COUNTY)
    return aid.bank_result_import(actor=caller(request), scope=scope, data=file.read())


@router.post("/aid/family-lists", response={200: WelfareCountOut, **ERRORS})
@endpoint_requires(Action.WELFARE_COUNTY)
def family_lists(
    request: HttpRequest, file: File[NonEmptyUploadedFile], category: Form[AidCategory]
) -> object:
    """The county's list of one category (姓名, 身份证号), replacing the one loaded before."""
    scope = _scope(request, Action.WELFARE_COUNTY)
    count = aid.family_list_load(
        actor=caller(request), scope=scope, category=category, data=file.read()
    )
    return {"count": count}


class WelfareEntitledOut(Schema):
    student_id: uuid.UUID
    student_name: str
    school_code: str
    categories: list[str]


@router.get("/aid/entitled", response={200: list[WelfareEntitledOut], **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def entitled(request: HttpRequest, params: Query[WelfareTermParams]) -> object:
    """应助尽助: children of listed families enrolled in your county who receive no aid this
    term (a county's view; other levels see an empty list)."""
    scope = _scope(request, Action.WELFARE_VIEW)
    if scope.level != ScopeLevel.COUNTY:
        return []
    return [
        {
            "student_id": row["student"].pk,
            "student_name": selectors.masked_name(row["student"].name),
            "school_code": row["student"].school.code,
            "categories": row["categories"],
        }
        for row in aid.entitled_unaided(
            county_code=scope.division_code or "", term=_term(params.term_id)
        )
    ]


def _visible_student(scope: Scope, student_id: uuid.UUID) -> Student:
    student = (
        Student.objects.filter(students_visible(scope, Action.STUDENT_VIEW))
        .filter(pk=student_id)
        .first()
    )
    if student is None:
        raise NotFound("student_not_found", _("No such student."))
    return student


class WelfareAidReceivedOut(Schema):
    programme: str
    term: str
    amount_fen: int
    state: str


@router.get("/students/{student_id}/aid", response={200: list[WelfareAidReceivedOut], **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def student_aid(request: HttpRequest, student_id: uuid.UUID) -> object:
    """The aid a child of your area received."""
    scope = _scope(request, Action.WELFARE_VIEW)
    student = _visible_student(scope, student_id)
    return selectors.aid_received(student_id=student.pk)


# ---- meals -----------------------------------------------------------------------------------


class WelfareMealLookupOut(Schema):
    ate: bool
    day: datetime.date
    school: str
    menu: str


class WelfareDayParams(Schema):
    day: IsoDate | None = None


@router.get("/students/{student_id}/meals", response={200: WelfareMealLookupOut, **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def student_meal(
    request: HttpRequest, student_id: uuid.UUID, params: Query[WelfareDayParams]
) -> object:
    """Did the child eat the subsidised meal on the day, and what was served."""
    scope = _scope(request, Action.WELFARE_VIEW)
    student = _visible_student(scope, student_id)
    return meals.meal_lookup(student.pk, params.day or datetime.date.today())


def _visible_school(scope: Scope, school_id: int) -> School:
    school = School.objects.filter(area_q(scope, "")).filter(pk=school_id).first()
    if school is None:
        raise NotFound("school_not_found", _("No such school."))
    return school


class WelfareMealDayOut(Schema):
    day: datetime.date
    menu: str
    companions: str
    daily_fen: int


@router.get("/meals/schools/{school_id}/week", response={200: list[WelfareMealDayOut], **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def meal_week(
    request: HttpRequest, school_id: DatabaseId, params: Query[WelfareDayParams]
) -> object:
    """The school's menu of the week holding the day (its public notice)."""
    scope = _scope(request, Action.WELFARE_VIEW)
    school = _visible_school(scope, school_id)
    return meals.week_menu(school.pk, params.day or datetime.date.today())


class WelfareMonthParams(Schema):
    year: Year | None = None
    month: int | None = Field(None, ge=1, le=12)


class WelfareClaimOut(Schema):
    school_code: str
    year: int
    month: int
    meals: int
    children: int
    amount_fen: int
    days: list[dict[str, Any]]


@router.get("/meals/schools/{school_id}/claim", response={200: WelfareClaimOut, **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def meal_claim(
    request: HttpRequest, school_id: DatabaseId, params: Query[WelfareMonthParams]
) -> object:
    """The school's monthly claim: meals times the day's rate, by day, with the children."""
    scope = _scope(request, Action.WELFARE_VIEW)
    school = _visible_school(scope, school_id)
    today = datetime.date.today()
    claim = meals.monthly_claim(
        school, params.year or today.year, params.month or today.month, with_children=True
    )
    return {
        "school_code": school.code,
        "year": claim.year,
        "month": claim.month,
        "meals": claim.meals,
        "children": claim.children,
        "amount_fen": claim.amount_fen,
        "days": [
            {
                "day": str(d["day"]),
                "menu": d["menu"],
                "meals": d["meals"],
                "daily_fen": d["daily_fen"],
                "amount_fen": d["amount_fen"],
                "student_ids": [str(c) for c in d["children"]],
            }
            for d in claim.days
        ],
    }


class WelfareMealDayIn(Schema):
    day: IsoDate
    menu: str = Field(..., min_length=1, max_length=300)
    companions: str = Field(..., min_length=1, max_length=200)
    student_ids: list[uuid.UUID] | None = Field(
        None, description="Who ate; by default the children present in the day's attendance."
    )


class WelfareMealDayCreatedOut(Schema):
    id: uuid.UUID
    day: datetime.date
    children: int


@router.post("/meals/days", response={201: WelfareMealDayCreatedOut, **ERRORS})
@endpoint_requires(Action.WELFARE_SCHOOL)
def record_meal_day(request: HttpRequest, payload: WelfareMealDayIn) -> object:
    """The canteen's day at your school: the menu, the teachers eating with the pupils (陪餐),
    and who ate."""
    from xueji.welfare.models import MealServed

    scope = _scope(request, Action.WELFARE_SCHOOL)
    meal_day = meals.meal_day_record(
        actor=caller(request),
        scope=scope,
        day=payload.day,
        menu=payload.menu,
        companions=payload.companions,
        student_ids=payload.student_ids,
    )
    count = MealServed.objects.filter(meal_day=meal_day).count()
    return Status(201, {"id": meal_day.pk, "day": meal_day.day, "children": count})


class WelfareMealCountyIn(Schema):
    county_code: DivisionCode
    since: IsoDate
    urban_rural: list[str] = Field(default_factory=list)


@router.post("/meals/counties", response={200: WelfareCountOut, **ERRORS})
@endpoint_requires(Action.WELFARE_SETTINGS)
def set_meal_county(request: HttpRequest, payload: WelfareMealCountyIn) -> object:
    """List a county of your area in the meals programme (with the urban–rural codes whose
    compulsory schools take part); answers the number of programme schools of the county."""
    scope = _scope(request, Action.WELFARE_SETTINGS)
    meals.meal_county_set(
        actor=caller(request),
        scope=scope,
        county_code=payload.county_code,
        since=payload.since,
        urban_rural=payload.urban_rural,
    )
    count = School.objects.filter(
        meals.programme_schools(payload.since), county_id=payload.county_code
    ).count()
    return {"count": count}


class WelfareMealRateIn(Schema):
    daily_fen: int = Field(..., ge=1, le=10_000)
    valid_from: IsoDate


@router.post("/meals/rates", response={200: WelfareCountOut, **ERRORS})
@endpoint_requires(Action.WELFARE_SETTINGS)
def set_meal_rate(request: HttpRequest, payload: WelfareMealRateIn) -> object:
    """The ministry sets the subsidy per child per school day from a date."""
    scope = _scope(request, Action.WELFARE_SETTINGS)
    _nation_only(scope, "daily_fen")
    rate = meals.meal_rate_set(
        actor=caller(request), daily_fen=payload.daily_fen, valid_from=payload.valid_from
    )
    return {"count": rate.daily_fen}


# ---- consistency findings --------------------------------------------------------------------


class WelfareFindingOut(Schema):
    id: uuid.UUID
    kind: str
    kind_label: str
    school_code: str
    school_name: str
    county_code: str
    term: str
    detail: dict[str, Any]
    children: int
    still_found: bool
    explanation: str


class WelfareFindingDetailOut(WelfareFindingOut):
    students: list[dict[str, Any]]


def _finding_out(f: Any) -> dict[str, Any]:
    return {
        "id": f.pk,
        "kind": f.kind,
        "kind_label": str(FindingKind(f.kind).label),
        "school_code": f.school.code,
        "school_name": f.school.name,
        "county_code": f.county_id,
        "term": str(f.term),
        "detail": f.detail,
        "children": len(f.student_ids),
        "still_found": f.still_found,
        "explanation": f.explanation,
    }


class WelfareFindingParams(Schema):
    term_id: DatabaseId | None = None
    kind: FindingKind | None = None


@router.get("/findings", response={200: list[WelfareFindingOut], **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def list_findings(request: HttpRequest, params: Query[WelfareFindingParams]) -> object:
    """The consistency findings of your area."""
    scope = _scope(request, Action.WELFARE_VIEW)
    found = selectors.findings_visible(scope)
    if params.term_id:
        found = found.filter(term_id=params.term_id)
    if params.kind:
        found = found.filter(kind=params.kind)
    return [_finding_out(f) for f in found[:1000]]


@router.get("/findings/{finding_id}", response={200: WelfareFindingDetailOut, **ERRORS})
@endpoint_requires(Action.WELFARE_VIEW)
def get_finding(request: HttpRequest, finding_id: uuid.UUID) -> object:
    """A finding with the children behind it (names masked)."""
    scope = _scope(request, Action.WELFARE_VIEW)
    finding = selectors.findings_visible(scope).filter(pk=finding_id).first()
    if finding is None:
        raise NotFound("finding_not_found", _("No such finding."))
    students = Student.objects.filter(pk__in=finding.student_ids).order_by("name_pinyin")
    return {
        **_finding_out(finding),
        "students": [
            {"id": str(s.pk), "name": selectors.masked_name(s.name), "number": s.number_masked}
            for s in students
        ],
    }


class WelfareExplainIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


@router.post("/findings/{finding_id}/explain", response={200: WelfareFindingOut, **ERRORS})
@endpoint_requires(Action.WELFARE_COUNTY)
def explain_finding(
    request: HttpRequest, finding_id: uuid.UUID, payload: WelfareExplainIn
) -> object:
    """The county explains a finding with a reason (audited)."""
    scope = _scope(request, Action.WELFARE_COUNTY)
    finding = checks.finding_explain(
        actor=caller(request), scope=scope, finding_id=finding_id, reason=payload.reason
    )
    return _finding_out(finding)


class WelfareRunOut(Schema):
    term: str
    area: str
    findings: int


@router.post("/checks/run", response={200: WelfareRunOut, **ERRORS})
@endpoint_requires(Action.WELFARE_CHECK)
def run_checks(request: HttpRequest, payload: WelfareTermIn) -> object:
    """Refresh the consistency checks of the term in your area now."""
    scope = _scope(request, Action.WELFARE_CHECK)
    run = checks.checks_run(actor=caller(request), scope=scope, term=_term(payload.term_id))
    return {"term": str(run.term), "area": run.area, "findings": run.findings}


@router.post("/finance-figures", response={200: WelfareCountOut, **ERRORS})
@endpoint_requires(Action.WELFARE_COUNTY)
def finance_figures(
    request: HttpRequest, file: File[NonEmptyUploadedFile], term_id: Form[DatabaseId]
) -> object:
    """The finance system's head count and amount per school of your county for the term
    (学校代码, 拨款人数, 拨款金额(元)), all or nothing."""
    scope = _scope(request, Action.WELFARE_COUNTY)
    term = _term(term_id)
    return {
        "count": checks.finance_figures_load(
            actor=caller(request), scope=scope, term=term, data=file.read()
        )
    }
