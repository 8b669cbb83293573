"""The generated permission-matrix test: every role at every level it is held at × every page
URL (introspected from config.urls) and every API endpoint (introspected from the ninja API) ×
an object inside and objects outside the user's scope, asserting allowed or refused as the
matrix (xueji.access.policy) says. The count of checked combinations is printed.

Every page and endpoint must declare the action it performs (@requires / @endpoint_requires);
one that does not fails here. A request that changes something is rolled back after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from xueji.access.decorators import action_of
from xueji.access.policy import allowed
from xueji.attendance.tests import matrix_objects as attendance_objects
from xueji.federation.tests import matrix_objects as federation_objects
from xueji.identity.tests import matrix_objects as identity_objects
from xueji.reporting.tests import matrix_objects as reporting_objects
from xueji.testing.api import api_as
from xueji.testing.factories import resident_id, student_data
from xueji.welfare.tests import matrix_objects as welfare_objects

from .world import Actor, Place, World

pytestmark = pytest.mark.django_db

# Pages anyone may open, signed in or not.
PUBLIC = {
    "access:login",
    "access:logout",
    "set_language",
    # The archive (issue 24): a certificate's verification page (its QR code) and the keys.
    "archive:certificate_public",
    "archive:signing_keys",
    # Federation (issue 25): health and readiness for the process manager (no data).
    "federation:healthz",
    "federation:readyz",
}
PUBLIC_API = {"api:openapi-json", "api:openapi-view", "api:api-root"}

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Route:
    kind: str  # "page" or "api"
    name: str
    template: str  # the URL with <converter:name> parameters
    method: str  # "GET", "POST" or "" (find out: GET, else POST)
    action: str | None
    function: str

    @property
    def params(self) -> list[str]:
        return [name for _conv, name in _PARAM.findall(self.template)]

    def __str__(self) -> str:
        return f"{self.kind} {self.method or 'GET/POST'} {self.template} ({self.name})"


def _pages(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("api/"):
                continue
            inner = entry.namespace or ""
            joined = ":".join(part for part in (namespace, inner) if part)
            yield from _pages(entry.url_patterns, route, joined)
        elif isinstance(entry, URLPattern):
            name = ":".join(part for part in (namespace, entry.name or "") if part)
            yield Route("page", name, "/" + route, "", action_of(entry.callback), entry.lookup_str)


def _endpoints() -> Iterator[Route]:
    from ninja.utils import normalize_path, replace_path_param_notation

    from config.api import api

    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            route = "/".join(
                part
                for part in (
                    replace_path_param_notation(bound.prefix),
                    replace_path_param_notation(path),
                )
                if part
            )
            route = normalize_path(route).lstrip("/")
            for operation in path_view.operations:
                for method in operation.methods:
                    yield Route(
                        "api",
                        operation.view_func.__name__,
                        "/api/" + route,
                        method,
                        action_of(operation.view_func),
                        operation.view_func.__name__,
                    )


def all_routes() -> list[Route]:
    routes = [r for r in _pages(get_resolver().url_patterns) if r.name not in PUBLIC]
    return routes + list(_endpoints())


# ---- objects named by URL parameters -------------------------------------------------------


def _value(param: str, place: Place, actor: Actor | None) -> Any:
    values: dict[str, Callable[[], Any]] = {
        "student_id": lambda: place.student.pk,
        "class_id": lambda: place.school_class.pk,
        "school_id": lambda: place.school.pk,
        "correction_id": lambda: place.correction.pk,
        "evidence_id": lambda: place.evidence.pk,
        "window_id": lambda: place.window.pk,
        "assignment_id": lambda: place.assignment.pk,
        "code": lambda: place.county.code,
        "run_id": lambda: _yearend_run(place).pk,
        "change_id": lambda: place.change.pk,
        "change_evidence_id": lambda: place.change_evidence.pk,
        "job_id": lambda: _import_job(place).pk,
        "export_id": lambda: _export_job(place, actor).pk,
        "period_id": lambda: _closed_period(place).pk,
        "province_code": lambda: place.county.code[:2],
        # An account of the place: its school's registrar, who registered its student.
        "user_id": lambda: place.student.events.first().actor.pk,
        # The archive (issue 24): a certificate issued by the place's school, a sanction.
        "certificate_id": lambda: _certificate(place).pk,
        "conduct_id": lambda: _conduct(place).pk,
        "file_job_id": lambda: _file_job(place, actor).pk,
        # Money that follows the record (welfare, issue 23): a need, an application, a finding.
        "need_id": lambda: welfare_objects.need(place).pk,
        "application_id": lambda: welfare_objects.application(place).pk,
        "finding_id": lambda: welfare_objects.finding(place).pk,
        # Daily attendance and dropout control (issue 22): a case of the place's child.
        "case_id": lambda: attendance_objects.case(place).pk,
        "bus_route_id": lambda: attendance_objects.bus_route(place).pk,
        # The statistics report (reporting, issue 26): the report of the place's school.
        "unit_id": lambda: reporting_objects.unit(place).pk,
        # Identity (issue 21): a pair of the place's child, a child of its county with no record.
        "pair_id": lambda: identity_objects.pair(place).pk,
        "unrecorded_id": lambda: identity_objects.unrecorded(place).pk,
        # 县级审核: a registration of the place's school waiting for its county's review.
        "registration_id": lambda: identity_objects.registration(place).pk,
        # Federation (issue 25): a transfer between provinces of the place's child.
        "transfer_id": lambda: federation_objects.transfer(place).pk,
        "cross_evidence_id": lambda: federation_objects.evidence(place).pk,
        "remote_pair_id": lambda: federation_objects.remote_pair(place).pk,
    }
    if param not in values:
        raise AssertionError(f"no test object for the URL parameter {param!r}: add one")
    return values[param]()


def _certificate(place: Place) -> Any:
    """A certificate of the place's student, issued by its school's registrar (once a place)."""
    from xueji.archive.models import Certificate
    from xueji.archive.services.certificates import certificate_issue

    return Certificate.objects.filter(student=place.student).first() or certificate_issue(
        actor=place.student.events.first().actor,
        student_id=place.student.pk,
        requested_by="家长",
    )


def _this_year() -> int:
    from xueji.access.scope import today
    from xueji.schools.models import academic_start_year

    return academic_start_year(today())


def _a_term() -> Any:
    from xueji.schools.models import Term

    return Term.objects.order_by("start_date").first()


def _file_job(place: Place, actor: Actor | None) -> Any:
    """An electronic file of the place's student: the actor's own inside its area, someone
    else's outside it (only its requester opens a file)."""
    from xueji.archive.models import FileJob

    owner = (
        actor.user
        if actor is not None and place is actor.inside
        else place.student.events.first().actor
    )
    return FileJob.objects.create(student=place.student, created_by=owner)


def _conduct(place: Place) -> Any:
    """A sanction of the place's student, decided by its school (once a place)."""
    from xueji.archive.models import Conduct

    return Conduct.objects.filter(student=place.student).first() or Conduct.objects.create(
        student=place.student,
        school=place.school,
        grade=place.school_class.grade,
        kind="sanction",
        level="warning",
        title="迟到",
        decided_on=place.student.birth_date,
        issuer="学校",
        evidence="校发〔2026〕1号",
        entered_by=place.student.events.first().actor,
    )


def _yearend_run(place: Place) -> Any:
    """A planned promotion of the place's school (made once per school)."""
    from xueji.yearend.models import RunKind, RunState, YearEndRun

    return YearEndRun.objects.get_or_create(
        kind=RunKind.PROMOTE,
        scope_level="school",
        scope_code=place.school.code,
        from_year=2026,
        defaults={"state": RunState.PLANNED, "scope_name": place.school.name},
    )[0]


def _closed_period(place: Place) -> Any:
    """A closed period of transfers set by the place's province (made once per province)."""
    import datetime

    from xueji.changes.models import ClosedPeriod

    return ClosedPeriod.objects.get_or_create(
        operation="transfer",
        division_id=place.county.code[:2] + "0000",
        defaults={"starts_on": datetime.date(2026, 8, 15), "ends_on": datetime.date(2026, 8, 31)},
    )[0]


# URL parameters that name no object of a scope, with a value that exists.
SAMPLES = {"page": "grade-age-sex", "key": "grade-age-sex", "fmt": "csv", "purpose": "students"}


def _import_job(place: Place) -> Any:
    """An import of the place's school (made once per school)."""
    from xueji.imports.models import ImportJob, JobState

    job = ImportJob.objects.filter(school=place.school).first()
    return job or ImportJob.objects.create(
        school=place.school,
        purpose="students",
        state=JobState.INVALID,
        sha256="0" * 64,
        filename="students.csv",
        kind="csv:utf-8-sig",
        created_by=place.student.events.first().actor,
    )


def _export_job(place: Place, actor: Actor | None) -> Any:
    """A background export: the actor's own at the place inside their area, someone else's at
    a place outside it (only its requester may open an export, whoever else sees the records)."""
    from django.utils import timezone

    from xueji.exports.models import ExportJob

    owner = (
        actor.user
        if actor is not None and place is actor.inside
        else place.student.events.first().actor
    )
    return ExportJob.objects.create(
        table="records", fmt="xlsx", criteria_sealed="-", language="zh-hans",
        name="学籍名单", created_by=owner, expires_at=timezone.now(),
    )  # fmt: skip


def _object_params(route: Route) -> list[str]:
    return [name for name in route.params if name not in SAMPLES]


def _url(route: Route, place: Place | None, actor: Actor | None = None) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        if name in SAMPLES:
            return SAMPLES[name]
        assert place is not None
        return str(_value(name, place, actor))

    return _PARAM.sub(fill, route.template)


# The body an API endpoint that takes one gets, for an object in or out of scope.
def _api_body(route: Route, place: Place | None) -> dict[str, Any] | None:
    target = place
    bodies: dict[str, Callable[[], dict[str, Any]]] = {
        "register_student": lambda: {
            "school_class_id": (target or _fallback).school_class.pk,
            **{
                key: value
                for key, value in vars(student_data(name="孙小明", id_number=resident_id())).items()
                if key != "family"
            },
            "family": [
                {"relation": "1", "name": "孙伟", "is_guardian": True, "phone": "13800138000"}
            ],
        },
        "lookup_student": lambda: {"number": (target or _fallback).student.reveal_student_number()},
        "search_students_by_body": lambda: {"q": "", "limit": 5},
        "search_entries_by_body": lambda: {"action": "student.", "limit": 5},
        "assign_resident_id": lambda: {"id_number": resident_id()},
        "reveal_numbers": lambda: {},
        # Changes of status: a transfer of another province's child (found by number and name,
        # whatever the caller's area), the other kinds by the student's UUID.
        "change_lookup_transfer": lambda: _transfer_child(),
        "change_file_transfer": lambda: {
            **_transfer_child(),
            "to_class_id": _fallback.school_class.pk,
            "reason": "随父母工作调动",
        },
        "change_file_request": lambda: {
            "student_id": (target or _fallback).student.pk,
            "kind": "suspend",
            "reason": "病休",
        },
        "change_school_decision": lambda: {"decision": "approve"},
        "change_bureau_decision": lambda: {"decision": "approve"},
        "change_withdraw_request": lambda: {},
        "plan_run": lambda: {"kind": "promote", "scope": (target or _fallback).school.code},
        "start_run": lambda: {},
        "reverse_run": lambda: {"note": ""},
        "admit_graduates": lambda: {
            "school_class_id": (target or _fallback).school_class.pk,
            "student_numbers": [(target or _fallback).student.reveal_student_number()],
        },
        "upload_import": lambda: {"purpose": "students"},
        # Accounts: a registrar of the place's school (created, or the account edited), and the
        # account's own actions; the successor of a hand-over is the account itself (refused
        # as a field error once allowed).
        "create_account": lambda: {
            "login_name": "matrix_registrar",
            "name": "矩阵",
            "role": "registrar",
            "school_code": (target or _fallback).school.code,
        },
        "edit_account": lambda: {
            "name": "矩阵",
            "role": "registrar",
            "school_code": (target or _fallback).school.code,
        },
        "seal_account": lambda: {"note": "matrix"},
        "reopen_account": lambda: {},
        "remove_account": lambda: {"reason": "matrix"},
        "reset_password": lambda: {},
        "hand_over": lambda: {
            "successor_id": (target or _fallback).student.events.first().actor.pk
        },
        "accounts_from_sheet": lambda: {"create": "false"},
        # The registry of schools: a school registered in the place's county, the place's
        # school renamed, closed, merged into itself (refused as a field error once allowed).
        "register_school": lambda: {
            "code": "2199999901",
            "name": "矩阵测试小学",
            "kind": "primary",
            "county_code": (target or _fallback).county.code,
            "address": "测试路1号",
            "urban_rural": "111",
        },
        "update_school": lambda: {"name": "矩阵测试改名小学"},
        "close_school": lambda: {},
        "merge_school": lambda: {"into_school_id": (target or _fallback).school.pk, "pupils": 0},
        # A school year's set-up (issue 19): a class of grade 1 opened, the place's class left
        # without a class teacher or removed (409: it has a child once allowed), a copy of a
        # plan that has changed (409 once allowed).
        "class_add": lambda: {"year": _this_year(), "grade": 1, "number": 9},
        "class_teacher_name": lambda: {"class_teacher_id": None},
        "class_delete": lambda: {},
        "copy_up": lambda: {"year": _this_year(), "confirmed": 99},
        # A guardian's check sheet of the place's child, returned confirmed (issue 19).
        "guardian_check_add": lambda: {"outcome": "confirmed"},
        # Subject assignments (issue 19): the place's teacher given music in the place's class.
        "teaching_add": lambda: {
            "class_id": (target or _fallback).school_class.pk,
            "subject": "music",
            "teacher_id": (target or _fallback).assignment.teacher_id,
        },
        "teaching_end": lambda: {},
        # Closed periods and province rules (issue 19): transfers closed some months ahead,
        # the place's province's period moved or lifted, its rules given again.
        "period_add": lambda: {
            "operation": "transfer",
            "starts_on": "2027-08-15",
            "ends_on": "2027-08-31",
        },
        "periods_adopt": lambda: {"operation": "verification"},
        "period_change": lambda: {"starts_on": "2027-08-16", "ends_on": "2027-08-31"},
        "period_lift": lambda: {"reason": "矩阵"},
        "province_rules_set": lambda: {
            "rules": {"no_transfer_in_graduating_grade": True, "same_grade_only": True},
            "reason": "矩阵",
        },
        # An account's second factor: a code for the place's registrar, a reset (nothing to
        # reset: a 409 once allowed).
        "second_factor_code": lambda: {},
        "second_factor_reset_lost": lambda: {},
        # The archive (issue 24): the growth record's writes, a certificate of the place's
        # child, a withdrawal and a lifting with their reason.
        "save_term_report": lambda: {"term": _a_term().pk, "comment": "认真", "moral": "A"},
        "add_factual_record": lambda: {
            "term": _a_term().pk,
            "dimension": "social",
            "title": "志愿服务",
            "occurred_on": "2026-09-01",
            "source": "parent",
        },
        "add_conduct": lambda: {
            "kind": "award",
            "title": "三好学生",
            "decided_on": "2026-09-01",
            "issuer": "学校",
            "evidence": "校发〔2026〕1号",
        },
        "lift_conduct": lambda: {"reason": "矩阵"},
        "add_health_check": lambda: {
            "checked_on": "2026-09-01",
            "height_cm": "120",
            "weight_kg": "22",
        },
        "add_vaccination": lambda: {"vaccine": "乙肝疫苗", "dose": 1, "given_on": "2026-09-01"},
        "issue_certificate": lambda: {
            "student_id": str((target or _fallback).student.pk),
            "requested_by": "家长",
        },
        "revoke_certificate": lambda: {"reason": "矩阵"},
        # Money that follows the record (welfare, issue 23).
        **welfare_objects.bodies(target or _fallback),
        # Daily attendance and dropout control (issue 22).
        **attendance_objects.bodies(target or _fallback),
        # The statistics report (reporting, issue 26).
        **reporting_objects.bodies(target or _fallback),
        # Identity (issue 21).
        **identity_objects.bodies(target or _fallback),
        # Federation (issue 25).
        **federation_objects.bodies(target or _fallback),
    }
    if route.method not in ("POST", "PATCH"):
        return None
    if route.function not in bodies:
        raise AssertionError(f"no test body for the API endpoint {route.function}: add one")
    return bodies[route.function]()


_fallback: Any = None
_far: Any = None


def _transfer_child() -> dict[str, Any]:
    return {"student_number": _far.student.reveal_student_number(), "name": _far.student.name}


# API endpoints that take a file (multipart/form-data) rather than JSON.
MULTIPART = (
    {"upload_import", "accounts_from_sheet"}
    | welfare_objects.MULTIPART
    | attendance_objects.MULTIPART
    | identity_objects.MULTIPART
)

# API endpoints whose object travels in the body, not the URL.
BODY_OBJECTS = {
    "register_school",
    "plan_run",
    "admit_graduates",
    "register_student",
    "lookup_student",
    "change_file_request",
    "issue_certificate",
    "teaching_add",
} | welfare_objects.BODY_OBJECTS


def _places(route: Route, actor: Actor) -> list[tuple[Place | None, bool | None]]:
    """(object place, inside?) pairs to try: None when the route names no object."""
    named = bool(_object_params(route)) or route.function in BODY_OBJECTS
    if not named:
        return [(None, None)]
    pairs: list[tuple[Place | None, bool | None]] = []
    if actor.inside is not None:
        pairs.append((actor.inside, True))
    pairs += [(place, False) for place in actor.outside]
    return pairs


def _division_visible(actor: Actor, place: Place) -> bool:
    """Divisions are reference data: a school and the nation see them all, a bureau its own."""
    if actor.level in ("school", "nation"):
        return True
    digits = {"county": 6, "city": 4, "province": 2}[actor.level or ""]
    own = {"county": "440304", "city": "440300", "province": "440000"}[actor.level or ""]
    return place.county.code[:digits] == own[:digits]


def _province_visible(actor: Actor, place: Place) -> bool:
    """Closed periods and province rules: the nation sees and sets every province's, everyone
    else only their own province's (every user of the world but the nation's is in 广东)."""
    return actor.level == "nation" or place.county.code[:2] == "44"


def _expected(route: Route, actor: Actor, place: Place | None, inside: bool | None) -> bool:
    assert route.action is not None
    if actor.role is None:
        return False
    if not allowed(actor.role, route.action, actor.level):
        return False
    if place is None:
        return True
    if "code" in route.params:
        return _division_visible(actor, place)
    if "period_id" in route.params or "province_code" in route.params:
        return _province_visible(actor, place)
    return bool(inside)


def _request(client: Any, route: Route, url: str, body: dict[str, Any] | None) -> Any:
    with transaction.atomic():
        if route.kind == "api" and route.function in MULTIPART:
            upload = SimpleUploadedFile("students.csv", "姓名\r\n".encode("utf-8-sig"))
            response = client.client.post(
                url, {**(body or {}), "file": upload}, headers=client._headers()
            )
        elif route.kind == "api" and route.method == "PATCH":
            response = client.client.patch(
                url, body or {}, content_type="application/json", headers=client._headers()
            )
        elif route.kind == "api":
            response = client.post(url, body or {}) if route.method == "POST" else client.get(url)
        else:
            response = client.get(url)
            if response.status_code == 405:
                response = client.post(url, {})
        transaction.set_rollback(True)
    return response


def test_every_role_against_every_page_and_endpoint(db: Any, capsys: Any) -> None:
    global _fallback, _far
    world = World()
    _fallback, _far = world.a, world.e
    routes = all_routes()
    failures = [
        f"{route} declares no action (@requires / @endpoint_requires)"
        for route in routes
        if route.action is None and route.name not in PUBLIC_API
    ]
    routes = [r for r in routes if r.action is not None]

    checked = 0
    for actor in world.actors:
        page_client = Client()
        page_client.force_login(actor.user)
        api_client = api_as(actor.user, language="en")
        for route in routes:
            for place, inside in _places(route, actor):
                if actor.role is None and place is None:
                    continue  # without a role nothing is shown; objects are checked below
                url = _url(route, place, actor)
                client = api_client if route.kind == "api" else page_client
                response = _request(client, route, url, _api_body(route, place))
                status = response.status_code
                expected = _expected(route, actor, place, inside)
                refused = status in (403, 404)
                ok = (not refused and status < 500 and status != 401) if expected else refused
                checked += 1
                if not ok:
                    failures.append(
                        f"{actor.name}: {route} {url} → {status}, expected "
                        f"{'allowed' if expected else 'refused'}"
                        f"{'' if place is None else (' (inside)' if inside else ' (outside)')}"
                    )
    with capsys.disabled():
        print(
            f"\npermission matrix: {checked} combinations checked "
            f"({len(world.actors)} users × {len(routes)} pages and endpoints × objects in and "
            "out of scope)"
        )
    assert not failures, f"{len(failures)} of {checked} combinations wrong:\n" + "\n".join(failures)


# ---- the paths to more rights than one holds (issue 19) ------------------------------------------


def test_no_path_leads_to_more_rights_than_the_user_holds(db: Any) -> None:
    """Every way one might give oneself or another more than one may is refused: a county
    creating an administrator or an auditor, a registrar creating a bureau account, anyone
    giving their own account a role, a city bureau creating an account in another city, the
    system administrator creating accounts or reading the audit trail; nothing is written."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from xueji.access.models import Membership
    from xueji.accounts.administration.services import AccountData, account_create
    from xueji.core.errors import FieldErrors
    from xueji.geo.models import Division
    from xueji.testing.factories import member

    world = World()
    users = get_user_model().objects
    county = world.by_level[("bureau_approver", "county")]
    city = world.by_level[("bureau_approver", "city")]
    admin = world.by_level[("admin", "nation")]
    registrar = world.registrars["a"]

    def create(actor: Any, **body: Any) -> int:
        return api_as(actor).post("/api/accounts/", {"name": "越权", **body}).status_code

    for role in ("admin", "auditor", "security_admin"):
        assert create(county, login_name=f"c_{role}", role=role, division_code="440304") == 400
        assert not users.filter(username=f"c_{role}").exists()
    for role in ("bureau_viewer", "bureau_approver"):
        assert create(registrar, login_name=f"r_{role}", role=role, division_code="440304") == 403
    guangzhou_school = world.d.school.code
    assert create(city, login_name="gz_reg", role="registrar", school_code=guangzhou_school) == 400
    assert create(city, login_name="gz_view", role="bureau_viewer", division_code="440106") == 400
    futian_school = world.a.school.code
    assert create(admin, login_name="a_reg", role="registrar", school_code=futian_school) == 403
    assert not users.filter(username__in=["r_bureau_viewer", "gz_reg", "gz_view", "a_reg"]).exists()

    # Nobody gives their own account a role, on the API or the page.
    for actor in world.actors:
        if actor.role is None:
            continue
        wanted = {"name": "我", "role": "security_admin", "division_code": ""}
        answer = api_as(actor.user).post(f"/api/accounts/{actor.user.pk}", wanted)
        assert answer.status_code in (403, 404), actor.name
        page = Client()
        page.force_login(actor.user)
        answer = page.post(f"/accounts/{actor.user.pk}/edit/", wanted)
        assert answer.status_code in (403, 404), actor.name
        assert Membership.objects.get(user=actor.user).role == actor.role
    with pytest.raises(FieldErrors):
        account_create(
            actor=county,
            login_name="svc_admin",
            data=AccountData(name="x", role="admin", division_code="440304"),
        )

    # Nor lifts another account above what it may give: a county bureau editing a registrar
    # of its county into a bureau approver of the county or an administrator, on the API or
    # the page; nor through a sheet (school roles only); a county's security administrator
    # giving the separated duties; nobody resets their own second factor.
    target = world.registrars["a"]
    for role, place in (("bureau_approver", "440304"), ("admin", "440304"), ("auditor", "")):
        lifted = {"name": "越权", "role": role, "division_code": place}
        answer = api_as(county).post(f"/api/accounts/{target.pk}", lifted)
        assert answer.status_code == 400, (role, answer.content)
        page = Client()
        page.force_login(county)
        answer = page.post(f"/accounts/{target.pk}/edit/", lifted)
        assert answer.status_code in (200, 400), role
        assert Membership.objects.get(user=target).role == "registrar"
    sheet = _accounts_sheet(
        [
            [futian_school, "越权甲", "sheet_admin", "admin", ""],
            [futian_school, "越权乙", "sheet_bureau", "bureau_approver", ""],
            [futian_school, "越权丙", "sheet_auditor", "审计员", ""],
        ]
    )
    answer = api_as(county).client.post(
        "/api/accounts/sheet",
        {"create": "true", "file": sheet},
        headers=api_as(county)._headers(),
    )
    assert answer.status_code == 200 and not answer.json()["created"]
    assert {error["column"] for error in answer.json()["errors"]} >= {"角色"}
    security_county = member(
        "security_admin", division=Division.objects.get(code="440304"), username="sec_county"
    )
    for role in ("security_admin", "admin", "auditor"):
        body = {"login_name": f"s_{role}", "role": role, "division_code": "440304"}
        assert create(security_county, **body) == 400, role
    assert not users.filter(username__startswith="sheet_").exists()
    assert not users.filter(username__in=["s_security_admin", "s_admin", "s_auditor"]).exists()
    for actor in world.actors:
        if actor.role is None:
            continue
        own = f"/api/accounts/{actor.user.pk}/second-factor"
        assert api_as(actor.user).post(f"{own}/reset", {}).status_code in (403, 404), actor.name
        assert api_as(actor.user).post(f"{own}/code", {}).status_code in (403, 404), actor.name

    # The system administrator reads no audit entry.
    page = Client()
    page.force_login(admin)
    assert page.get("/audit/").status_code == 403
    assert api_as(admin).get("/api/audit/entries").status_code == 403


def _accounts_sheet(rows: list[list[str]]) -> Any:
    """An .xlsx of the accounts sheet's columns with the given rows, as an upload."""
    import io

    import xlsxwriter

    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    sheet = book.add_worksheet()
    for number, values in enumerate([["学校标识码", "姓名", "登录名", "角色", "手机"], *rows]):
        for column, value in enumerate(values):
            sheet.write_string(number, column, value)
    book.close()
    return SimpleUploadedFile("accounts.xlsx", output.getvalue())


# ---- the drill-down of statistics (issue 20, item 16) -------------------------------------------


def test_the_drill_down_goes_no_further_than_the_users_area(db: Any) -> None:
    """省 → 市 → 区县 → 学校, on the page and the API, for every role that sees schools: a county
    bureau cannot drill into another county (nor up into its city), a city not into another
    city's county, a province not into another province; a school role sees its own school's
    classes and no other school, whether asked by scope, by division code or by school code."""
    from django.test import Client

    from xueji.access.policy import Action

    world = World()
    areas = {
        "county:440304": "440304",
        "county:440305": "440305",
        "county:440106": "440106",
        "county:110105": "110105",
        "city:440300": "4403",
        "province:440000": "44",
        "440305": "440305",
        world.a.school.code: "school:a",
        world.b.school.code: "school:b",
        f"school:{world.b.school.pk}": "school:b",
    }
    own = {
        "school": {"school:a"},
        "county": {"440304", "school:a", "school:b"},
        "city": {"440304", "440305", "4403", "school:a", "school:b"},
        "province": {"440304", "440305", "440106", "4403", "44", "school:a", "school:b"},
    }
    failures = []
    for actor in world.actors:
        if actor.role is None or not allowed(actor.role, Action.SCHOOL_VIEW, actor.level):
            continue
        page = Client()
        page.force_login(actor.user)
        api = api_as(actor.user)
        home = page.get("/stats/areas/").content.decode()
        names = {place.school.name for place in world.places if place.school.name in home}
        expected = {world.a.school.name}
        if actor.level == "county":
            expected.add(world.b.school.name)
        if actor.level in ("school", "county") and names != expected:
            failures.append(f"{actor.name}: the drill-down shows {sorted(names)}")
        for scope, key in areas.items():
            visible = actor.level == "nation" or key in own[actor.level or ""]
            for kind, status in (
                ("page", page.get("/stats/areas/", {"scope": scope}).status_code),
                ("api", api.get("/api/stats/areas", {"scope": scope}).status_code),
            ):
                if (status == 200) != visible or status not in (200, 404):
                    failures.append(f"{actor.name}: {kind} {scope} → {status}")
    assert not failures, "\n".join(failures)
